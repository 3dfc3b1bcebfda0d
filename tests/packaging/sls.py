"""Runs osls (``npx sls``) for the packaging tests: offline, without AWS credentials."""

import fcntl
import hashlib
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")
PACKAGE_TIMEOUT_SECONDS = 600


def sls_environment() -> dict[str, str]:
    """The caller's environment without AWS credentials or endpoints, and a quiet osls."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(SLS_TELEMETRY_DISABLED="1", SLS_NOTIFICATIONS_MODE="off")
    return env


def run_sls(*args: str, timeout: int = PACKAGE_TIMEOUT_SECONDS) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npx", "--no-install", "sls", *args],
        cwd=ROOT,
        env=sls_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass(frozen=True)
class PackagedStage:
    stage: str
    directory: Path
    template: dict[str, Any]
    seconds: float

    @property
    def template_path(self) -> Path:
        return self.directory / "cloudformation-template-update-stack.json"

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.template["Resources"]
        return resources

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources.items() if r["Type"] == resource_type}


@contextmanager
def package_lock() -> Iterator[None]:
    """One `sls package` at a time per checkout.

    osls builds in the service's own `.serverless/` (wiping it first) and only then copies the
    result to `--package`, so two packaging runs in one checkout at once (say, two pytest
    sessions) would destroy each other's artifacts.
    """
    digest = hashlib.sha256(str(ROOT).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"kestrel-sls-package-{digest}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def package_stage(stage: str, directory: Path) -> PackagedStage:
    with package_lock():
        started = time.monotonic()
        result = run_sls("package", "--stage", stage, "--package", str(directory))
        seconds = time.monotonic() - started
    if result.returncode != 0:
        pytest.fail(
            f"sls package --stage {stage} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    template = json.loads((directory / "cloudformation-template-update-stack.json").read_text())
    return PackagedStage(stage=stage, directory=directory, template=template, seconds=seconds)
