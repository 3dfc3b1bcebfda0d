"""Every tables module registers the tables its foreign keys name, so a Lambda that imports only its own domain
can flush rows: an unresolved reference fails the ORM's first flush (``NoReferencedTableError``), which no suite
that imports every table at once would notice (nlp_entities' first run under `kestrel up` did)."""

import subprocess
import sys

import pytest

from shared.schema import DOMAIN_TABLES
from tests.support.services import ROOT

CHECK = """
import importlib, sys
importlib.import_module(sys.argv[1])
from shared.orm import Base
for table in Base.metadata.tables.values():
    for key in table.foreign_keys:
        key.column  # resolves the referenced table, or raises
"""


@pytest.mark.parametrize("module", [module.__name__ for module in DOMAIN_TABLES])
def test_a_tables_module_alone_resolves_its_foreign_keys(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK, module], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
