"""Projects (a site), their Search Console properties and tracked keywords."""

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    Text,
    UniqueConstraint,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.orm import Base, created_at_column, updated_at_column, uuid_pk
from shared.tenancy import tables as _tenancy  # noqa: F401  (registers the tables referenced here)


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    domain: Mapped[str] = mapped_column(Text, nullable=False)
    brand_terms: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    rank_depth: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default=sql_text("10")
    )  # SERP results checked
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "domain"),
        Index(None, "tenant_id", "created_at", "id"),
        CheckConstraint("rank_depth BETWEEN 10 AND 100 AND rank_depth % 10 = 0", name="rank_depth"),
    )


class Property(Base):
    """A Google Search Console property (``sc-domain:example.com`` or a URL prefix) of a project."""

    __tablename__ = "properties"
    id: Mapped[uuid.UUID] = uuid_pk()
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
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
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
    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    locale: Mapped[str] = mapped_column(Text, nullable=False)
    country: Mapped[str] = mapped_column(Text, nullable=False)
    device: Mapped[str] = mapped_column(Text, nullable=False)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    target_url: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=sql_text("true"))  # rank-checked daily
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "project_id"], ["projects.tenant_id", "projects.id"], ondelete="CASCADE"),
        UniqueConstraint("project_id", "text", "locale", "country", "device"),
        UniqueConstraint("tenant_id", "project_id", "id"),  # what the rank tables reference
        Index(None, "project_id", "created_at", "id"),
        Index("ix_keywords_tags", "tags", postgresql_using="gin"),
        CheckConstraint("device IN ('desktop', 'mobile')", name="device"),
    )


def property_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["tenant_id", "property_id"], ["properties.tenant_id", "properties.id"], ondelete="CASCADE"
    )
