"""Reports: the aggregates the rollup worker keeps, its outbox, and crawled pages' on-page facts.

* ``gsc_query_page_daily`` / ``gsc_query_page_weekly``: clicks, impressions and
  impression-weighted position per property, day (or ISO week, keyed by its
  Monday), search type, query and page, summed over country and device. Hash
  partitioned by property into 64 like ``gsc_rows``, so a property's rollup and
  its reports touch one partition of each. Reports read whole weeks from the
  weekly table and the days at either end from the daily one.
* ``gsc_page_weekly``: per page and week, with ``clicks_4w``, the clicks of the
  four weeks ending with it (a 28-day window), for content decay.
* ``gsc_dimension_daily``: per day, search type, country and device.
* ``gsc_rollup_pending``: the days of a property whose rows changed and whose
  aggregates are not yet rebuilt. gsc_ingest writes it in its load
  transaction (an outbox: no message can be lost), the rollup worker empties
  it. ``kestrel_rollup_backlog()`` lets the nightly schedule find properties
  with pending days across tenants (identifiers only).
* ``crawled_pages``: a page's title and H1 once crawled (striking distance).
* ``gsc_export_snapshots.job_id`` becomes NULL when its job is deleted.

Existing data: every loaded day is queued for the rollup.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.tenancy import (
    APP_ROLE,
    create_hash_partitions,
    property_fk,
    protect_tenant_table,
    unprotect_tenant_table,
)

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTITIONS = 64  # as gsc_rows: a property's aggregates live in the partition of the same number
PARTITIONED = ("gsc_query_page_daily", "gsc_query_page_weekly")
TABLES = (*PARTITIONED, "gsc_page_weekly", "gsc_dimension_daily", "gsc_rollup_pending", "crawled_pages")
SCHEDULER_ROLE = "kestrel_sync_scheduler"  # from 0003: the role of the schedules' cross-tenant functions
SEARCH_TYPES = "search_type IN ('web', 'image', 'video', 'news', 'discover', 'googleNews')"


def _measures() -> list[sa.Column[object]]:
    return [
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("position_weighted", sa.Double(), nullable=False),
    ]


def _query_page_table(table: str, period: str) -> None:
    op.create_table(
        table,
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("property_id", sa.UUID(), nullable=False),
        sa.Column(period, sa.Date(), nullable=False),
        sa.Column("search_type", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("page", sa.Text(), nullable=False),
        *_measures(),
        sa.CheckConstraint(SEARCH_TYPES, name=op.f(f"ck_{table}_search_type")),
        property_fk(table),
        sa.PrimaryKeyConstraint("property_id", period, "search_type", "query", "page", name=op.f(f"pk_{table}")),
        postgresql_partition_by="HASH (property_id)",
    )
    # Tracked keywords look a few queries up over a range of days.
    op.create_index(op.f(f"ix_{table}_property_id_query_{period}"), table, ["property_id", "query", period])
    create_hash_partitions(table, PARTITIONS)  # as for gsc_rows: the forced policy on each, no grants


def upgrade() -> None:
    _query_page_table("gsc_query_page_daily", "date")
    _query_page_table("gsc_query_page_weekly", "week")
    op.create_table(
        "gsc_page_weekly",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("property_id", sa.UUID(), nullable=False),
        sa.Column("search_type", sa.Text(), nullable=False),
        sa.Column("page", sa.Text(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        *_measures(),
        sa.Column("clicks_4w", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(SEARCH_TYPES, name=op.f("ck_gsc_page_weekly_search_type")),
        property_fk("gsc_page_weekly"),
        sa.PrimaryKeyConstraint("property_id", "search_type", "page", "week", name=op.f("pk_gsc_page_weekly")),
    )
    op.create_table(
        "gsc_dimension_daily",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("property_id", sa.UUID(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("search_type", sa.Text(), nullable=False),
        sa.Column("country", sa.Text(), nullable=False),
        sa.Column("device", sa.Text(), nullable=False),
        *_measures(),
        sa.CheckConstraint(SEARCH_TYPES, name=op.f("ck_gsc_dimension_daily_search_type")),
        property_fk("gsc_dimension_daily"),
        sa.PrimaryKeyConstraint(
            "property_id", "date", "search_type", "country", "device", name=op.f("pk_gsc_dimension_daily")
        ),
    )
    op.create_table(
        "gsc_rollup_pending",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("property_id", sa.UUID(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        property_fk("gsc_rollup_pending"),
        sa.PrimaryKeyConstraint("property_id", "date", name=op.f("pk_gsc_rollup_pending")),
    )
    op.create_table(
        "crawled_pages",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("h1", sa.Text(), nullable=True),
        sa.Column("crawled_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "project_id"],
            ["projects.tenant_id", "projects.id"],
            name=op.f("fk_crawled_pages_tenant_id_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "url", name=op.f("pk_crawled_pages")),
    )

    # Every day loaded so far is queued for the rollup. The owner is subject to the forced policy on
    # gsc_daily_rollup; lifting FORCE for this one statement happens inside the migration's transaction.
    op.execute("ALTER TABLE gsc_daily_rollup NO FORCE ROW LEVEL SECURITY")
    op.execute(
        "INSERT INTO gsc_rollup_pending (tenant_id, property_id, date)"
        " SELECT DISTINCT tenant_id, property_id, date FROM gsc_daily_rollup"
    )
    op.execute("ALTER TABLE gsc_daily_rollup FORCE ROW LEVEL SECURITY")

    for table in TABLES:
        protect_tenant_table(table)

    # The nightly schedule's window onto the backlog: which properties have pending days, nothing more.
    op.execute(f"GRANT SELECT (tenant_id, property_id) ON gsc_rollup_pending TO {SCHEDULER_ROLE}")
    op.execute(f"CREATE POLICY rollup_scheduler ON gsc_rollup_pending FOR SELECT TO {SCHEDULER_ROLE} USING (true)")
    op.execute(
        """
        CREATE FUNCTION kestrel_rollup_backlog()
        RETURNS TABLE (tenant_id text, property_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
        AS $$
          SELECT DISTINCT r.tenant_id, r.property_id FROM gsc_rollup_pending r ORDER BY r.tenant_id, r.property_id
        $$
        """
    )
    op.execute(f"GRANT {SCHEDULER_ROLE} TO CURRENT_USER")
    op.execute(f"GRANT CREATE ON SCHEMA public TO {SCHEDULER_ROLE}")
    op.execute(f"ALTER FUNCTION kestrel_rollup_backlog() OWNER TO {SCHEDULER_ROLE}")
    op.execute(f"REVOKE CREATE ON SCHEMA public FROM {SCHEDULER_ROLE}")
    op.execute("REVOKE ALL ON FUNCTION kestrel_rollup_backlog() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION kestrel_rollup_backlog() TO {APP_ROLE}")

    op.drop_constraint("fk_gsc_export_snapshots_tenant_id_job_id_jobs", "gsc_export_snapshots", type_="foreignkey")
    op.execute(
        "ALTER TABLE gsc_export_snapshots ADD CONSTRAINT fk_gsc_export_snapshots_tenant_id_job_id_jobs"
        " FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id) ON DELETE SET NULL (job_id)"
    )


def downgrade() -> None:
    op.drop_constraint("fk_gsc_export_snapshots_tenant_id_job_id_jobs", "gsc_export_snapshots", type_="foreignkey")
    op.create_foreign_key(
        "fk_gsc_export_snapshots_tenant_id_job_id_jobs",
        "gsc_export_snapshots",
        "jobs",
        ["tenant_id", "job_id"],
        ["tenant_id", "id"],
    )
    op.execute("DROP FUNCTION kestrel_rollup_backlog()")
    op.execute("DROP POLICY rollup_scheduler ON gsc_rollup_pending")
    op.execute(f"REVOKE ALL ON gsc_rollup_pending FROM {SCHEDULER_ROLE}")
    for table in TABLES:
        unprotect_tenant_table(table)
    for table in reversed(TABLES):
        op.drop_table(table)  # dropping a partitioned table drops its partitions
