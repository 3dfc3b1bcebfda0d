"""Demo data for a freshly started local stack, created through the same domain logic the API uses."""

import datetime as dt
import uuid

from kestrel_local.search_console import SearchConsoleServer
from kestrel_local.tenants import ensure_tenant
from shared.auth import Principal
from shared.crawl import crawls
from shared.crawl.models import CrawlIn, CrawlOut
from shared.errors import Conflict
from shared.jobs import project_jobs
from shared.jobs.models import JobKind, JobOut
from shared.projects import keywords, projects
from shared.projects.models import KeywordIn, ProjectIn, ProjectOut, PropertyIn, PropertyOut
from shared.search_console import connections, jobs
from shared.search_console.models import ConnectionIn, SyncIn

DEMO_TENANT = "org_demo"
DEMO_USER = "auth0|demo-user"
DEMO_DOMAIN = "demo-outdoor.example.com"
DEMO_SITE_URL = f"sc-domain:{DEMO_DOMAIN}"
DEMO_KEYWORDS = [
    ("trail running shoes", ["shoes", "running"]),
    ("best hiking boots", ["boots"]),
    ("waterproof hiking jacket", ["jackets"]),
    ("ultralight tent", ["camping"]),
    ("how to choose a sleeping bag", ["camping", "guides"]),
    ("demo outdoor discount code", ["brand"]),
    ("demo outdoor reviews", ["brand"]),
    ("merino wool base layer", ["clothing"]),
    ("trekking poles", ["gear"]),
    ("trail running shoes", ["shoes", "running"]),
]


def _principal() -> Principal:
    return Principal(subject=DEMO_USER, tenant_id=DEMO_TENANT, permissions=frozenset())


def seed(owner_url: str) -> ProjectOut:
    ensure_tenant(owner_url, DEMO_TENANT, "Demo Outdoor Co")
    principal = _principal()
    try:
        project = projects.create_project(
            principal, ProjectIn(name="Demo Outdoor", domain=DEMO_DOMAIN, brand_terms=["demo outdoor"])
        )
    except Conflict:
        page = projects.list_projects(principal, limit=200, cursor=None)
        project = next(item for item in page.items if item.domain == DEMO_DOMAIN)
    items = [KeywordIn(text=text, tags=tags) for text, tags in DEMO_KEYWORDS]
    items += [KeywordIn(text=text, tags=tags, device="mobile") for text, tags in DEMO_KEYWORDS[:3]]
    keywords.add_keywords(principal, project.id, items)
    return project


def demo_property(project_id: uuid.UUID) -> PropertyOut:
    principal = _principal()
    try:
        return projects.create_property(principal, project_id, PropertyIn(site_url=DEMO_SITE_URL))
    except Conflict:
        page = projects.list_properties(principal, project_id, limit=200, cursor=None)
        return next(item for item in page.items if item.site_url == DEMO_SITE_URL)


def connect_search_console(server: SearchConsoleServer, project_id: uuid.UUID, *, backfill_days: int) -> JobOut | None:
    """Connect the demo property to the local Search Console with a new service account key, as a user would.

    The stand-in forgets its credentials when it stops, so every `up` connects again (replacing the
    secret). The backfill runs once: when the demo property already has one, it is returned instead.
    """
    principal = _principal()
    prop = demo_property(project_id)
    key_file = server.register_service_account([DEMO_SITE_URL], name="kestrel-demo")
    connections.connect(principal, project_id, prop.id, ConnectionIn.model_validate({"credential": key_file}))
    earlier = project_jobs.list_jobs(
        principal, project_id, kind=JobKind.GSC_BACKFILL, status=None, limit=1, cursor=None
    )
    if earlier.items:
        return earlier.items[0]
    if backfill_days <= 0:
        return None
    yesterday = server.today - dt.timedelta(days=1)
    backfill = SyncIn(start_date=yesterday - dt.timedelta(days=backfill_days - 1), end_date=yesterday)
    return jobs.start_sync(principal, project_id, prop.id, backfill, kind=JobKind.GSC_BACKFILL)


def start_demo_crawl(project_id: uuid.UUID) -> CrawlOut:
    """Crawl the demo site once: the first `up` starts it, later ones show the latest crawl (re-crawls are weekly)."""
    principal = _principal()
    earlier = crawls.list_crawls(principal, project_id, limit=1, cursor=None)
    if earlier.items:
        return earlier.items[0]
    return crawls.start(principal, project_id, CrawlIn())
