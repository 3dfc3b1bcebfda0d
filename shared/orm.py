"""SQLAlchemy table models. Alembic migrations create exactly these (a test compares them).

Every tenant-owned table carries ``tenant_id`` and is protected by row-level
security (see the migrations); child rows reference their parent through
``(tenant_id, id)`` so that even a bug cannot attach one tenant's row to
another tenant's parent.
"""

import datetime as dt
import re
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TENANT_TABLES = (
    "tenants",
    "users",
    "projects",
    "properties",
    "keywords",
    "jobs",
    "idempotency_records",
    "gsc_rows",
    "gsc_daily_rollup",
    "gsc_export_snapshots",
    "gsc_job_days",
    "gsc_chunks",
    "gsc_query_page_daily",
    "gsc_query_page_weekly",
    "gsc_page_weekly",
    "gsc_dimension_daily",
    "gsc_rollup_pending",
    "crawled_pages",
    "gsc_query_page_window",
    "gsc_rollup_windows",
)
"""Tables holding tenant data: each has RLS enabled and forced on ``tenant_id``."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid())


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def _updated_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now())


class Tenant(Base):
    """A customer organisation; ``tenant_id`` is its Auth0 Organization id (``org_id``)."""

    __tablename__ = "tenants"
    tenant_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created_at()
    __table_args__ = (CheckConstraint("tenant_id ~ '^[A-Za-z0-9_-]{1,64}$'", name="tenant_id_format"),)


class User(Base):
    __tablename__ = "users"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    subject: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str] = mapped_column(Text, nullable=False, server_default="member")
    created_at: Mapped[datetime] = _created_at()
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "subject"),
        CheckConstraint("role IN ('admin', 'member')", name="role"),
    )


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    domain: Mapped[str] = mapped_column(Text, nullable=False)
    brand_terms: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "domain"),
        Index(None, "tenant_id", "created_at", "id"),
    )


class Property(Base):
    """A Google Search Console property (``sc-domain:example.com`` or a URL prefix) of a project."""

    __tablename__ = "properties"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    site_url: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="active")
    # The Search Console connection: the credential itself lives in Secrets Manager under
    # ``credential_secret``; ``credential_identity`` (service account e-mail or OAuth client id) is not secret.
    connection_status: Mapped[str] = mapped_column(Text, nullable=False, server_default="unconnected")
    credential_type: Mapped[str | None] = mapped_column(Text)
    credential_secret: Mapped[str | None] = mapped_column(Text)
    credential_identity: Mapped[str | None] = mapped_column(Text)
    connection_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    connection_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "project_id"], ["projects.tenant_id", "projects.id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("project_id", "site_url"),
        Index(None, "project_id", "created_at", "id"),
        CheckConstraint("status IN ('active', 'paused')", name="status"),
        CheckConstraint(
            "connection_status IN ('unconnected', 'connected', 'verified', 'failed')", name="connection_status"
        ),
        CheckConstraint("credential_type IN ('service_account', 'authorized_user')", name="credential_type"),
    )


class Keyword(Base):
    """A keyword tracked for a project. ``text`` is stored normalised (see logic.keywords)."""

    __tablename__ = "keywords"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    locale: Mapped[str] = mapped_column(Text, nullable=False)
    country: Mapped[str] = mapped_column(Text, nullable=False)
    device: Mapped[str] = mapped_column(Text, nullable=False)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    target_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "project_id"], ["projects.tenant_id", "projects.id"], ondelete="CASCADE"),
        UniqueConstraint("project_id", "text", "locale", "country", "device"),
        Index(None, "project_id", "created_at", "id"),
        Index("ix_keywords_tags", "tags", postgresql_using="gin"),
        CheckConstraint("device IN ('desktop', 'mobile')", name="device"),
    )


class Job(Base):
    """Every long-running piece of work (imports, syncs, backfills) with its progress."""

    __tablename__ = "jobs"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    project_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="pending")
    progress_percent: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    counters: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, server_default=text("'[]'::jsonb"))
    error_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    input: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    created_by: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created_at()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = _updated_at()
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "project_id"], ["projects.tenant_id", "projects.id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "id"),
        Index(None, "tenant_id", "project_id", "kind", "created_at", "id"),
        CheckConstraint(
            "status IN ('pending', 'running', 'succeeded', 'succeeded_with_errors', 'failed', 'cancelled')",
            name="status",
        ),
        CheckConstraint("progress_percent BETWEEN 0 AND 100", name="progress_percent"),
    )


class IdempotencyRecord(Base):
    """Marks a unit of work as started (with a lease) and then completed."""

    __tablename__ = "idempotency_records"
    tenant_id: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    locked_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = _created_at()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"], ondelete="CASCADE"),
        CheckConstraint("status IN ('in_progress', 'completed')", name="status"),
    )


GSC_SEARCH_TYPES = "search_type IN ('web', 'image', 'video', 'news', 'discover', 'googleNews')"

GSC_ROWS_PARTITIONS = 64
"""``gsc_rows`` is hash-partitioned on ``property_id`` into ``gsc_rows_p00`` .. ``gsc_rows_p63``."""

_PARTITION_NAME = re.compile(r"^(gsc_rows|gsc_query_page_daily|gsc_query_page_weekly|gsc_query_page_window)_p\d{2}$")


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic ``include_name`` filter: table partitions are created by migrations but are not models."""
    return not (type_ == "table" and name is not None and _PARTITION_NAME.match(name))


