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


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic ``include_name`` filter: table partitions are created by migrations but are not models."""
    return not (type_ == "table" and name is not None and _PARTITION_NAME.match(name))
