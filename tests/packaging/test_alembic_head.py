"""infra/alembic-head.js finds the Alembic head the DatabaseMigration custom resource carries."""

import json
import subprocess
from pathlib import Path

import pytest

from tests.packaging.sls import ROOT

pytestmark = pytest.mark.packaging

SCRIPT = "const {findHead} = require(process.argv[1]); console.log(JSON.stringify(findHead(process.argv[2])));"


def head_of(versions: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", "-e", SCRIPT, str(ROOT / "infra" / "alembic-head.js"), str(versions)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def write(versions: Path, name: str, body: str) -> None:
    versions.mkdir(parents=True, exist_ok=True)
    (versions / name).write_text(body)


def test_no_migrations_is_base(tmp_path: Path) -> None:
    assert json.loads(head_of(tmp_path / "missing").stdout) == "base"
    (tmp_path / "versions").mkdir()
    assert json.loads(head_of(tmp_path / "versions").stdout) == "base"


def test_linear_history_with_annotated_assignments(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    write(versions, "0001_a.py", 'revision: str = "0001"\ndown_revision: str | None = None\n')
    write(versions, "0002_b.py", "revision = '0002'\ndown_revision = '0001'\n")
    write(versions, "0003_c.py", 'revision: str = "0003"\ndown_revision: str | None = "0002"\n')
    assert json.loads(head_of(versions).stdout) == "0003"


def test_merge_revision_over_two_branches(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    write(versions, "a.py", 'revision = "a"\ndown_revision = None\n')
    write(versions, "b.py", 'revision = "b"\ndown_revision = "a"\n')
    write(versions, "c.py", 'revision = "c"\ndown_revision = "a"\n')
    write(versions, "m.py", 'revision = "m"\ndown_revision = (\n    "b",\n    "c",\n)\n')
    assert json.loads(head_of(versions).stdout) == "m"


def test_two_heads_fail(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    write(versions, "a.py", 'revision = "a"\ndown_revision = None\n')
    write(versions, "b.py", 'revision = "b"\ndown_revision = "a"\n')
    write(versions, "c.py", 'revision = "c"\ndown_revision = "a"\n')
    result = head_of(versions)
    assert result.returncode != 0
    assert "Expected exactly one Alembic head" in result.stderr


def test_the_repository_head_matches_alembic() -> None:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory(str(ROOT / "migrations")).get_heads()
    assert json.loads(head_of(ROOT / "migrations" / "versions").stdout) == (heads[0] if heads else "base")
