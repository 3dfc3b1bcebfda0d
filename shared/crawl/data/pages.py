"""Reading a crawl's pages for the API: filtered lists in URL order, one page's snapshot, links and history."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, exists, func, select

from shared.crawl.audit import PageState
from shared.crawl.data.audit import STATE_COLUMNS, page_state
from shared.crawl.tables import CrawlIssue, PageLink, PageSnapshot
from shared.db import TenantSession


@dataclass(frozen=True)
class PageFilters:
    status: int | None = None
    indexable: bool | None = None
    issue: str | None = None
    path_prefix: str | None = None
    title_contains: str | None = None


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(session: TenantSession, job_id: uuid.UUID, filters: PageFilters) -> Select[PageSnapshot]:
    stmt = select(PageSnapshot).where(PageSnapshot.tenant_id == session.tenant_id, PageSnapshot.job_id == job_id)
    if filters.status is not None:
        stmt = stmt.where(PageSnapshot.status == filters.status)
    if filters.indexable is not None:
        stmt = stmt.where(PageSnapshot.indexable.is_(filters.indexable))
    if filters.issue is not None:
        stmt = stmt.where(
            exists().where(
                and_(CrawlIssue.job_id == job_id, CrawlIssue.url == PageSnapshot.url, CrawlIssue.code == filters.issue)
            )
        )
    if filters.path_prefix:
        # the path of the URL: after "scheme://host"
        path = func.substring(PageSnapshot.url, r"^[a-z]+://[^/]+(/.*)$")
        stmt = stmt.where(path.like(_escape_like(filters.path_prefix) + "%", escape="\\"))
    if filters.title_contains:
        stmt = stmt.where(PageSnapshot.title.ilike("%" + _escape_like(filters.title_contains) + "%", escape="\\"))
    return stmt


def page_list(
    session: TenantSession, job_id: uuid.UUID, filters: PageFilters, *, limit: int, after_url: str | None
) -> list[PageSnapshot]:
    """Up to ``limit + 1`` snapshots in URL order after ``after_url`` (the extra one says there is more)."""
    stmt = _filtered(session, job_id, filters)
    if after_url is not None:
        stmt = stmt.where(PageSnapshot.url > after_url)
    return list(session.scalars(stmt.order_by(PageSnapshot.url).limit(limit + 1)))


def issue_codes(session: TenantSession, job_id: uuid.UUID, urls: Sequence[str]) -> dict[str, list[str]]:
    codes: dict[str, list[str]] = {}
    rows = session.execute(
        select(CrawlIssue.url, CrawlIssue.code)
        .where(CrawlIssue.job_id == job_id, CrawlIssue.url.in_(urls))
        .order_by(CrawlIssue.url, CrawlIssue.code)
    ).all()
    for url, code in rows:
        codes.setdefault(url, []).append(code)
    return codes


def snapshot_of_page(session: TenantSession, job_id: uuid.UUID, page_id: uuid.UUID) -> PageSnapshot | None:
    return session.scalar(
        select(PageSnapshot).where(
            PageSnapshot.tenant_id == session.tenant_id, PageSnapshot.job_id == job_id, PageSnapshot.page_id == page_id
        )
    )


def links_of(session: TenantSession, snapshot_id: uuid.UUID) -> list[PageLink]:
    return list(
        session.scalars(select(PageLink).where(PageLink.snapshot_id == snapshot_id).order_by(PageLink.position))
    )


@dataclass(frozen=True)
class PageVersion:
    """What one crawl saw of a page's tracked fields."""

    job_id: uuid.UUID
    crawled_at: datetime
    state: PageState


def history(session: TenantSession, page_id: uuid.UUID, *, limit: int = 20) -> list[PageVersion]:
    """The page's latest ``limit`` snapshots, oldest first."""
    rows = session.execute(
        select(PageSnapshot.job_id, PageSnapshot.created_at, *STATE_COLUMNS)
        .where(PageSnapshot.tenant_id == session.tenant_id, PageSnapshot.page_id == page_id)
        .order_by(PageSnapshot.created_at.desc())
        .limit(limit)
    ).all()
    return [PageVersion(row.job_id, row.created_at, page_state(row)) for row in reversed(rows)]
