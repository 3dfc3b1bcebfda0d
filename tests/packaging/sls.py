"""Runs osls (``npx sls``) for the packaging tests: offline, without AWS credentials."""

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kestrel_local import sls as kestrel_sls
from kestrel_local.sls import PACKAGE_TIMEOUT_SECONDS

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")


def run_sls(*args: str, timeout: int = PACKAGE_TIMEOUT_SECONDS) -> subprocess.CompletedProcess[str]:
    return kestrel_sls.run_sls(*args, cwd=ROOT, timeout=timeout)


@dataclass(frozen=True)
class PackagedStage:
    stage: str
    directory: Path
    template: dict[str, Any]
    seconds: float
    # serverless.yml as osls resolves it for the stage (`sls print`): params, ${...} and !Ref resolved,
    # before the plugins add anything. The tests read the numbers they check from here.
    config: dict[str, Any]

    @property
    def template_path(self) -> Path:
        return self.directory / "cloudformation-template-update-stack.json"

    @property
    def functions(self) -> dict[str, dict[str, Any]]:
        """serverless.yml's functions by name."""
        functions: dict[str, dict[str, Any]] = self.config["functions"]
        return functions

    @property
    def params(self) -> dict[str, Any]:
        """The stage's params, over the defaults."""
        params: dict[str, dict[str, Any]] = self.config["params"]
        return {**params.get("default", {}), **params[self.stage]}

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.template["Resources"]
        return resources

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources.items() if r["Type"] == resource_type}


def package_stage(stage: str, directory: Path) -> PackagedStage:
    with kestrel_sls.package_lock(ROOT):
        started = time.monotonic()
        result = run_sls("package", "--stage", stage, "--package", str(directory))
        seconds = time.monotonic() - started
        printed = run_sls("print", "--stage", stage, "--format", "json", timeout=300)
    for command, outcome in (("package", result), ("print", printed)):
        if outcome.returncode != 0:
            pytest.fail(
                f"sls {command} --stage {stage} failed ({outcome.returncode}):\n"
                f"{outcome.stdout[-4000:]}\n{outcome.stderr[-4000:]}"
            )
    template = json.loads((directory / "cloudformation-template-update-stack.json").read_text())
    config = json.loads(printed.stdout)
    return PackagedStage(stage=stage, directory=directory, template=template, seconds=seconds, config=config)
