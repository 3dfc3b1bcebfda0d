"""Tenants (customer organisations) and their users."""

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared.orm import Base, created_at_column, uuid_pk


class Tenant(Base):
    """A customer organisation; ``tenant_id`` is its Auth0 Organization id (``org_id``)."""

    __tablename__ = "tenants"
    tenant_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    # What the organisation pays for: it caps the size of its jobs (``shared.tenancy.plans``).
    plan: Mapped[str] = mapped_column(Text, nullable=False, server_default="pro")
    created_at: Mapped[datetime] = created_at_column()
    __table_args__ = (
        CheckConstraint("tenant_id ~ '^[A-Za-z0-9_-]{1,64}$'", name="tenant_id_format"),
        CheckConstraint("plan IN ('free', 'pro', 'agency')", name="plan"),
    )


class User(Base):
    __tablename__ = "users"
    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    subject: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str] = mapped_column(Text, nullable=False, server_default="member")
    created_at: Mapped[datetime] = created_at_column()
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "subject"),
        CheckConstraint("role IN ('admin', 'member')", name="role"),
    )
