"""Content decay reads one property's page weeks over 16 months: an index that holds what it reads.

``gsc_page_weekly`` keys pages before weeks and holds every property's rows, so
reading a property's weeks by range scanned the whole table. The index on
(property, search type, week) carries the columns content decay reads, and
``tenant_id``, which the row-level security policy reads: without it no scan
of the index alone can answer, and the planner goes back to the table.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_gsc_page_weekly_property_id_search_type_week"),
        "gsc_page_weekly",
        ["property_id", "search_type", "week"],
        postgresql_include=["page", "clicks", "clicks_4w", "tenant_id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_gsc_page_weekly_property_id_search_type_week"), table_name="gsc_page_weekly")