class GscRow(Base):
    """One Search Analytics row as the API returns it, keyed by its dimensions."""

    __tablename__ = "gsc_rows"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    property_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    search_type: Mapped[str] = mapped_column(Text, nullable=False)
    query: Mapped[str] = mapped_column(Text, nullable=False)
    page: Mapped[str] = mapped_column(Text, nullable=False)
    country: Mapped[str] = mapped_column(Text, nullable=False)
    device: Mapped[str] = mapped_column(Text, nullable=False)
    clicks: Mapped[int] = mapped_column(Integer, nullable=False)
    impressions: Mapped[int] = mapped_column(Integer, nullable=False)
    ctr: Mapped[float] = mapped_column(Double, nullable=False)
    position: Mapped[float] = mapped_column(Double, nullable=False)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    __table_args__ = (
        PrimaryKeyConstraint("property_id", "date", "search_type", "query", "page", "country", "device"),
        ForeignKeyConstraint(
            ["tenant_id", "property_id"], ["properties.tenant_id", "properties.id"], ondelete="CASCADE"
        ),
        Index(None, "property_id", "date"),
        CheckConstraint(GSC_SEARCH_TYPES, name="search_type"),
        CheckConstraint("country ~ '^[a-z]{3}$'", name="country"),
        CheckConstraint("device IN ('DESKTOP', 'MOBILE', 'TABLET')", name="device"),
        {"postgresql_partition_by": "HASH (property_id)"},
    )


class GscDailyRollup(Base):
    """Per property, day and search type totals; weighted position = position_weighted / impressions."""

    __tablename__ = "gsc_daily_rollup"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    property_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    search_type: Mapped[str] = mapped_column(Text, primary_key=True)
    clicks: Mapped[int] = mapped_column(BigInteger, nullable=False)
    impressions: Mapped[int] = mapped_column(BigInteger, nullable=False)
    position_weighted: Mapped[float] = mapped_column(Double, nullable=False)
    rows: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = _updated_at()
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "property_id"], ["properties.tenant_id", "properties.id"], ondelete="CASCADE"
        ),
        CheckConstraint(GSC_SEARCH_TYPES, name="search_type"),
    )


