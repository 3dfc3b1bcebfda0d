"""The whole database schema: every domain's tables, and what is derived from them.

Alembic compares the migrations with ``metadata`` (a test does too). The lists
of tenant tables and hash-partitioned tables are read off the tables
themselves, never kept by hand.
"""

import re
from typing import Any

from shared.crawl import tables as crawl_tables
from shared.jobs import tables as jobs_tables
from shared.nlp import tables as nlp_tables
from shared.orm import Base
from shared.projects import tables as projects_tables
from shared.ranks import tables as ranks_tables
from shared.reports import tables as reports_tables
from shared.runtime import tables as runtime_tables
from shared.search_console import tables as search_console_tables
from shared.tenancy import tables as tenancy_tables

DOMAIN_TABLES = (
    tenancy_tables,
    projects_tables,
    jobs_tables,
    runtime_tables,
    search_console_tables,
    reports_tables,
    crawl_tables,
    nlp_tables,
    ranks_tables,
)
"""Every module that declares tables (importing them registers the tables on ``Base.metadata``)."""

metadata = Base.metadata

TENANT_TABLES: tuple[str, ...] = tuple(table.name for table in metadata.sorted_tables if "tenant_id" in table.c)
"""Tables holding tenant data: each has RLS enabled and forced on ``tenant_id``."""

PARTITIONED_TABLES: tuple[str, ...] = tuple(
    table.name for table in metadata.sorted_tables if table.dialect_options["postgresql"].get("partition_by")
)
"""Tables hash-partitioned by the migrations (``<table>_p00`` .. ``<table>_p63``)."""

_PARTITION_NAME = re.compile(rf"^({'|'.join(map(re.escape, PARTITIONED_TABLES))})_p\d{{2}}$")


_PARTITION_REFERENCE = re.compile(r"^(?!fk_).*_fkey\d*$")
"""A reference to a partitioned table is one constraint per partition in the catalog, named by the server
(``screenshots_tenant_id_project_id_snapshot_id_fkey12``); ours are all named ``fk_...`` by convention."""


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic ``include_name`` filter: table partitions, and the per-partition halves of a reference to a
    partitioned table, are made by the migrations and the server but are not models."""
    if name is None:
        return True
    if type_ == "table":
        return not _PARTITION_NAME.match(name)
    if type_ == "foreign_key_constraint":
        return not _PARTITION_REFERENCE.match(name)
    return True
