"""api_content: site crawls, the pages they saw, and the site audit.

Routes parse and validate (Powertools), check the permission, call the crawl
domain's logic and shape the response (pages as JSON, or CSV with
``Accept: text/csv`` or ``?format=csv``). Other tenants' projects, crawls and
pages answer 404.
"""

import uuid
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from shared.crawl import crawls, pages, site_audit
from shared.crawl.data.pages import PageFilters
from shared.crawl.models import AuditOut, CrawlIn, CrawlOut, PageDetailOut, PageOut
from shared.models import Page
from shared.pagination import DEFAULT_LIMIT, MAX_LIMIT
from shared.reports.export import to_csv
from shared.runtime.http import Cursor, Limit, create_app, current_principal, lambda_handler, requires
from shared.settings import CrawlQueue

READ = "read:projects"
WRITE = "write:projects"
CRAWLS = "/v1/projects/<project_id>/crawls"
PAGES = "/v1/projects/<project_id>/pages"
CSV = "text/csv"

app = create_app()

CrawlId = Annotated[uuid.UUID | None, Query(description="A crawl of the project (default: its latest finished one).")]


# Crawls (jobs of kind site_crawl, run by the page_crawl worker)


@app.post(
    CRAWLS,
    tags=["crawls"],
    status_code=202,
    summary="Crawl the project's site",
    description=(
        "Starts from the homepage, the given start URLs, the sitemaps robots.txt names (or /sitemap.xml) and the "
        "pages Search Console knows; follows internal links within the project's domain, obeying robots.txt and "
        "pacing requests per host. 422 when `max_pages` is over the plan's limit or a start URL is off the domain; "
        "409 while another crawl of the project runs."
    ),
    **requires(WRITE),
)
def start_crawl(project_id: uuid.UUID, body: CrawlIn) -> CrawlOut:
    return crawls.start(current_principal(app), project_id, body)


@app.get(CRAWLS, tags=["crawls"], **requires(READ))
def list_crawls(project_id: uuid.UUID, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[CrawlOut]:
    """The project's crawls, oldest first, with their progress."""
    return crawls.list_crawls(current_principal(app), project_id, limit=limit, cursor=cursor)


@app.get(f"{CRAWLS}/<crawl_id>", tags=["crawls"], **requires(READ))
def get_crawl(project_id: uuid.UUID, crawl_id: uuid.UUID) -> CrawlOut:
    """A crawl and its progress: URLs discovered, fetched, failed, blocked by robots.txt, still queued."""
    return crawls.get_crawl(current_principal(app), project_id, crawl_id)


@app.post(
    f"{CRAWLS}/<crawl_id>/cancel",
    tags=["crawls"],
    summary="Cancel a crawl",
    description="No new page is fetched; pages already recorded stay. 409 when the crawl has finished.",
    **requires(WRITE),
)
def cancel_crawl(project_id: uuid.UUID, crawl_id: uuid.UUID) -> CrawlOut:
    return crawls.cancel(current_principal(app), project_id, crawl_id)


# Pages and the site audit


@app.get(
    PAGES,
    tags=["pages"],
    summary="The pages a crawl saw",
    description=(
        "In URL order, filtered. As CSV with `Accept: text/csv` or `?format=csv` (the next page's cursor in "
        "`X-Kestrel-Next-Cursor`)."
    ),
    responses={
        200: {
            "description": "A page of pages (JSON), or its rows (CSV).",
            "content": {"application/json": {"model": Page[PageOut]}, CSV: {"schema": {"type": "string"}}},
        }
    },
    **requires(READ),
)
def list_pages(
    project_id: uuid.UUID,
    crawl_id: CrawlId = None,
    status: Annotated[int | None, Query(ge=100, le=599, description="Only pages answering this status.")] = None,
    indexable: Annotated[bool | None, Query(description="Only indexable (or non-indexable) pages.")] = None,
    issue: Annotated[str | None, Query(description="Only pages with this audit issue code.")] = None,
    path_prefix: Annotated[str | None, Query(description="Only URLs whose path starts with this.")] = None,
    title_contains: Annotated[str | None, Query(description="Only pages whose title contains this text.")] = None,
    format: Annotated[Literal["json", "csv"] | None, Query(description="`csv` for a CSV download.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response[Any]:
    as_csv = format == "csv" or (format is None and CSV in (app.current_event.headers.get("accept") or "").lower())
    filters = PageFilters(status, indexable, issue, path_prefix, title_contains)
    result = pages.list_pages(
        current_principal(app),
        project_id,
        crawl_id=crawl_id,
        filters=filters,
        limit=MAX_LIMIT if as_csv and limit == DEFAULT_LIMIT else limit,
        cursor=cursor,
    )
    if not as_csv:
        return Response(status_code=200, content_type="application/json", body=result)
    headers = {"Content-Disposition": f'attachment; filename="pages-{project_id}.csv"'}
    if result.next_cursor:
        headers["X-Kestrel-Next-Cursor"] = result.next_cursor
    return Response(
        status_code=200, content_type=f"{CSV}; charset=utf-8", body=to_csv(result.items, PageOut), headers=headers
    )


@app.get(f"{PAGES}/<page_id>", tags=["pages"], **requires(READ))
def get_page(project_id: uuid.UUID, page_id: uuid.UUID, crawl_id: CrawlId = None) -> PageDetailOut:
    """Everything the crawl recorded about the page, its links, and how its title, H1, canonical and indexability
    changed across crawls."""
    return pages.get_page(current_principal(app), project_id, page_id, crawl_id=crawl_id)


@app.get(
    "/v1/projects/<project_id>/audit",
    tags=["audit"],
    summary="The site audit of a crawl",
    description=(
        "Each issue type found (code, severity, threshold, explanation) with its count and first pages, errors "
        "first, and what changed since the previous crawl: issues new and fixed, pages whose title, H1, canonical "
        "or indexability changed. 404 until the project has a finished crawl."
    ),
    **requires(READ),
)
def get_audit(project_id: uuid.UUID, crawl_id: CrawlId = None) -> AuditOut:
    return site_audit.site_audit(current_principal(app), project_id, crawl_id=crawl_id)


handler = lambda_handler(app, settings=(CrawlQueue,))
