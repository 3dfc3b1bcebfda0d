"""Search Console rows, export snapshots, and the days and chunks of Search Console jobs."""

import datetime as dt
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.jobs import tables as _jobs  # noqa: F401  (registers the tables referenced here)
from shared.orm import Base, created_at_column, updated_at_column, uuid_pk
from shared.projects import tables as _projects  # noqa: F401

GSC_SEARCH_TYPES = "search_type IN ('web', 'image', 'video', 'news', 'discover', 'googleNews')"


GSC_ROWS_PARTITIONS = 64

"""``gsc_rows`` is hash-partitioned on ``property_id`` into ``gsc_rows_p00`` .. ``gsc_rows_p63``."""


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
    updated_at: Mapped[datetime] = updated_at_column()
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
    id: Mapped[uuid.UUID] = uuid_pk()
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
    created_at: Mapped[datetime] = created_at_column()
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
    updated_at: Mapped[datetime] = updated_at_column()
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
    created_at: Mapped[datetime] = created_at_column()
    loaded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "job_id"], ["jobs.tenant_id", "jobs.id"], ondelete="CASCADE"),
        CheckConstraint("status IN ('pending', 'loaded', 'skipped')", name="status"),
    )
