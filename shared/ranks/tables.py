"""The rank tracking tables: DataForSEO tasks and their costs, SERP snapshots and their items, screenshots.

``rank_tasks`` is one DataForSEO task (its ``tag`` there is the row's id) and the cost ledger: every task's
``cost`` is recorded, and a tenant's month is the sum of its tasks posted that month (``rank_budgets`` holds
a tenant's own budget and live-check limit; no row means the settings' defaults). ``serp_snapshots`` is a
keyword's SERP on a day (the project's position, ranking URL and the SERP features present and owned) and
``serp_items`` every item of it (about a hundred a snapshot at depth 100), both hash-partitioned by project
into 64 like ``gsc_rows``, so a project's reads and writes touch one partition. ``screenshots`` are the
PNGs serp_screenshot stores (the SERP of a snapshot, or a ranking or competing page).
"""

import datetime as dt
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.jobs import tables as _jobs  # noqa: F401  (registers the tables referenced here)
from shared.orm import Base, created_at_column, uuid_pk
from shared.projects import tables as _projects  # noqa: F401
from shared.tenancy import tables as _tenancy  # noqa: F401

SERP_PARTITIONS = 64
"""``serp_snapshots`` and ``serp_items`` are hash-partitioned on ``project_id`` into ``<table>_p00`` .. ``_p63``."""


def _project_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", "project_id"], ["projects.tenant_id", "projects.id"], ondelete="CASCADE")


def _keyword_fk(**options: Any) -> ForeignKeyConstraint:
    # Through the project too: the partitioned tables' key, so a keyword's cascade prunes to one partition.
    return ForeignKeyConstraint(
        ["tenant_id", "project_id", "keyword_id"],
        ["keywords.tenant_id", "keywords.project_id", "keywords.id"],
        **options,
    )


class RankBudget(Base):
    """A tenant's own DataForSEO limits; a tenant without a row has the settings' defaults."""

    __tablename__ = "rank_budgets"
    tenant_id: Mapped[str] = mapped_column(Text, primary_key=True)
    monthly_budget_usd: Mapped[Decimal] = mapped_column(Numeric(12, 4), nullable=False)
    live_checks_per_day: Mapped[int] = mapped_column(Integer, nullable=False)
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"], ondelete="CASCADE"),
        CheckConstraint("monthly_budget_usd >= 0 AND live_checks_per_day >= 0", name="limits"),
    )


class RankTask(Base):
    """One DataForSEO SERP task: a keyword's check on a day (standard queue) or on demand (live), and its cost."""

    __tablename__ = "rank_tasks"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    id: Mapped[uuid.UUID] = uuid_pk()  # the task's tag at DataForSEO
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    keyword_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    check_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    mode: Mapped[str] = mapped_column(Text, nullable=False)
    depth: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="pending")
    provider_task_id: Mapped[str | None] = mapped_column(Text, unique=True)
    job_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    cost: Mapped[Decimal] = mapped_column(Numeric(12, 6), nullable=False, server_default=text("0"))
    error: Mapped[str | None] = mapped_column(Text)
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    collected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    __table_args__ = (
        _project_fk(),
        _keyword_fk(ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "job_id"], ["jobs.tenant_id", "jobs.id"], ondelete="SET NULL (job_id)"),
        # One daily check per keyword and day, whatever the redeliveries of the day's post.
        Index(
            "ix_rank_tasks_daily",
            "keyword_id",
            "check_date",
            unique=True,
            postgresql_where=text("mode = 'standard'"),
        ),
        Index(None, "project_id", "status", "check_date"),
        Index(None, "tenant_id", "posted_at"),  # the month's spending
        Index(None, "tenant_id", "mode", "created_at"),  # the day's live checks
        Index(None, "job_id"),
        CheckConstraint("mode IN ('standard', 'live')", name="mode"),
        CheckConstraint("status IN ('pending', 'posted', 'collected', 'failed')", name="status"),
        CheckConstraint("depth BETWEEN 10 AND 100 AND depth % 10 = 0", name="depth"),
    )


