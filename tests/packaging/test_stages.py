"""Only dev and prod deploy (and local packages for the local stack); anything else fails clearly."""

import pytest

from tests.packaging.sls import run_sls

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(300)]


def test_unknown_stage_fails_with_a_clear_message() -> None:
    result = run_sls("print", "--stage", "qa", timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert 'Unknown stage "qa": Kestrel deploys only dev and prod (and local for the local stack)' in output


def test_local_stage_resolves_with_dev_parameters() -> None:
    result = run_sls("print", "--stage", "local", "--format", "json", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"stage": "local"' in result.stdout or '"stage":"local"' in result.stdout
