"""The aggregates reports read, rebuilt from ``gsc_rows`` by the rollup, and the rollup's outbox."""

import datetime as dt
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    Index,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.orm import Base, created_at_column
from shared.projects.tables import property_fk
from shared.search_console.tables import GSC_SEARCH_TYPES


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
        property_fk(),
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
        property_fk(),
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
        property_fk(),
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
    __table_args__ = (property_fk(), CheckConstraint(GSC_SEARCH_TYPES, name="search_type"))


class GscRollupPending(Base):
    """A day of a property whose rows changed since its aggregates were built (the rollup's outbox)."""

    __tablename__ = "gsc_rollup_pending"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    property_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    __table_args__ = (property_fk(),)


class GscRollupWindow(Base):
    """A preset range (the last 7, 28 or 90 days, or the same before them) built into ``GscQueryPageWindow``."""

    __tablename__ = "gsc_rollup_windows"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    property_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    search_type: Mapped[str] = mapped_column(Text, primary_key=True)
    window_end: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    window_start: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    built_at: Mapped[datetime] = created_at_column()
    __table_args__ = (
        property_fk(),
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
        property_fk(),
        CheckConstraint(GSC_SEARCH_TYPES, name="search_type"),
        {"postgresql_partition_by": "HASH (property_id)"},
    )
