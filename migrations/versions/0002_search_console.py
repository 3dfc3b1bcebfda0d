"""Search Console: raw Search Analytics rows (hash-partitioned), daily rollups, UI export snapshots.

``gsc_rows`` is partitioned by HASH (property_id) into 64 partitions. Row-level
security on the parent applies to queries through the parent; a partition
queried directly would only be subject to its own policies, so every partition
also has RLS enabled and forced with the same policy, and the application role
is granted nothing on any partition (it must go through the parent).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.tenancy import APP_ROLE, protect_tenant_table, unprotect_tenant_table

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GSC_ROWS_PARTITIONS = 64  # frozen here: changing it needs a new migration that repartitions
SEARCH_TYPES = "search_type IN ('web', 'image', 'video', 'news', 'discover', 'googleNews')"
TABLES = ("gsc_rows", "gsc_daily_rollup", "gsc_export_snapshots")


def _partition(remainder: int) -> str:
    return f"gsc_rows_p{remainder:02d}"


def upgrade() -> None:
    op.create_table(
        "gsc_rows",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("property_id", sa.UUID(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("search_type", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("page", sa.Text(), nullable=False),
        sa.Column("country", sa.Text(), nullable=False),
        sa.Column("device", sa.Text(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("impressions", sa.Integer(), nullable=False),
        sa.Column("ctr", sa.Double(), nullable=False),
        sa.Column("position", sa.Double(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(SEARCH_TYPES, name=op.f("ck_gsc_rows_search_type")),
        sa.CheckConstraint("country ~ '^[a-z]{3}$'", name=op.f("ck_gsc_rows_country")),
        sa.CheckConstraint("device IN ('DESKTOP', 'MOBILE', 'TABLET')", name=op.f("ck_gsc_rows_device")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "property_id"],
            ["properties.tenant_id", "properties.id"],
            name=op.f("fk_gsc_rows_tenant_id_property_id_properties"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "property_id", "date", "search_type", "query", "page", "country", "device", name=op.f("pk_gsc_rows")
        ),
        postgresql_partition_by="HASH (property_id)",
    )
    op.create_index(op.f("ix_gsc_rows_property_id_date"), "gsc_rows", ["property_id", "date"], unique=False)
    for remainder in range(GSC_ROWS_PARTITIONS):
        op.execute(
            f"CREATE TABLE {_partition(remainder)} PARTITION OF gsc_rows"
            f" FOR VALUES WITH (MODULUS {GSC_ROWS_PARTITIONS}, REMAINDER {remainder})"
        )

    op.create_table(
        "gsc_daily_rollup",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("property_id", sa.UUID(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("search_type", sa.Text(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("position_weighted", sa.Double(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(SEARCH_TYPES, name=op.f("ck_gsc_daily_rollup_search_type")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "property_id"],
            ["properties.tenant_id", "properties.id"],
            name=op.f("fk_gsc_daily_rollup_tenant_id_property_id_properties"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("property_id", "date", "search_type", name=op.f("pk_gsc_daily_rollup")),
    )

    op.create_table(
        "gsc_export_snapshots",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("property_id", sa.UUID(), nullable=False),
        sa.Column("job_id", sa.UUID(), nullable=True),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("range_start", sa.Date(), nullable=False),
        sa.Column("range_end", sa.Date(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("ctr", sa.Double(), nullable=False),
        sa.Column("position", sa.Double(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "report IN ('queries', 'pages', 'countries', 'devices', 'search_appearance')",
            name=op.f("ck_gsc_export_snapshots_report"),
        ),
        sa.CheckConstraint("range_start <= range_end", name=op.f("ck_gsc_export_snapshots_range")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "property_id"],
            ["properties.tenant_id", "properties.id"],
            name=op.f("fk_gsc_export_snapshots_tenant_id_property_id_properties"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "job_id"],
            ["jobs.tenant_id", "jobs.id"],
            name=op.f("fk_gsc_export_snapshots_tenant_id_job_id_jobs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gsc_export_snapshots")),
        sa.UniqueConstraint(
            "property_id",
            "report",
            "range_start",
            "range_end",
            "key",
            name=op.f("uq_gsc_export_snapshots_natural_key"),
        ),
    )

    for table in TABLES:
        protect_tenant_table(table)
    # The application reaches gsc_rows only through the parent (whose policy applies); each partition
    # carries the same forced policy too and grants nothing, so naming a partition bypasses nothing.
    for remainder in range(GSC_ROWS_PARTITIONS):
        partition = _partition(remainder)
        op.execute(f"ALTER TABLE {partition} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {partition} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {partition}"
            " USING (tenant_id = current_setting('app.tenant_id', true))"
            " WITH CHECK (tenant_id = current_setting('app.tenant_id', true))"
        )
        op.execute(f"REVOKE ALL ON {partition} FROM PUBLIC, {APP_ROLE}")


def downgrade() -> None:
    for table in TABLES:
        unprotect_tenant_table(table)
    op.drop_table("gsc_export_snapshots")
    op.drop_table("gsc_daily_rollup")
    for remainder in range(GSC_ROWS_PARTITIONS):
        op.execute(f"DROP TABLE {_partition(remainder)}")
    op.drop_index(op.f("ix_gsc_rows_property_id_date"), table_name="gsc_rows")
    op.drop_table("gsc_rows")
