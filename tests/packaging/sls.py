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

    @property
    def template_path(self) -> Path:
        return self.directory / "cloudformation-template-update-stack.json"

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
    if result.returncode != 0:
        pytest.fail(
            f"sls package --stage {stage} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    template = json.loads((directory / "cloudformation-template-update-stack.json").read_text())
    return PackagedStage(stage=stage, directory=directory, template=template, seconds=seconds)
