"""A crawl job as the worker reads it: its settings, the project's scope, and the client it fetches with."""

import uuid
from dataclasses import dataclass

import httpx

from shared.crawl.models import CrawlIn
from shared.crawl.ssrf import AddressPolicy, guarded_client
from shared.crawl.urls import CrawlScope
from shared.db import TenantSession
from shared.errors import NotFound
from shared.jobs.data import jobs
from shared.jobs.models import LIVE_STATUSES, JobKind, JobStatus
from shared.projects.data import projects
from shared.settings import Crawling, settings_of


@dataclass(frozen=True)
class CrawlJob:
    job_id: uuid.UUID
    project_id: uuid.UUID
    domain: str
    settings: CrawlIn
    status: JobStatus

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def scope(self) -> CrawlScope:
        return CrawlScope(
            self.domain,
            include_subdomains=self.settings.include_subdomains,
            include=tuple(self.settings.include),
            exclude=tuple(self.settings.exclude),
        )

    @property
    def homepage(self) -> str:
        return f"https://{self.domain}/"


def load(session: TenantSession, job_id: uuid.UUID, *, for_update: bool = False) -> CrawlJob:
    job = jobs.get(session, job_id, kind=JobKind.SITE_CRAWL, for_update=for_update)
    if job.project_id is None:
        raise NotFound(f"Crawl {job_id} belongs to no project.")  # crawls are created in a project
    project = projects.get(session, job.project_id)
    return CrawlJob(job.id, job.project_id, project.domain, CrawlIn.of_job(job.input), JobStatus(job.status))


def http_client() -> httpx.Client:
    """One SSRF-guarded client per execution environment (connections are reused across batches), made anew
    when the settings are read anew (``shared.settings.forget_settings``)."""
    settings = settings_of(Crawling)
    cached = _clients.get("current")
    if cached is None or cached[0] is not settings:
        client = guarded_client(
            AddressPolicy(pinned=settings.crawl_pinned_hosts),
            timeout=settings.crawl_timeout_seconds,
            ca_file=settings.crawl_ca_file,
            user_agent=settings.crawl_user_agent,
        )
        _clients["current"] = cached = (settings, client)
    return cached[1]


_clients: dict[str, tuple[Crawling, httpx.Client]] = {}
