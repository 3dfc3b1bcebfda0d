"""The jobs table: every long-running piece of work with its progress."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.orm import Base, created_at_column, updated_at_column, uuid_pk
from shared.projects import tables as _projects  # noqa: F401  (registers the tables referenced here)


class Job(Base):
    """Every long-running piece of work (imports, syncs, backfills) with its progress."""

    __tablename__ = "jobs"
    id: Mapped[uuid.UUID] = uuid_pk()
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
    created_at: Mapped[datetime] = created_at_column()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = updated_at_column()
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