class SerpSnapshot(Base):
    """A keyword's SERP on a day, and what it says of the project: its best organic position, URL, features."""

    __tablename__ = "serp_snapshots"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, server_default=text("gen_random_uuid()"))
    keyword_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    check_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    device: Mapped[str] = mapped_column(Text, nullable=False)
    location_code: Mapped[int] = mapped_column(Integer, nullable=False)
    language_code: Mapped[str] = mapped_column(Text, nullable=False)
    depth: Mapped[int] = mapped_column(Integer, nullable=False)
    rank_task_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    provider_task_id: Mapped[str | None] = mapped_column(Text)
    check_url: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    se_results_count: Mapped[int | None] = mapped_column(BigInteger)
    items_count: Mapped[int] = mapped_column(Integer, nullable=False)
    item_types: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    position: Mapped[int | None] = mapped_column(Integer)  # best organic rank_group; null: not in the depth checked
    rank_absolute: Mapped[int | None] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(Text)  # the ranking URL
    features_present: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    features_owned: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    __table_args__ = (
        PrimaryKeyConstraint("project_id", "id"),
        _project_fk(),
        _keyword_fk(ondelete="CASCADE"),
        UniqueConstraint("project_id", "keyword_id", "check_date"),
        UniqueConstraint("tenant_id", "project_id", "id"),
        CheckConstraint("device IN ('desktop', 'mobile')", name="device"),
        CheckConstraint("position IS NULL OR position > 0", name="position"),
        {"postgresql_partition_by": "HASH (project_id)"},
    )


class SerpItem(Base):
    """One item of a snapshot's SERP, in its order; an item of a type the code does not know is kept ``raw``."""

    __tablename__ = "serp_items"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    snapshot_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    item_index: Mapped[int] = mapped_column(Integer, nullable=False)
    type: Mapped[str] = mapped_column(Text, nullable=False)
    rank_group: Mapped[int | None] = mapped_column(Integer)
    rank_absolute: Mapped[int | None] = mapped_column(Integer)
    domain: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    known: Mapped[bool] = mapped_column(Boolean, nullable=False)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    __table_args__ = (
        PrimaryKeyConstraint("project_id", "snapshot_id", "item_index"),
        ForeignKeyConstraint(
            ["tenant_id", "project_id", "snapshot_id"],
            ["serp_snapshots.tenant_id", "serp_snapshots.project_id", "serp_snapshots.id"],
            ondelete="CASCADE",
        ),
        Index(None, "project_id", "domain"),  # competitors: who ranks for the project's keywords
        {"postgresql_partition_by": "HASH (project_id)"},
    )


class Screenshot(Base):
    """A PNG serp_screenshot stored: a snapshot's SERP or a ranking or competing page, in one variant."""

    __tablename__ = "screenshots"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    id: Mapped[uuid.UUID] = uuid_pk()
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    snapshot_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    keyword_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    variant: Mapped[str] = mapped_column(Text, nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int | None] = mapped_column(Integer)  # the full page's; null when the capture failed
    s3_key: Mapped[str | None] = mapped_column(Text)
    bytes: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
    captured_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        _project_fk(),
        ForeignKeyConstraint(
            ["tenant_id", "project_id", "snapshot_id"],
            ["serp_snapshots.tenant_id", "serp_snapshots.project_id", "serp_snapshots.id"],
            ondelete="CASCADE",
        ),
        _keyword_fk(ondelete="SET NULL (keyword_id)"),
        Index("ix_screenshots_project_id_captured_at_id", "project_id", text("captured_at DESC"), "id"),
        Index(None, "project_id", "snapshot_id"),
        CheckConstraint("kind IN ('serp', 'page')", name="kind"),
        CheckConstraint("variant IN ('desktop_fold', 'desktop_full', 'mobile')", name="variant"),
        CheckConstraint("status IN ('stored', 'failed')", name="status"),
    )
