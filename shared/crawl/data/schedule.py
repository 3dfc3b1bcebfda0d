"""What the weekly re-crawl reads: projects across tenants (identifiers only, through
``kestrel_crawlable_projects()``), and within a tenant the project's crawls."""

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, select, text

from shared.crawl.models import CrawlIn
from shared.db import SystemSession, TenantSession
from shared.jobs.models import LIVE_STATUSES, JobKind
from shared.jobs.tables import Job


@dataclass(frozen=True)
class CrawlableProject:
    tenant_id: str
    project_id: uuid.UUID


def crawlable_projects(session: SystemSession) -> list[CrawlableProject]:
    rows = session.execute(text("SELECT tenant_id, project_id FROM kestrel_crawlable_projects()")).all()
    return [CrawlableProject(row.tenant_id, row.project_id) for row in rows]


def _crawls(session: TenantSession, project_id: uuid.UUID) -> Select[Job]:
    return select(Job).where(
        Job.tenant_id == session.tenant_id, Job.project_id == project_id, Job.kind == JobKind.SITE_CRAWL
    )


def scheduled_crawl(session: TenantSession, project_id: uuid.UUID, schedule_key: str) -> Job | None:
    """The crawl an earlier attempt of this week's schedule created (its start may not have been sent)."""
    return session.scalar(_crawls(session, project_id).where(Job.input["schedule_key"].astext == schedule_key))


def live_crawl(session: TenantSession, project_id: uuid.UUID) -> Job | None:
    return session.scalar(_crawls(session, project_id).where(Job.status.in_(LIVE_STATUSES)).limit(1))


def last_settings(session: TenantSession, project_id: uuid.UUID) -> CrawlIn | None:
    """The settings of the project's latest crawl a user started: the weekly re-crawl repeats them."""
    job = session.scalar(
        _crawls(session, project_id)
        .where(Job.input["schedule_key"].astext.is_(None))
        .order_by(Job.created_at.desc())
        .limit(1)
    )
    return None if job is None else CrawlIn.of_job(job.input)
