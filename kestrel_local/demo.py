"""Demo data for a freshly started local stack, created through the same domain logic the API uses."""

from kestrel_local.tenants import ensure_tenant
from shared.auth import Principal
from shared.errors import Conflict
from shared.logic import keywords, projects
from shared.schemas.keywords import KeywordIn
from shared.schemas.projects import ProjectIn, ProjectOut

DEMO_TENANT = "org_demo"
DEMO_USER = "auth0|demo-user"
DEMO_DOMAIN = "demo-outdoor.example.com"
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


def seed(owner_url: str) -> ProjectOut:
    ensure_tenant(owner_url, DEMO_TENANT, "Demo Outdoor Co")
    principal = Principal(subject=DEMO_USER, tenant_id=DEMO_TENANT, permissions=frozenset())
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
