"""cfn-lint finds nothing in the packaged templates (ignored checks: .cfnlintrc.yaml, with reasons)."""

import subprocess
import sys

import pytest

from tests.packaging.sls import ROOT, PackagedStage

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]

# The cfn-lint console script, run by this interpreter (cfnlint has no __main__ module).
CFN_LINT = "import sys; from cfnlint.runner import main; sys.argv[0] = 'cfn-lint'; sys.exit(main())"


def test_cfn_lint_reports_nothing(pkg: PackagedStage) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            CFN_LINT,
            "--config-file",
            str(ROOT / ".cfnlintrc.yaml"),
            "--format",
            "parseable",
            "--",
            str(pkg.template_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"cfn-lint ({pkg.stage}):\n{result.stdout}\n{result.stderr}"
    assert result.stdout.strip() == ""
