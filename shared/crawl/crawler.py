"""The page_crawl worker's units of work: seed a crawl, crawl a batch, and the weekly re-crawl of every project.

A crawl is a ``site_crawl`` job. Its start seeds the frontier and sends
``crawl_parallel_batches`` batch messages; each batch sends the next one while
URLs remain, so that many batches of a crawl run at once (each host still paced
by the platform-wide limiter); the last batch audits and finishes the crawl.
"""

import datetime as dt
import uuid
from dataclasses import dataclass

from shared.crawl import batches, enqueue, seeding
from shared.crawl import job as crawl_job
from shared.crawl.data import frontier
from shared.crawl.data import schedule as crawl_schedule
from shared.crawl.models import (
    CrawlBatchMessage,
    CrawlIn,
    ScheduledCrawlMessage,
    StartCrawlMessage,
)
from shared.crawl.ssrf import BlockedAddress
from shared.dates import utc_today
from shared.db import system_transaction, tenant_transaction
from shared.jobs import lifecycle
from shared.jobs.data import jobs
from shared.jobs.models import JobErrors, JobKind
from shared.observability import logger
from shared.runtime.work import ByConstruction, RunOnce, Work
from shared.settings import Crawling, settings_of

SCHEDULED_BY = "schedule"
SCHEDULE_LEASE = dt.timedelta(minutes=5)


def start_crawl(message: StartCrawlMessage) -> None:
    """Seed the frontier (idempotent: a URL is admitted once) and start the crawl's batches."""
    with tenant_transaction(message.tenant_id) as session:
        crawl = crawl_job.load(session, message.job_id)
        if not crawl.live or not jobs.mark_started(session, message.job_id):
            return
    try:
        found, problems = seeding.seed_urls(message.tenant_id, crawl)
    except BlockedAddress as exc:  # the project's own site: nothing of it can be fetched
        with tenant_transaction(message.tenant_id) as session:
            lifecycle.fail(session, message.job_id, f"The site cannot be crawled: {exc.detail}")
        return
    with tenant_transaction(message.tenant_id) as session:
        crawl = crawl_job.load(session, message.job_id, for_update=True)
        if not crawl.live:
            return
        found += seeding.gsc_seeds(session, crawl)
        admitted = frontier.admit(session, crawl.job_id, found, max_pages=crawl.settings.max_pages)
        errors = JobErrors()
        for url, reason in problems:
            errors.add_url(url, reason)
        lifecycle.add_errors(session, crawl.job_id, errors)
    logger.info(
        "Crawl seeded", extra={"job_id": str(crawl.job_id), "urls": admitted, "sitemap_problems": len(problems)}
    )
    enqueue.send(message.tenant_id, message.job_id, batches=settings_of(Crawling).crawl_parallel_batches)


def crawl_batch(message: CrawlBatchMessage) -> None:
    if batches.run_batch(message.tenant_id, message.job_id):
        enqueue.send(message.tenant_id, message.job_id)


# ---------------------------------------------------------------- the weekly re-crawl


@dataclass(frozen=True)
class ScheduledProjectCrawl:
    """A unit of the weekly schedule: start one project's crawl of an ISO week."""

    tenant_id: str
    project_id: uuid.UUID
    week: str

    @property
    def key(self) -> str:
        return f"crawl_schedule:{self.project_id}:{self.week}"


def scheduled_units(today: dt.date | None = None) -> list[ScheduledProjectCrawl]:
    year, week, _ = (today or utc_today()).isocalendar()
    with system_transaction() as session:
        targets = crawl_schedule.crawlable_projects(session)
    logger.info("Scheduled crawls", extra={"projects": len(targets), "week": f"{year}-W{week:02d}"})
    return [ScheduledProjectCrawl(t.tenant_id, t.project_id, f"{year}-W{week:02d}") for t in targets]


def start_scheduled_crawl(unit: ScheduledProjectCrawl) -> None:
    """Start the project's weekly crawl (or resume one an earlier attempt created); none while one runs."""
    with tenant_transaction(unit.tenant_id) as session:
        job = crawl_schedule.scheduled_crawl(session, unit.project_id, unit.key)
        if job is None:
            if crawl_schedule.live_crawl(session, unit.project_id) is not None:
                return  # a crawl the user started is still running: it is this week's crawl
            settings = crawl_schedule.last_settings(session, unit.project_id) or CrawlIn()
            job = jobs.create(
                session,
                kind=JobKind.SITE_CRAWL,
                project_id=unit.project_id,
                input=settings.model_dump(mode="json") | {"schedule_key": unit.key},
                created_by=SCHEDULED_BY,
            )
        elif not crawl_job.load(session, job.id).live:
            return
        job_id = job.id
    enqueue.send(unit.tenant_id, job_id, start=True)


# ---------------------------------------------------------------- the worker's units of work

CrawlUnit = StartCrawlMessage | CrawlBatchMessage | ScheduledProjectCrawl


def units_of(message: StartCrawlMessage | CrawlBatchMessage | ScheduledCrawlMessage) -> list[CrawlUnit]:
    """The schedule fans out to one unit per project; a crawl's messages are one unit each."""
    if isinstance(message, ScheduledCrawlMessage):
        return list[CrawlUnit](scheduled_units())
    return [message]


def rule_for(unit: CrawlUnit) -> RunOnce | ByConstruction:
    if isinstance(unit, ScheduledProjectCrawl):
        return RunOnce(unit.tenant_id, unit.key, lease=SCHEDULE_LEASE)
    if isinstance(unit, StartCrawlMessage):
        return ByConstruction("seeding admits each URL once; a crawl already started is not seeded again")
    return ByConstruction("URLs are claimed under a lease and settled once; a batch with nothing to claim ends")


def run(unit: CrawlUnit, work: Work) -> None:
    if isinstance(unit, ScheduledProjectCrawl):
        start_scheduled_crawl(unit)
    elif isinstance(unit, StartCrawlMessage):
        start_crawl(unit)
    else:
        crawl_batch(unit)
