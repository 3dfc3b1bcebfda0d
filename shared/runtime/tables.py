"""Run-once markers of the worker runtime (see ``shared.runtime.idempotency``)."""

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared.orm import Base, created_at_column
from shared.tenancy import tables as _tenancy  # noqa: F401  (registers the tables referenced here)


class IdempotencyRecord(Base):
    """Marks a unit of work as started (with a lease) and then completed."""

    __tablename__ = "idempotency_records"
    tenant_id: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    locked_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"], ondelete="CASCADE"),
        CheckConstraint("status IN ('in_progress', 'completed')", name="status"),
    )
