"""Rank tracking: DataForSEO tasks and their costs, SERP snapshots and items, screenshots, the daily schedule.

* ``keywords.active`` (only active keywords are checked) and ``projects.rank_depth``
  (results checked per keyword: 10 to 100, by tens); keywords gain a unique
  ``(tenant_id, project_id, id)`` for the rank tables to reference (through the
  partition key, so a keyword's cascade prunes to one partition).
* ``rank_budgets``: a tenant's monthly DataForSEO budget and daily live checks
  (no row: the settings' defaults).
* ``rank_tasks``: one DataForSEO task each (its ``tag`` is the row's id), one
  standard task per keyword and day, and the cost ledger (``cost`` per task).
* ``serp_snapshots`` / ``serp_items``: a keyword's SERP on a day and every item
  of it, hash-partitioned by project into 64 like ``gsc_rows``.
* ``screenshots``: what serp_screenshot stored in S3.
* ``kestrel_rank_projects()``: the daily schedule's window onto projects with
  active keywords (identifiers only), like the crawl's and the sync's.

Every table is a tenant table under the forced policy; each partition carries it
too and is reachable only through its parent.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.tenancy import APP_ROLE, create_hash_partitions, protect_tenant_table, unprotect_tenant_table

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTITIONS = 64  # as gsc_rows: a project's rows live in one partition of each table
TABLES = ("rank_budgets", "rank_tasks", "serp_snapshots", "serp_items", "screenshots")
SCHEDULER_ROLE = "kestrel_sync_scheduler"  # from 0003: the role of the schedules' cross-tenant functions

RANK_PROJECTS = """
CREATE FUNCTION kestrel_rank_projects()
RETURNS TABLE (tenant_id text, project_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT DISTINCT k.tenant_id, k.project_id FROM keywords k WHERE k.active ORDER BY k.tenant_id, k.project_id
$$
"""


def _project_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "project_id"],
        ["projects.tenant_id", "projects.id"],
        name=op.f(f"fk_{table}_tenant_id_project_id_projects"),
        ondelete="CASCADE",
    )


def _keyword_fk(table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "project_id", "keyword_id"],
        ["keywords.tenant_id", "keywords.project_id", "keywords.id"],
        name=op.f(f"fk_{table}_tenant_id_project_id_keyword_id_keywords"),
        ondelete=ondelete,
    )


def _snapshot_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "project_id", "snapshot_id"],
        ["serp_snapshots.tenant_id", "serp_snapshots.project_id", "serp_snapshots.id"],
        name=op.f(f"fk_{table}_tenant_id_project_id_snapshot_id_serp_snapshots"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.add_column("keywords", sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False))
    op.create_unique_constraint(
        op.f("uq_keywords_tenant_id_project_id_id"), "keywords", ["tenant_id", "project_id", "id"]
    )
    op.add_column("projects", sa.Column("rank_depth", sa.Integer(), server_default=sa.text("10"), nullable=False))
    # autogenerate does not see a new check constraint on an existing table
    op.create_check_constraint(
        op.f("ck_projects_rank_depth"), "projects", "rank_depth BETWEEN 10 AND 100 AND rank_depth % 10 = 0"
    )
    op.create_table(
        "rank_budgets",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("monthly_budget_usd", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("live_checks_per_day", sa.Integer(), nullable=False),
        sa.CheckConstraint("monthly_budget_usd >= 0 AND live_checks_per_day >= 0", name=op.f("ck_rank_budgets_limits")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.tenant_id"], name=op.f("fk_rank_budgets_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_rank_budgets")),
    )
    op.create_table(
        "rank_tasks",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("keyword_id", sa.UUID(), nullable=False),
        sa.Column("check_date", sa.Date(), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("provider_task_id", sa.Text(), nullable=True),
        sa.Column("job_id", sa.UUID(), nullable=True),
        sa.Column("cost", sa.Numeric(precision=12, scale=6), server_default=sa.text("0"), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("mode IN ('standard', 'live')", name=op.f("ck_rank_tasks_mode")),
        sa.CheckConstraint("status IN ('pending', 'posted', 'collected', 'failed')", name=op.f("ck_rank_tasks_status")),
        sa.CheckConstraint("depth BETWEEN 10 AND 100 AND depth % 10 = 0", name=op.f("ck_rank_tasks_depth")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "job_id"],
            ["jobs.tenant_id", "jobs.id"],
            name=op.f("fk_rank_tasks_tenant_id_job_id_jobs"),
            ondelete="SET NULL (job_id)",
        ),
        _keyword_fk("rank_tasks", "CASCADE"),
        _project_fk("rank_tasks"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rank_tasks")),
        sa.UniqueConstraint("provider_task_id", name=op.f("uq_rank_tasks_provider_task_id")),
    )
    # One daily check per keyword and day, whatever the redeliveries of the day's post.
    op.create_index(
        "ix_rank_tasks_daily",
        "rank_tasks",
        ["keyword_id", "check_date"],
        unique=True,
        postgresql_where=sa.text("mode = 'standard'"),
    )
    op.create_index(op.f("ix_rank_tasks_job_id"), "rank_tasks", ["job_id"])
    op.create_index(
        op.f("ix_rank_tasks_project_id_status_check_date"), "rank_tasks", ["project_id", "status", "check_date"]
    )
    op.create_index(op.f("ix_rank_tasks_tenant_id_mode_created_at"), "rank_tasks", ["tenant_id", "mode", "created_at"])
    op.create_index(op.f("ix_rank_tasks_tenant_id_posted_at"), "rank_tasks", ["tenant_id", "posted_at"])
    op.create_table(
        "serp_snapshots",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("keyword_id", sa.UUID(), nullable=False),
        sa.Column("check_date", sa.Date(), nullable=False),
        sa.Column("device", sa.Text(), nullable=False),
        sa.Column("location_code", sa.Integer(), nullable=False),
        sa.Column("language_code", sa.Text(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("rank_task_id", sa.UUID(), nullable=True),
        sa.Column("provider_task_id", sa.Text(), nullable=True),
        sa.Column("check_url", sa.Text(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("se_results_count", sa.BigInteger(), nullable=True),
        sa.Column("items_count", sa.Integer(), nullable=False),
        sa.Column("item_types", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("rank_absolute", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("features_present", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("features_owned", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.CheckConstraint("device IN ('desktop', 'mobile')", name=op.f("ck_serp_snapshots_device")),
        sa.CheckConstraint("position IS NULL OR position > 0", name=op.f("ck_serp_snapshots_position")),
        _keyword_fk("serp_snapshots", "CASCADE"),
        _project_fk("serp_snapshots"),
        sa.PrimaryKeyConstraint("project_id", "id", name=op.f("pk_serp_snapshots")),
        sa.UniqueConstraint(
            "project_id", "keyword_id", "check_date", name=op.f("uq_serp_snapshots_project_id_keyword_id_check_date")
        ),
        sa.UniqueConstraint("tenant_id", "project_id", "id", name=op.f("uq_serp_snapshots_tenant_id_project_id_id")),
        postgresql_partition_by="HASH (project_id)",
    )
    create_hash_partitions("serp_snapshots", PARTITIONS)
    op.create_table(
        "serp_items",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("snapshot_id", sa.UUID(), nullable=False),
        sa.Column("item_index", sa.Integer(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("rank_group", sa.Integer(), nullable=True),
        sa.Column("rank_absolute", sa.Integer(), nullable=True),
        sa.Column("domain", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("known", sa.Boolean(), nullable=False),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        _snapshot_fk("serp_items"),
        sa.PrimaryKeyConstraint("project_id", "snapshot_id", "item_index", name=op.f("pk_serp_items")),
        postgresql_partition_by="HASH (project_id)",
    )
    # Competitors: the domains ranking for a project's keywords.
    op.create_index(op.f("ix_serp_items_project_id_domain"), "serp_items", ["project_id", "domain"])
    create_hash_partitions("serp_items", PARTITIONS)
    op.create_table(
        "screenshots",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("snapshot_id", sa.UUID(), nullable=True),
        sa.Column("keyword_id", sa.UUID(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("variant", sa.Text(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("s3_key", sa.Text(), nullable=True),
        sa.Column("bytes", sa.Integer(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("captured_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('serp', 'page')", name=op.f("ck_screenshots_kind")),
        sa.CheckConstraint("status IN ('stored', 'failed')", name=op.f("ck_screenshots_status")),
        sa.CheckConstraint(
            "variant IN ('desktop_fold', 'desktop_full', 'mobile')", name=op.f("ck_screenshots_variant")
        ),
        _keyword_fk("screenshots", "SET NULL (keyword_id)"),
        _snapshot_fk("screenshots"),
        _project_fk("screenshots"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screenshots")),
    )
    # The project's screenshots, newest first (the list route's order and cursor).
    op.create_index(
        "ix_screenshots_project_id_captured_at_id",
        "screenshots",
        ["project_id", sa.literal_column("captured_at DESC"), "id"],
    )
    op.create_index(op.f("ix_screenshots_project_id_snapshot_id"), "screenshots", ["project_id", "snapshot_id"])
    for table in TABLES:
        protect_tenant_table(table)
    # The daily schedule lists projects with active keywords across tenants (identifiers only).
    op.execute(f"GRANT SELECT (tenant_id, project_id, active) ON keywords TO {SCHEDULER_ROLE}")
    op.execute(f"CREATE POLICY rank_scheduler ON keywords FOR SELECT TO {SCHEDULER_ROLE} USING (true)")
    op.execute(RANK_PROJECTS)
    op.execute(f"GRANT {SCHEDULER_ROLE} TO CURRENT_USER")
    op.execute(f"GRANT CREATE ON SCHEMA public TO {SCHEDULER_ROLE}")
    op.execute(f"ALTER FUNCTION kestrel_rank_projects() OWNER TO {SCHEDULER_ROLE}")
    op.execute(f"REVOKE CREATE ON SCHEMA public FROM {SCHEDULER_ROLE}")
    op.execute("REVOKE ALL ON FUNCTION kestrel_rank_projects() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION kestrel_rank_projects() TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION kestrel_rank_projects()")
    op.execute("DROP POLICY rank_scheduler ON keywords")
    op.execute(f"REVOKE SELECT (tenant_id, project_id, active) ON keywords FROM {SCHEDULER_ROLE}")
    for table in TABLES:
        unprotect_tenant_table(table)
    op.drop_index(op.f("ix_screenshots_project_id_snapshot_id"), table_name="screenshots")
    op.drop_index("ix_screenshots_project_id_captured_at_id", table_name="screenshots")
    op.drop_table("screenshots")
    op.drop_table("serp_items")  # dropping a partitioned table drops its partitions
    op.drop_table("serp_snapshots")
    op.drop_index(op.f("ix_rank_tasks_tenant_id_posted_at"), table_name="rank_tasks")
    op.drop_index(op.f("ix_rank_tasks_tenant_id_mode_created_at"), table_name="rank_tasks")
    op.drop_index(op.f("ix_rank_tasks_project_id_status_check_date"), table_name="rank_tasks")
    op.drop_index(op.f("ix_rank_tasks_job_id"), table_name="rank_tasks")
    op.drop_index("ix_rank_tasks_daily", table_name="rank_tasks", postgresql_where=sa.text("mode = 'standard'"))
    op.drop_table("rank_tasks")
    op.drop_table("rank_budgets")
    op.drop_constraint(op.f("ck_projects_rank_depth"), "projects", type_="check")
    op.drop_column("projects", "rank_depth")
    op.drop_constraint(op.f("uq_keywords_tenant_id_project_id_id"), "keywords", type_="unique")
    op.drop_column("keywords", "active")
