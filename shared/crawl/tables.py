"""The crawl's tables: its frontier, robots.txt per host, the pages it saw, their links and the audit's findings.

A crawl is a job (``jobs``, kind ``site_crawl``; its settings are the job's
``input``). ``crawled_pages`` is a project's page across crawls (stable id, latest
title and H1 for striking distance, latest content hash); ``page_snapshots`` is what
one crawl saw of it. ``page_changed_events`` is the outbox the NLP worker reads:
one row per new or changed page. The per-host politeness tables are the one
platform-wide state (``crawl_host_*``): a host is paced across every tenant.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.jobs import tables as _jobs  # noqa: F401  (registers the tables referenced here)
from shared.orm import Base, created_at_column, uuid_pk
from shared.projects import tables as _projects  # noqa: F401


def _job_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", "job_id"], ["jobs.tenant_id", "jobs.id"], ondelete="CASCADE")


class CrawlHost(Base):
    """robots.txt of one host as one crawl fetched it (once per crawl, RFC 9309 caching)."""

    __tablename__ = "crawl_hosts"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    host: Mapped[str] = mapped_column(Text, primary_key=True)
    robots_status: Mapped[int | None] = mapped_column(Integer)  # None: no answer at all
    robots_body: Mapped[bytes | None] = mapped_column()
    fetched_at: Mapped[datetime] = created_at_column()
    __table_args__ = (_job_fk(),)


FRONTIER_STATES = ("queued", "claimed", "fetched", "failed", "blocked")


class FrontierUrl(Base):
    """A URL a crawl will fetch, or did: crawled once per crawl whatever the redeliveries."""

    __tablename__ = "crawl_frontier"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    url: Mapped[str] = mapped_column(Text, primary_key=True)
    host: Mapped[str] = mapped_column(Text, nullable=False)
    depth: Mapped[int | None] = mapped_column(Integer)  # clicks from a start URL; None: known only from a sitemap
    in_sitemap: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    in_search_console: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    state: Mapped[str] = mapped_column(Text, nullable=False, server_default="queued")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    discovered_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()
    )
    __table_args__ = (
        _job_fk(),
        CheckConstraint(f"state IN {FRONTIER_STATES}", name="state"),
        Index(None, "job_id", "state", "host"),
    )


class CrawledPage(Base):
    """A project's page across crawls: its stable id and the latest crawl's title, H1 and content hash."""

    __tablename__ = "crawled_pages"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    url: Mapped[str] = mapped_column(Text, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, server_default=func.gen_random_uuid())
    title: Mapped[str | None] = mapped_column(Text)
    h1: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(Text)
    last_job_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    first_crawled_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    crawled_at: Mapped[datetime] = created_at_column()
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "project_id"], ["projects.tenant_id", "projects.id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "id"),
    )


CHANGES = ("new", "changed", "unchanged")


class PageSnapshot(Base):
    """Everything one crawl recorded about one URL: the fetch, the on-page facts, the verdicts."""

    __tablename__ = "page_snapshots"
    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    page_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    final_url: Mapped[str] = mapped_column(Text, nullable=False)
    redirects: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, server_default=text("'[]'"))
    status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(Text)
    bytes: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    charset: Mapped[str | None] = mapped_column(Text)
    response_ms: Mapped[float | None] = mapped_column(Float)
    truncated: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    blocked: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    error_code: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    canonical: Mapped[str | None] = mapped_column(Text)
    canonical_source: Mapped[str | None] = mapped_column(Text)
    meta_robots: Mapped[str | None] = mapped_column(Text)
    x_robots_tag: Mapped[str | None] = mapped_column(Text)
    indexable: Mapped[bool] = mapped_column(Boolean, nullable=False)
    indexability_reason: Mapped[str] = mapped_column(Text, nullable=False)
    title: Mapped[str | None] = mapped_column(Text)
    meta_description: Mapped[str | None] = mapped_column(Text)
    h1s: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    outline: Mapped[list[Any]] = mapped_column(JSONB, nullable=False, server_default=text("'[]'"))
    lang: Mapped[str | None] = mapped_column(Text)
    hreflang: Mapped[list[Any]] = mapped_column(JSONB, nullable=False, server_default=text("'[]'"))
    jsonld_types: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    open_graph: Mapped[dict[str, str]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'"))
    main_text: Mapped[str | None] = mapped_column(Text)
    word_count: Mapped[int | None] = mapped_column(Integer)
    content_hash: Mapped[str | None] = mapped_column(Text)
    images_without_alt: Mapped[list[str]] = mapped_column(JSONB, nullable=False, server_default=text("'[]'"))
    in_sitemap: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    in_search_console: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    depth: Mapped[int | None] = mapped_column(Integer)
    inlinks: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    change: Mapped[str | None] = mapped_column(Text)  # None: nothing to compare (not fetched as HTML)
    html_key: Mapped[str | None] = mapped_column(Text)  # the raw HTML, gzip, in the raw-pages bucket
    created_at: Mapped[datetime] = created_at_column()
    __table_args__ = (
        _job_fk(),
        ForeignKeyConstraint(["tenant_id", "project_id"], ["projects.tenant_id", "projects.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["tenant_id", "page_id"], ["crawled_pages.tenant_id", "crawled_pages.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("job_id", "url"),
        Index(None, "page_id", "created_at"),
        CheckConstraint(f"change IN {CHANGES}", name="change"),
    )


class PageLink(Base):
    """A link on a crawled page, in page order, with its anchor text and ``rel``."""

    __tablename__ = "page_links"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    snapshot_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    target_url: Mapped[str] = mapped_column(Text, nullable=False)
    anchor_text: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    rel: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    internal: Mapped[bool] = mapped_column(Boolean, nullable=False)
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "snapshot_id"], ["page_snapshots.tenant_id", "page_snapshots.id"], ondelete="CASCADE"
        ),
        Index(None, "job_id", "target_url", postgresql_where=text("internal")),
    )


class CrawlIssue(Base):
    """One finding of a crawl's site audit: an issue type (``shared.crawl.audit``) on one URL."""

    __tablename__ = "crawl_issues"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    url: Mapped[str] = mapped_column(Text, primary_key=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'"))
    __table_args__ = (_job_fk(),)


class PageChangedEvent(Base):
    """Outbox: a page a crawl found new or changed, for the NLP worker (``consumed_at`` once it took it)."""

    __tablename__ = "page_changed_events"
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    page_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    snapshot_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    content_hash: Mapped[str] = mapped_column(Text, nullable=False)
    change: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    consumed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "snapshot_id"], ["page_snapshots.tenant_id", "page_snapshots.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("snapshot_id"),
        Index(None, "tenant_id", "id", postgresql_where=text("consumed_at IS NULL")),
        CheckConstraint("change IN ('new', 'changed')", name="change"),
    )


# ---------------------------------------------------------------- platform-wide politeness (no tenant data)


class CrawlHostPace(Base):
    """When the next request to a host may start, across every crawl of every tenant."""

    __tablename__ = "crawl_host_pace"
    host: Mapped[str] = mapped_column(Text, primary_key=True)
    next_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    crawl_delay_ms: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))  # robots.txt's


class CrawlHostSlot(Base):
    """One of a host's concurrent request slots, leased while a request is in flight (a crash lets it expire)."""

    __tablename__ = "crawl_host_slots"
    host: Mapped[str] = mapped_column(Text, primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)
    leased_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
