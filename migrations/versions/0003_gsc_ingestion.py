"""Search Console ingestion: property connections, per-day and per-chunk load tracking, scheduler access.

* ``properties`` gains its Search Console connection: the credential lives in
  Secrets Manager (only the secret's name and a non-secret identity are
  stored here) and the outcome of the last verification.
* ``gsc_job_days``: one row per day of a sync or backfill job. A day is
  complete only when its sync has written every chunk (``chunks_total`` set)
  and every chunk has loaded.
* ``gsc_chunks``: one row per row chunk (an S3 object); loading flips it from
  pending to loaded exactly once, which keeps the counters exact under
  redelivery.
* UI export snapshots are per search type, and Dates.csv's daily totals are
  snapshots of one day (report ``dates``).
* ``kestrel_syncable_properties()``: the one cross-tenant read, for the
  05:00 UTC schedule. It runs as ``kestrel_sync_scheduler`` (no login, no
  members), the only role a SELECT policy on ``properties`` admits without a
  tenant context, and returns identifiers only.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.tenancy import APP_ROLE, protect_tenant_table, unprotect_tenant_table

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEDULER_ROLE = "kestrel_sync_scheduler"
TABLES = ("gsc_job_days", "gsc_chunks")
SNAPSHOT_REPORTS_BEFORE = "report IN ('queries', 'pages', 'countries', 'devices', 'search_appearance')"
SNAPSHOT_REPORTS = "report IN ('queries', 'pages', 'countries', 'devices', 'search_appearance', 'dates')"
SEARCH_TYPES = "search_type IN ('web', 'image', 'video', 'news', 'discover', 'googleNews')"


def upgrade() -> None:
    op.add_column("properties", sa.Column("connection_status", sa.Text(), server_default="unconnected", nullable=False))
    op.add_column("properties", sa.Column("credential_type", sa.Text(), nullable=True))
    op.add_column("properties", sa.Column("credential_secret", sa.Text(), nullable=True))
    op.add_column("properties", sa.Column("credential_identity", sa.Text(), nullable=True))
    op.add_column("properties", sa.Column("connection_checked_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("properties", sa.Column("connection_error", sa.Text(), nullable=True))
    op.create_check_constraint(
        op.f("ck_properties_connection_status"),
        "properties",
        "connection_status IN ('unconnected', 'connected', 'verified', 'failed')",
    )
    op.create_check_constraint(
        op.f("ck_properties_credential_type"),
        "properties",
        "credential_type IN ('service_account', 'authorized_user')",
    )

    op.create_table(
        "gsc_job_days",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("job_id", sa.UUID(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("property_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("chunks_total", sa.Integer(), nullable=True),
        sa.Column("chunks_loaded", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("rows_fetched", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("rows_loaded", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'fetching', 'fetched', 'loaded', 'failed', 'cancelled')",
            name=op.f("ck_gsc_job_days_status"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "job_id"],
            ["jobs.tenant_id", "jobs.id"],
            name=op.f("fk_gsc_job_days_tenant_id_job_id_jobs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "property_id"],
            ["properties.tenant_id", "properties.id"],
            name=op.f("fk_gsc_job_days_tenant_id_property_id_properties"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "date", name=op.f("pk_gsc_job_days")),
    )
    op.create_table(
        "gsc_chunks",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("job_id", sa.UUID(), nullable=False),
        sa.Column("object_key", sa.Text(), nullable=False),
        sa.Column("property_id", sa.UUID(), nullable=False),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("rows_changed", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'loaded', 'skipped')", name=op.f("ck_gsc_chunks_status")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "job_id"],
            ["jobs.tenant_id", "jobs.id"],
            name=op.f("fk_gsc_chunks_tenant_id_job_id_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "object_key", name=op.f("pk_gsc_chunks")),
    )
    for table in TABLES:
        protect_tenant_table(table)

    # Export snapshots: per search type; Dates.csv rows are one-day snapshots.
    op.drop_constraint("uq_gsc_export_snapshots_natural_key", "gsc_export_snapshots", type_="unique")
    op.drop_constraint(op.f("ck_gsc_export_snapshots_report"), "gsc_export_snapshots", type_="check")
    op.add_column("gsc_export_snapshots", sa.Column("search_type", sa.Text(), server_default="web", nullable=False))
    op.create_check_constraint(op.f("ck_gsc_export_snapshots_search_type"), "gsc_export_snapshots", SEARCH_TYPES)
    op.create_check_constraint(op.f("ck_gsc_export_snapshots_report"), "gsc_export_snapshots", SNAPSHOT_REPORTS)
    op.create_unique_constraint(
        "uq_gsc_export_snapshots_natural_key",
        "gsc_export_snapshots",
        ["property_id", "search_type", "report", "range_start", "range_end", "key"],
    )

    # The scheduler's window onto properties: identifiers of connected, active properties, nothing else.
    op.execute(
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{SCHEDULER_ROLE}') THEN
            CREATE ROLE {SCHEDULER_ROLE} NOLOGIN NOBYPASSRLS;
          END IF;
        END $$;
        """
    )
    # ALTER FUNCTION ... OWNER TO needs membership (PostgreSQL 16 no longer implies it for CREATEROLE).
    op.execute(f"GRANT {SCHEDULER_ROLE} TO CURRENT_USER")
    op.execute(f"GRANT SELECT (tenant_id, id, status, connection_status) ON properties TO {SCHEDULER_ROLE}")
    op.execute(f"CREATE POLICY sync_scheduler ON properties FOR SELECT TO {SCHEDULER_ROLE} USING (true)")
    op.execute(
        """
        CREATE FUNCTION kestrel_syncable_properties()
        RETURNS TABLE (tenant_id text, property_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
        AS $$
          SELECT p.tenant_id, p.id FROM properties p
          WHERE p.status = 'active' AND p.connection_status IN ('connected', 'verified')
          ORDER BY p.tenant_id, p.id
        $$
        """
    )
    # A new owner needs CREATE on the schema at the moment of the change only.
    op.execute(f"GRANT CREATE ON SCHEMA public TO {SCHEDULER_ROLE}")
    op.execute(f"ALTER FUNCTION kestrel_syncable_properties() OWNER TO {SCHEDULER_ROLE}")
    op.execute(f"REVOKE CREATE ON SCHEMA public FROM {SCHEDULER_ROLE}")
    op.execute("REVOKE ALL ON FUNCTION kestrel_syncable_properties() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION kestrel_syncable_properties() TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION kestrel_syncable_properties()")
    op.execute("DROP POLICY sync_scheduler ON properties")
    op.execute(f"REVOKE ALL ON properties FROM {SCHEDULER_ROLE}")
    # Roles are cluster-wide (other databases may use it), so the role stays, as kestrel_app does.

    op.execute("DELETE FROM gsc_export_snapshots WHERE report = 'dates'")
    op.drop_constraint("uq_gsc_export_snapshots_natural_key", "gsc_export_snapshots", type_="unique")
    op.drop_constraint(op.f("ck_gsc_export_snapshots_report"), "gsc_export_snapshots", type_="check")
    op.drop_constraint(op.f("ck_gsc_export_snapshots_search_type"), "gsc_export_snapshots", type_="check")
    op.drop_column("gsc_export_snapshots", "search_type")
    op.create_check_constraint(op.f("ck_gsc_export_snapshots_report"), "gsc_export_snapshots", SNAPSHOT_REPORTS_BEFORE)
    op.create_unique_constraint(
        "uq_gsc_export_snapshots_natural_key",
        "gsc_export_snapshots",
        ["property_id", "report", "range_start", "range_end", "key"],
    )

    for table in TABLES:
        unprotect_tenant_table(table)
    op.drop_table("gsc_chunks")
    op.drop_table("gsc_job_days")
    op.drop_constraint(op.f("ck_properties_credential_type"), "properties", type_="check")
    op.drop_constraint(op.f("ck_properties_connection_status"), "properties", type_="check")
    for column in (
        "connection_error",
        "connection_checked_at",
        "credential_identity",
        "credential_secret",
        "credential_type",
        "connection_status",
    ):
        op.drop_column("properties", column)
