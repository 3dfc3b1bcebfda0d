"""Reports: the preset date ranges of each property, pre-aggregated.

Dashboards ask mostly for Search Console's preset ranges ending on the latest
day with data: the last 7, 28 or 90 days, and the same number of days before
(their comparison). Summing whole weeks and edge days for such a range still
reads every query-page row of every week; ``gsc_query_page_window`` holds each
preset range summed once per query and page, rebuilt by the rollup whenever it
runs. ``gsc_rollup_windows`` records which ranges are built, so a report over
exactly such a range reads it and any other range falls back to weeks and days.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.tenancy import create_hash_partitions, property_fk, protect_tenant_table, unprotect_tenant_table

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTITIONS = 64  # as gsc_rows and the query x page aggregates
TABLES = ("gsc_query_page_window", "gsc_rollup_windows")
SEARCH_TYPES = "search_type IN ('web', 'image', 'video', 'news', 'discover', 'googleNews')"


def upgrade() -> None:
    op.create_table(
        "gsc_rollup_windows",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("property_id", sa.UUID(), nullable=False),
        sa.Column("search_type", sa.Text(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(SEARCH_TYPES, name=op.f("ck_gsc_rollup_windows_search_type")),
        sa.CheckConstraint("window_start <= window_end", name=op.f("ck_gsc_rollup_windows_range")),
        property_fk("gsc_rollup_windows"),
        sa.PrimaryKeyConstraint(
            "property_id", "search_type", "window_end", "window_start", name=op.f("pk_gsc_rollup_windows")
        ),
    )
    op.create_table(
        "gsc_query_page_window",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("property_id", sa.UUID(), nullable=False),
        sa.Column("search_type", sa.Text(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("page", sa.Text(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("position_weighted", sa.Double(), nullable=False),
        sa.CheckConstraint(SEARCH_TYPES, name=op.f("ck_gsc_query_page_window_search_type")),
        property_fk("gsc_query_page_window"),
        sa.PrimaryKeyConstraint(
            "property_id",
            "search_type",
            "window_end",
            "window_start",
            "query",
            "page",
            name=op.f("pk_gsc_query_page_window"),
        ),
        postgresql_partition_by="HASH (property_id)",
    )
    create_hash_partitions("gsc_query_page_window", PARTITIONS)
    for table in TABLES:
        protect_tenant_table(table)


def downgrade() -> None:
    for table in TABLES:
        unprotect_tenant_table(table)
    op.drop_table("gsc_query_page_window")
    op.drop_table("gsc_rollup_windows")
