"""The site audit's reads and writes: depths and inlinks, the audit's inputs, its findings, and the crawl before."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert

from shared.crawl.audit import AuditLink, AuditPage, Finding, PageState
from shared.crawl.fetch import Hop
from shared.crawl.tables import CrawlIssue, FrontierUrl, PageLink, PageSnapshot
from shared.db import TenantSession
from shared.jobs.models import JobKind, JobStatus
from shared.jobs.tables import Job

AUDITED = (JobStatus.SUCCEEDED, JobStatus.SUCCEEDED_WITH_ERRORS)


_SNAPSHOTS: Table = PageSnapshot.__table__  # type: ignore[assignment]  # executemany updates go through Core


def settle_depths(session: TenantSession, job_id: uuid.UUID) -> None:
    """Each page's depth as the whole crawl found it (a page fetched from a sitemap before a link reached it)."""
    rows = session.execute(
        select(PageSnapshot.url, FrontierUrl.depth)
        .join(FrontierUrl, (FrontierUrl.job_id == PageSnapshot.job_id) & (FrontierUrl.url == PageSnapshot.url))
        .where(PageSnapshot.job_id == job_id, PageSnapshot.depth.is_distinct_from(FrontierUrl.depth))
    ).all()
    if rows:
        session.execute(
            update(_SNAPSHOTS)
            .where(_SNAPSHOTS.c.job_id == job_id, _SNAPSHOTS.c.url == bindparam("u"))
            .values(depth=bindparam("d")),
            [{"u": url, "d": depth} for url, depth in rows],
        )


def internal_links(session: TenantSession, job_id: uuid.UUID) -> list[AuditLink]:
    """Every internal link of the crawl, as (linking page, target)."""
    rows = session.execute(
        select(PageSnapshot.url, PageLink.target_url)
        .join(PageSnapshot, PageSnapshot.id == PageLink.snapshot_id)
        .where(PageLink.job_id == job_id, PageLink.internal)
    ).all()
    return [AuditLink(source, target) for source, target in rows]


def store_inlinks(session: TenantSession, job_id: uuid.UUID, inlinks: dict[str, int]) -> None:
    """Each page's inlinks (counted by the caller from ``internal_links``): one statement, every page."""
    if inlinks:
        session.execute(
            update(_SNAPSHOTS)
            .where(_SNAPSHOTS.c.job_id == job_id, _SNAPSHOTS.c.url == bindparam("u"))
            .values(inlinks=bindparam("n")),
            [{"u": url, "n": count} for url, count in inlinks.items()],
        )


def audit_pages(session: TenantSession, job_id: uuid.UUID, inlinks: dict[str, int]) -> list[AuditPage]:
    snapshots = session.scalars(select(PageSnapshot).where(PageSnapshot.job_id == job_id).order_by(PageSnapshot.url))
    pages = [
        AuditPage(
            url=s.url,
            status=s.status,
            redirects=tuple(Hop(hop["url"], hop["status"]) for hop in s.redirects),
            redirect_loop=s.error_code == "redirect_loop",
            content_type=s.content_type,
            error_code=s.error_code,
            truncated=s.truncated,
            blocked=s.blocked,
            indexable=s.indexable,
            indexability_reason=s.indexability_reason,
            title=s.title,
            meta_description=s.meta_description,
            h1s=tuple(s.h1s),
            word_count=s.word_count,
            canonical=s.canonical,
            noindex=s.indexability_reason == "noindex",
            hreflang=tuple((lang, url) for lang, url in s.hreflang),
            in_sitemap=s.in_sitemap,
            in_search_console=s.in_search_console,
            inlinks=inlinks.get(s.url, 0),
            response_ms=s.response_ms,
        )
        for s in snapshots
    ]
    return pages


def store_findings(session: TenantSession, job_id: uuid.UUID, findings: Sequence[Finding]) -> None:
    session.execute(delete(CrawlIssue).where(CrawlIssue.job_id == job_id))
    rows = [
        {"tenant_id": session.tenant_id, "job_id": job_id, "code": f.code, "url": f.url, "detail": dict(f.detail)}
        for f in findings
    ]
    if rows:
        session.execute(insert(CrawlIssue).on_conflict_do_nothing(), rows)


def findings_of(session: TenantSession, job_id: uuid.UUID) -> list[Finding]:
    rows = session.execute(
        select(CrawlIssue.code, CrawlIssue.url, CrawlIssue.detail)
        .where(CrawlIssue.job_id == job_id)
        .order_by(CrawlIssue.code, CrawlIssue.url)
    ).all()
    return [Finding(code, url, detail) for code, url, detail in rows]


STATE_COLUMNS = (PageSnapshot.title, PageSnapshot.h1s, PageSnapshot.canonical, PageSnapshot.indexable)


def page_state(row: Any) -> PageState:
    """What the page's history tracks, from a row selecting a snapshot's ``STATE_COLUMNS``."""
    return PageState(row.title, row.h1s[0] if row.h1s else None, row.canonical, row.indexable)


def page_states(session: TenantSession, job_id: uuid.UUID) -> dict[str, PageState]:
    rows = session.execute(select(PageSnapshot.url, *STATE_COLUMNS).where(PageSnapshot.job_id == job_id)).all()
    return {row.url: page_state(row) for row in rows}


def latest_audited(session: TenantSession, project_id: uuid.UUID, *, before: uuid.UUID | None = None) -> Job | None:
    """The project's latest finished crawl (or the one finished before crawl ``before``)."""
    stmt = select(Job).where(
        Job.tenant_id == session.tenant_id,
        Job.project_id == project_id,
        Job.kind == JobKind.SITE_CRAWL,
        Job.status.in_(AUDITED),
    )
    if before is not None:
        reference = session.scalar(select(Job.finished_at).where(Job.id == before))
        if reference is None:
            return None
        stmt = stmt.where(Job.finished_at < reference)
    return session.scalar(stmt.order_by(Job.finished_at.desc(), Job.id.desc()).limit(1))