class GscExportSnapshot(Base):
    """An aggregate from a Search Console UI export, kept as a snapshot of its date range."""

    __tablename__ = "gsc_export_snapshots"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    id: Mapped[uuid.UUID] = _uuid_pk()
    property_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    job_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    search_type: Mapped[str] = mapped_column(Text, nullable=False, server_default="web")
    report: Mapped[str] = mapped_column(Text, nullable=False)
    range_start: Mapped[dt.date] = mapped_column(Date, nullable=False)
    range_end: Mapped[dt.date] = mapped_column(Date, nullable=False)
    key: Mapped[str] = mapped_column(Text, nullable=False)
    clicks: Mapped[int] = mapped_column(BigInteger, nullable=False)
    impressions: Mapped[int] = mapped_column(BigInteger, nullable=False)
    ctr: Mapped[float] = mapped_column(Double, nullable=False)
    position: Mapped[float] = mapped_column(Double, nullable=False)
    created_at: Mapped[datetime] = _created_at()
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "property_id"], ["properties.tenant_id", "properties.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "job_id"], ["jobs.tenant_id", "jobs.id"], ondelete="SET NULL (job_id)"),
        UniqueConstraint(
            "property_id",
            "search_type",
            "report",
            "range_start",
            "range_end",
            "key",
            name="uq_gsc_export_snapshots_natural_key",
        ),
        CheckConstraint(
            "report IN ('queries', 'pages', 'countries', 'devices', 'search_appearance', 'dates')", name="report"
        ),
        CheckConstraint("range_start <= range_end", name="range"),
        CheckConstraint(GSC_SEARCH_TYPES, name="search_type"),
    )


class GscJobDay(Base):
    """One day of a sync or backfill job: complete once its sync wrote every chunk and every chunk loaded."""

    __tablename__ = "gsc_job_days"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    property_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="pending")
    chunks_total: Mapped[int | None] = mapped_column(Integer)
    chunks_loaded: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    rows_fetched: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    rows_loaded: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = _updated_at()
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "job_id"], ["jobs.tenant_id", "jobs.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["tenant_id", "property_id"], ["properties.tenant_id", "properties.id"], ondelete="CASCADE"
        ),
        CheckConstraint("status IN ('pending', 'fetching', 'fetched', 'loaded', 'failed', 'cancelled')", name="status"),
    )


class GscChunk(Base):
    """One chunk of rows (a gzip NDJSON object in S3) of a job; loading it flips pending to loaded once."""

    __tablename__ = "gsc_chunks"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    object_key: Mapped[str] = mapped_column(Text, primary_key=True)
    property_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    date: Mapped[dt.date | None] = mapped_column(Date)
    rows: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="pending")
    rows_changed: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = _created_at()
    loaded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "job_id"], ["jobs.tenant_id", "jobs.id"], ondelete="CASCADE"),
        CheckConstraint("status IN ('pending', 'loaded', 'skipped')", name="status"),
    )


# Report aggregates, kept by the rollup worker (shared/dal/gsc_rollups.py). Measures are sums over what
# they aggregate; average position = position_weighted / impressions, CTR = clicks / impressions.


def _property_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["tenant_id", "property_id"], ["properties.tenant_id", "properties.id"], ondelete="CASCADE"
    )


class _Measures:
    clicks: Mapped[int] = mapped_column(BigInteger, nullable=False)
    impressions: Mapped[int] = mapped_column(BigInteger, nullable=False)
    position_weighted: Mapped[float] = mapped_column(Double, nullable=False)


class GscQueryPageDaily(_Measures, Base):
    """Per property, day, search type, query and page (over countries and devices); 64 hash partitions."""

    __tablename__ = "gsc_query_page_daily"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    property_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    search_type: Mapped[str] = mapped_column(Text, primary_key=True)
    query: Mapped[str] = mapped_column(Text, primary_key=True)
    page: Mapped[str] = mapped_column(Text, primary_key=True)
    __table_args__ = (
        _property_fk(),
        Index(None, "property_id", "query", "date"),
        CheckConstraint(GSC_SEARCH_TYPES, name="search_type"),
        {"postgresql_partition_by": "HASH (property_id)"},
    )


