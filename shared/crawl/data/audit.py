"""The site audit's reads and writes: inlinks, the audit's inputs, its findings, and the crawl before this one."""

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert

from shared.crawl.audit import AuditLink, AuditPage, Finding, PageState
from shared.crawl.fetch import Hop
from shared.crawl.tables import CrawlIssue, PageLink, PageSnapshot
from shared.db import TenantSession
from shared.jobs.models import JobKind, JobStatus
from shared.jobs.tables import Job

AUDITED = (JobStatus.SUCCEEDED, JobStatus.SUCCEEDED_WITH_ERRORS)


def settle_depths(session: TenantSession, job_id: uuid.UUID) -> None:
    """Each page's depth as the whole crawl found it (a page fetched from a sitemap before a link reached it)."""
    session.execute(
        text(
            """
            UPDATE page_snapshots s SET depth = f.depth
            FROM crawl_frontier f
            WHERE s.job_id = :job_id AND f.job_id = :job_id AND f.url = s.url AND s.depth IS DISTINCT FROM f.depth
            """
        ),
        {"job_id": job_id},
    )


def count_inlinks(session: TenantSession, job_id: uuid.UUID) -> None:
    """Each page's inlinks: the distinct other pages of the crawl linking to it."""
    session.execute(
        text(
            """
            UPDATE page_snapshots s SET inlinks = c.n
            FROM (
              SELECT l.target_url, count(DISTINCT l.snapshot_id) AS n
              FROM page_links l JOIN page_snapshots src ON src.id = l.snapshot_id
              WHERE l.job_id = :job_id AND l.internal AND l.target_url <> src.url
              GROUP BY l.target_url
            ) c
            WHERE s.job_id = :job_id AND s.url = c.target_url
            """
        ),
        {"job_id": job_id},
    )


def audit_inputs(session: TenantSession, job_id: uuid.UUID) -> tuple[list[AuditPage], list[AuditLink]]:
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
            inlinks=s.inlinks,
            response_ms=s.response_ms,
        )
        for s in snapshots
    ]
    links = [
        AuditLink(source, target)
        for source, target in session.execute(
            select(PageSnapshot.url, PageLink.target_url)
            .join(PageSnapshot, PageSnapshot.id == PageLink.snapshot_id)
            .where(PageLink.job_id == job_id, PageLink.internal)
        ).all()
    ]
    return pages, links


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


def page_states(session: TenantSession, job_id: uuid.UUID) -> dict[str, PageState]:
    rows = session.execute(
        select(
            PageSnapshot.url, PageSnapshot.title, PageSnapshot.h1s, PageSnapshot.canonical, PageSnapshot.indexable
        ).where(PageSnapshot.job_id == job_id)
    ).all()
    return {
        url: PageState(title, h1s[0] if h1s else None, canonical, indexable)
        for url, title, h1s, canonical, indexable in rows
    }


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
