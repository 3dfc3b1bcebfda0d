"""Packaging the local stage: ``npx sls package --stage local``, cached by a hash of its inputs.

Only a change to serverless.yml, infra/, package-lock.json or the params packages
again (about a minute on this project); otherwise the cached template is read
back in milliseconds.
"""

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kestrel_local.sls import package_lock, run_sls

TEMPLATE_FILE = "cloudformation-template-update-stack.json"


def _template_inputs(project_root: Path) -> list[Path]:
    files = [project_root / "serverless.yml", project_root / "package-lock.json"]
    infra = project_root / "infra"
    if infra.is_dir():
        files += sorted(path for path in infra.rglob("*") if path.is_file() and "__pycache__" not in path.parts)
    return files


def template_cache_key(project_root: Path, params: Mapping[str, str]) -> str:
    """A hash of everything the packaged local template depends on."""
    digest = hashlib.sha256(b"kestrel-local-template-v1\0")
    for path in _template_inputs(project_root):
        digest.update(str(path.relative_to(project_root)).encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
        digest.update(b"\0")
    digest.update(json.dumps(dict(sorted(params.items()))).encode())
    return digest.hexdigest()[:32]


def package_local_template(project_root: Path, *, params: Mapping[str, str], cache_dir: Path) -> dict[str, Any]:
    """The local stage's CloudFormation template, packaged by osls once per change of its inputs."""
    key = template_cache_key(project_root, params)
    cached = cache_dir / f"template-{key}.json"
    if cached.exists():
        template: dict[str, Any] = json.loads(cached.read_text())
        return template
    package_dir = cache_dir / "package"
    arguments = ["package", "--stage", "local", "--package", str(package_dir)]
    arguments += [f"--param={name}={value}" for name, value in sorted(params.items())]
    with package_lock(project_root):
        result = run_sls(*arguments, cwd=project_root)
    if result.returncode != 0:
        raise RuntimeError(
            f"sls package --stage local failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    template = json.loads((package_dir / TEMPLATE_FILE).read_text())
    cache_dir.mkdir(parents=True, exist_ok=True)
    for stale in cache_dir.glob("template-*.json"):
        stale.unlink()
    temporary = cached.with_suffix(".tmp")
    temporary.write_text(json.dumps(template))
    temporary.replace(cached)
    return template
