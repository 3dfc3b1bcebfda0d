"""Crawls as the API offers them: start one (within the plan's page budget), list them, follow one, cancel it."""

import uuid

from shared.auth import Principal
from shared.crawl import completion, enqueue
from shared.crawl.data import schedule as crawl_schedule
from shared.crawl.models import CrawlIn, CrawlOut
from shared.crawl.ssrf import check_url
from shared.crawl.urls import CrawlScope, normalize
from shared.db import TenantSession
from shared.errors import Conflict, InvalidRequest
from shared.jobs import lifecycle
from shared.jobs.data import jobs
from shared.jobs.models import FINISHED_STATUSES, JobKind, LineError
from shared.jobs.project_jobs import project_job
from shared.jobs.tables import Job
from shared.models import Page
from shared.projects.data import projects
from shared.tenancy.data import tenants
from shared.tenancy.plans import CRAWL_PAGE_LIMITS
from shared.tenancy.scope import tenant_scope


def crawl_out(session: TenantSession, job: Job) -> CrawlOut:
    return CrawlOut(
        id=job.id,
        project_id=job.project_id,
        status=job.status,
        settings=CrawlIn.of_job(job.input),
        progress=completion.progress_of(session, job.id, finished=job.status in FINISHED_STATUSES),
        error_count=job.error_count,
        errors=[LineError.model_validate(item) for item in job.errors],
        failure_reason=job.failure_reason,
        created_by=job.created_by,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def _check(session: TenantSession, data: CrawlIn, domain: str) -> CrawlIn:
    plan = tenants.plan_of(session)
    limit = CRAWL_PAGE_LIMITS[plan]
    if data.max_pages > limit:
        raise InvalidRequest(
            f"max_pages {data.max_pages:,} is over the {plan} plan's {limit:,} pages per crawl.", field="max_pages"
        )
    scope = CrawlScope(domain, include_subdomains=data.include_subdomains)
    start_urls = []
    for url in data.start_urls:
        check_url(url)
        normal = normalize(url)
        if not scope.contains(normal):
            raise InvalidRequest(
                f"{url} is not on the project's domain {domain}"
                + ("" if data.include_subdomains else " (set include_subdomains to crawl its subdomains)"),
                field="start_urls",
            )
        start_urls.append(normal)
    return data.model_copy(update={"start_urls": start_urls})


def start(principal: Principal, project_id: uuid.UUID, data: CrawlIn) -> CrawlOut:
    with tenant_scope(principal) as session:
        project = projects.get(session, project_id)
        settings = _check(session, data, project.domain)
        running = crawl_schedule.live_crawl(session, project_id)
        if running is not None:
            raise Conflict(f"Crawl {running.id} of this project is still running; cancel it or wait for it to finish.")
        job = jobs.create(
            session,
            kind=JobKind.SITE_CRAWL,
            project_id=project_id,
            input=settings.model_dump(mode="json"),
            created_by=principal.subject,
        )
        out = crawl_out(session, job)
    enqueue.send(principal.tenant_id, job.id, start=True)  # after the commit: the worker must find the job
    return out


def list_crawls(principal: Principal, project_id: uuid.UUID, *, limit: int, cursor: str | None) -> Page[CrawlOut]:
    with tenant_scope(principal) as session:
        projects.get(session, project_id)
        rows, next_cursor = jobs.list_page(
            session, project_id=project_id, kind=JobKind.SITE_CRAWL, limit=limit, cursor=cursor
        )
        return Page[CrawlOut](items=[crawl_out(session, row) for row in rows], next_cursor=next_cursor)


def get_crawl(principal: Principal, project_id: uuid.UUID, crawl_id: uuid.UUID) -> CrawlOut:
    with tenant_scope(principal) as session:
        return crawl_out(session, project_job(session, project_id, crawl_id, kind=JobKind.SITE_CRAWL))


def cancel(principal: Principal, project_id: uuid.UUID, crawl_id: uuid.UUID) -> CrawlOut:
    """No new page is fetched; the pages already recorded stay (the crawl is not audited)."""
    with tenant_scope(principal) as session:
        job = project_job(session, project_id, crawl_id, kind=JobKind.SITE_CRAWL)
        if not lifecycle.cancel(session, crawl_id):
            raise Conflict(f"Crawl {crawl_id} has already finished ({job.status}); there is nothing to cancel.")
        session.refresh(job)
        return crawl_out(session, job)
