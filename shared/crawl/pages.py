"""A project's pages as a crawl saw them (the latest finished crawl unless one is named), for the API."""

import itertools
import uuid

from shared.auth import Principal
from shared.crawl.audit import page_changes
from shared.crawl.data import audit as audit_data
from shared.crawl.data import pages as pages_data
from shared.crawl.data.pages import PageFilters
from shared.crawl.models import HopOut, LinkOut, PageChangeOut, PageDetailOut, PageOut
from shared.crawl.tables import PageSnapshot
from shared.db import TenantSession
from shared.errors import NotFound
from shared.jobs.models import JobKind
from shared.jobs.project_jobs import project_job
from shared.models import Page
from shared.pagination import decode_key, encode_key
from shared.projects.data import projects
from shared.tenancy.scope import tenant_scope


def crawl_of(session: TenantSession, project_id: uuid.UUID, crawl_id: uuid.UUID | None) -> uuid.UUID:
    """The named crawl of the project, or its latest finished one."""
    projects.get(session, project_id)
    if crawl_id is not None:
        return project_job(session, project_id, crawl_id, kind=JobKind.SITE_CRAWL).id
    latest = audit_data.latest_audited(session, project_id)
    if latest is None:
        raise NotFound(f"Project {project_id} has no finished crawl yet: start one with POST .../crawls.")
    return latest.id


def page_out(snapshot: PageSnapshot, issues: list[str]) -> PageOut:
    return PageOut(
        id=snapshot.page_id,
        crawl_id=snapshot.job_id,
        url=snapshot.url,
        final_url=snapshot.final_url,
        status=snapshot.status,
        indexable=snapshot.indexable,
        indexability_reason=snapshot.indexability_reason,
        title=snapshot.title,
        h1=snapshot.h1s[0] if snapshot.h1s else None,
        word_count=snapshot.word_count,
        depth=snapshot.depth,
        inlinks=snapshot.inlinks,
        response_ms=snapshot.response_ms,
        in_sitemap=snapshot.in_sitemap,
        change=snapshot.change,
        issues=issues,
        crawled_at=snapshot.created_at,
    )


def list_pages(
    principal: Principal,
    project_id: uuid.UUID,
    *,
    crawl_id: uuid.UUID | None,
    filters: PageFilters,
    limit: int,
    cursor: str | None,
) -> Page[PageOut]:
    with tenant_scope(principal) as session:
        job_id = crawl_of(session, project_id, crawl_id)
        rows = pages_data.page_list(
            session, job_id, filters, limit=limit, after_url=None if cursor is None else decode_key(cursor)
        )
        more = len(rows) > limit
        rows = rows[:limit]
        issues = pages_data.issue_codes(session, job_id, [row.url for row in rows])
        items = [page_out(row, issues.get(row.url, [])) for row in rows]
        return Page[PageOut](items=items, next_cursor=encode_key(rows[-1].url) if more and rows else None)


def get_page(
    principal: Principal, project_id: uuid.UUID, page_id: uuid.UUID, *, crawl_id: uuid.UUID | None
) -> PageDetailOut:
    with tenant_scope(principal) as session:
        job_id = crawl_of(session, project_id, crawl_id)
        snapshot = pages_data.snapshot_of_page(session, job_id, page_id)
        if snapshot is None:
            raise NotFound(f"Page {page_id} is not in crawl {job_id} of project {project_id}.")
        issues = pages_data.issue_codes(session, job_id, [snapshot.url]).get(snapshot.url, [])
        links = pages_data.links_of(session, snapshot.id)
        versions = pages_data.history(session, page_id)
        changes = [
            PageChangeOut(
                crawl_id=after.job_id,
                crawled_at=after.crawled_at,
                field=change.field,
                before=change.before,
                after=change.after,
            )
            for before, after in itertools.pairwise(versions)
            for change in page_changes({snapshot.url: before.state}, {snapshot.url: after.state})
        ]
        base = page_out(snapshot, issues)
        return PageDetailOut(
            **base.model_dump(),
            redirects=[HopOut(url=hop["url"], status=hop["status"]) for hop in snapshot.redirects],
            content_type=snapshot.content_type,
            bytes=snapshot.bytes,
            charset=snapshot.charset,
            truncated=snapshot.truncated,
            blocked=snapshot.blocked,
            error_code=snapshot.error_code,
            error_message=snapshot.error_message,
            canonical=snapshot.canonical,
            canonical_source=snapshot.canonical_source,
            meta_robots=snapshot.meta_robots,
            x_robots_tag=snapshot.x_robots_tag,
            title_length=None if snapshot.title is None else len(snapshot.title),
            meta_description=snapshot.meta_description,
            meta_description_length=None if snapshot.meta_description is None else len(snapshot.meta_description),
            h1s=snapshot.h1s,
            outline=[(level, text) for level, text in snapshot.outline],
            lang=snapshot.lang,
            hreflang=[(lang, url) for lang, url in snapshot.hreflang],
            jsonld_types=snapshot.jsonld_types,
            open_graph=snapshot.open_graph,
            main_text=snapshot.main_text,
            content_hash=snapshot.content_hash,
            images_without_alt=snapshot.images_without_alt,
            in_search_console=snapshot.in_search_console,
            links=[
                LinkOut(url=link.target_url, text=link.anchor_text, rel=link.rel, internal=link.internal)
                for link in links
            ],
            changes=changes,
        )