class GscQueryPageWeekly(_Measures, Base):
    """As ``GscQueryPageDaily`` per ISO week (``week`` is its Monday); 64 hash partitions."""

    __tablename__ = "gsc_query_page_weekly"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    property_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    week: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    search_type: Mapped[str] = mapped_column(Text, primary_key=True)
    query: Mapped[str] = mapped_column(Text, primary_key=True)
    page: Mapped[str] = mapped_column(Text, primary_key=True)
    __table_args__ = (
        _property_fk(),
        Index(None, "property_id", "query", "week"),
        CheckConstraint(GSC_SEARCH_TYPES, name="search_type"),
        {"postgresql_partition_by": "HASH (property_id)"},
    )


class GscPageWeekly(_Measures, Base):
    """Per page and ISO week; ``clicks_4w`` sums the four weeks ending with this one (content decay)."""

    __tablename__ = "gsc_page_weekly"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    property_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    search_type: Mapped[str] = mapped_column(Text, primary_key=True)
    page: Mapped[str] = mapped_column(Text, primary_key=True)
    week: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    clicks_4w: Mapped[int] = mapped_column(BigInteger, nullable=False)
    __table_args__ = (
        _property_fk(),
        CheckConstraint(GSC_SEARCH_TYPES, name="search_type"),
        # Content decay reads a property's weeks by range (migration 0006).
        Index(
            None, "property_id", "search_type", "week", postgresql_include=["page", "clicks", "clicks_4w", "tenant_id"]
        ),
    )


class GscDimensionDaily(_Measures, Base):
    """Per property, day, search type, country and device (over queries and pages)."""

    __tablename__ = "gsc_dimension_daily"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    property_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    search_type: Mapped[str] = mapped_column(Text, primary_key=True)
    country: Mapped[str] = mapped_column(Text, primary_key=True)
    device: Mapped[str] = mapped_column(Text, primary_key=True)
    __table_args__ = (_property_fk(), CheckConstraint(GSC_SEARCH_TYPES, name="search_type"))


class GscRollupPending(Base):
    """A day of a property whose rows changed since its aggregates were built (the rollup's outbox)."""

    __tablename__ = "gsc_rollup_pending"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    property_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    __table_args__ = (_property_fk(),)


class CrawledPage(Base):
    """On-page facts of a crawled page of a project."""

    __tablename__ = "crawled_pages"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    url: Mapped[str] = mapped_column(Text, primary_key=True)
    title: Mapped[str | None] = mapped_column(Text)
    h1: Mapped[str | None] = mapped_column(Text)
    crawled_at: Mapped[datetime] = _created_at()
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "project_id"], ["projects.tenant_id", "projects.id"], ondelete="CASCADE"),
    )


class GscRollupWindow(Base):
    """A preset range (the last 7, 28 or 90 days, or the same before them) built into ``GscQueryPageWindow``."""

    __tablename__ = "gsc_rollup_windows"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    property_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    search_type: Mapped[str] = mapped_column(Text, primary_key=True)
    window_end: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    window_start: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    built_at: Mapped[datetime] = _created_at()
    __table_args__ = (
        _property_fk(),
        CheckConstraint(GSC_SEARCH_TYPES, name="search_type"),
        CheckConstraint("window_start <= window_end", name="range"),
    )


class GscQueryPageWindow(_Measures, Base):
    """Per query and page, a preset range of a property summed once; 64 hash partitions."""

    __tablename__ = "gsc_query_page_window"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    property_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    search_type: Mapped[str] = mapped_column(Text, primary_key=True)
    window_end: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    window_start: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    query: Mapped[str] = mapped_column(Text, primary_key=True)
    page: Mapped[str] = mapped_column(Text, primary_key=True)
    __table_args__ = (
        _property_fk(),
        CheckConstraint(GSC_SEARCH_TYPES, name="search_type"),
        {"postgresql_partition_by": "HASH (property_id)"},
    )
