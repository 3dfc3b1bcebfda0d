"""Crawled pages and their on-page facts."""

import uuid
from datetime import datetime

from sqlalchemy import (
    ForeignKeyConstraint,
    Text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.orm import Base, created_at_column


class CrawledPage(Base):
    """On-page facts of a crawled page of a project."""

    __tablename__ = "crawled_pages"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    url: Mapped[str] = mapped_column(Text, primary_key=True)
    title: Mapped[str | None] = mapped_column(Text)
    h1: Mapped[str | None] = mapped_column(Text)
    crawled_at: Mapped[datetime] = created_at_column()
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "project_id"], ["projects.tenant_id", "projects.id"], ondelete="CASCADE"),
    )
