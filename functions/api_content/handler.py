"""api_content: site crawls, the pages they saw, the site audit, the pages' entities and topics, rank checks and
rank data.

Routes parse and validate (Powertools), check the permission, call the crawl and
NLP and ranks domains' logic and shape the response (lists as JSON, or CSV with
``Accept: text/csv`` or ``?format=csv``). Other tenants' projects, crawls,
pages, entities, topics and keywords answer 404.
"""

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from shared.crawl import crawls, pages, site_audit
from shared.crawl.data.pages import PageFilters
from shared.crawl.models import AuditOut, CrawlIn, CrawlOut, PageDetailOut, PageOut
from shared.jobs.models import JobOut
from shared.models import Page
from shared.nlp import entities, topics
from shared.nlp.models import (
    LABEL_DESCRIPTION,
    EntityOut,
    EntityPageOut,
    PageEntitiesOut,
    PageEntityOut,
    TopicOut,
    TopicPageOut,
    TopicsOut,
)
from shared.pagination import DEFAULT_LIMIT, MAX_LIMIT
from shared.ranks import live_checks, ranks, visibility
from shared.ranks.api_models import (
    CompetitorOut,
    CompetitorsOut,
    DomainVisibilityOut,
    KeywordRanksOut,
    RankOut,
    RankPointOut,
    RanksVsSearchConsoleOut,
    RankVsSearchConsoleOut,
    UrlChangeOut,
    UrlChangesOut,
    VisibilityOut,
)
from shared.ranks.models import RankCheckIn
from shared.reports.export import to_csv
from shared.runtime.http import Cursor, Limit, create_app, current_principal, lambda_handler, requires
from shared.screenshots import api as screenshot_api
from shared.screenshots.api_models import ScreenshotDetailOut, ScreenshotOut
from shared.settings import CrawlQueue, RankCheckQueue, RankChecks, ScreenshotStore, TopicQueue, Topics

READ = "read:projects"
WRITE = "write:projects"
CRAWLS = "/v1/projects/<project_id>/crawls"
PAGES = "/v1/projects/<project_id>/pages"
ENTITIES = "/v1/projects/<project_id>/entities"
TOPICS = "/v1/projects/<project_id>/topics"
RANK_CHECKS = "/v1/projects/<project_id>/rank-checks"
CSV = "text/csv"
CSV_DESCRIPTION = "As CSV with `Accept: text/csv` or `?format=csv` (the next page's cursor in `X-Kestrel-Next-Cursor`)."

app = create_app()

CrawlId = Annotated[uuid.UUID | None, Query(description="A crawl of the project (default: its latest finished one).")]
Format = Annotated[Literal["json", "csv"] | None, Query(description="`csv` for a CSV download.")]


def csv_responses(model: Any) -> dict[int, OpenAPIResponse]:
    """The OpenAPI answer of a list that also comes as CSV."""
    return {
        200: {
            "description": "A page of the list (JSON), or its rows (CSV).",
            "content": {"application/json": {"model": model}, CSV: {"schema": {"type": "string"}}},
        }
    }


def wants_csv(format: str | None) -> bool:
    return format == "csv" or (format is None and CSV in (app.current_event.headers.get("accept") or "").lower())


def listing(result: Page[Any], item_type: type[BaseModel], filename: str, *, as_csv: bool) -> Response[Any]:
    """A list as JSON, or its items as a CSV download (the next page's cursor in a header)."""
    if not as_csv:
        return Response(status_code=200, content_type="application/json", body=result)
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if result.next_cursor:
        headers["X-Kestrel-Next-Cursor"] = result.next_cursor
    return Response(
        status_code=200, content_type=f"{CSV}; charset=utf-8", body=to_csv(result.items, item_type), headers=headers
    )


def page_size(limit: int, as_csv: bool) -> int:
    """A CSV download takes the largest page unless a limit was asked for."""
    return MAX_LIMIT if as_csv and limit == DEFAULT_LIMIT else limit


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
    description=f"In URL order, filtered. {CSV_DESCRIPTION}",
    responses=csv_responses(Page[PageOut]),
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
    format: Format = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response[Any]:
    as_csv = wants_csv(format)
    filters = PageFilters(status, indexable, issue, path_prefix, title_contains)
    result = pages.list_pages(
        current_principal(app),
        project_id,
        crawl_id=crawl_id,
        filters=filters,
        limit=page_size(limit, as_csv),
        cursor=cursor,
    )
    return listing(result, PageOut, f"pages-{project_id}.csv", as_csv=as_csv)


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


# Rank data (the rank_check worker's SERP snapshots), calibrated on the project's Search Console property

RANKS = "/v1/projects/<project_id>/ranks"
KeywordTag = Annotated[str | None, Query(min_length=1, max_length=50, description="Only keywords with this tag.")]
KeywordDevice = Annotated[Literal["desktop", "mobile"] | None, Query(description="Only keywords of this device.")]
StartDate = Annotated[dt.date | None, Query(description="The first day (included).")]
EndDate = Annotated[dt.date | None, Query(description="The last day (included; default: today).")]
PropertyId = Annotated[
    uuid.UUID | None,
    Query(description="The Search Console property to calibrate on (default: the project's first active one)."),
]


def download(result: BaseModel, item_type: type[BaseModel], filename: str, *, as_csv: bool) -> Response[Any]:
    """A result with ``items`` as JSON, or its items as a CSV download (nested lists exploded into rows)."""
    if not as_csv:
        return Response(status_code=200, content_type="application/json", body=result)
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    next_cursor = getattr(result, "next_cursor", None)
    if next_cursor:
        headers["X-Kestrel-Next-Cursor"] = next_cursor
    items = getattr(result, "items")  # noqa: B009  (every result passed here has items)
    return Response(
        status_code=200, content_type=f"{CSV}; charset=utf-8", body=to_csv(items, item_type), headers=headers
    )


@app.get(
    RANKS,
    tags=["ranks"],
    summary="The keywords' latest ranks",
    description=(
        "Each tracked keyword (by text) with its latest check: the project's best organic position and ranking "
        "URL, the change since the previous check, its best position ever, the SERP features present and owned. "
        f"Keywords never checked have null positions. {CSV_DESCRIPTION}"
    ),
    responses=csv_responses(Page[RankOut]),
    **requires(READ),
)
def list_ranks(
    project_id: uuid.UUID,
    tag: KeywordTag = None,
    device: KeywordDevice = None,
    format: Format = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response[Any]:
    as_csv = wants_csv(format)
    result = ranks.list_ranks(
        current_principal(app), project_id, tag=tag, device=device, limit=page_size(limit, as_csv), cursor=cursor
    )
    return listing(result, RankOut, f"ranks-{project_id}.csv", as_csv=as_csv)


@app.get(
    "/v1/projects/<project_id>/keywords/<keyword_id>/ranks",
    tags=["ranks"],
    summary="A keyword's rank history",
    description=(
        f"Its checks over the range (default: the {ranks.HISTORY_DAYS} days to today; at most "
        f"{ranks.MAX_RANGE_DAYS}), oldest first. As CSV with `Accept: text/csv` or `?format=csv`."
    ),
    responses=csv_responses(KeywordRanksOut),
    **requires(READ),
)
def keyword_ranks(
    project_id: uuid.UUID,
    keyword_id: uuid.UUID,
    start_date: StartDate = None,
    end_date: EndDate = None,
    format: Format = None,
) -> Response[Any]:
    result = ranks.keyword_ranks(
        current_principal(app), project_id, keyword_id, start_date=start_date, end_date=end_date
    )
    return download(result, RankPointOut, f"keyword-{keyword_id}-ranks.csv", as_csv=wants_csv(format))


@app.get(
    "/v1/projects/<project_id>/visibility",
    tags=["ranks"],
    summary="Share of voice over time",
    description=(
        "Per day with checks, the visibility of the project and of its most visible competitors: for each keyword "
        "and domain, the CTR expected at the domain's best organic position on the property's own fitted Search "
        "Console CTR curve, weighted by the keyword's Search Console impressions for the same query, country and "
        "device; visibility = sum(weight x expected CTR) / sum(weight x CTR at position 1). `curve` and "
        "`weighting` say what was used (a fallback curve, weight 1, where the property has too little data). "
        f"Default range: the {visibility.VISIBILITY_DAYS} days to today; at most "
        f"{visibility.MAX_VISIBILITY_DAYS}. As CSV (a row per domain and day) with `Accept: text/csv` or "
        "`?format=csv`."
    ),
    responses=csv_responses(VisibilityOut),
    **requires(READ),
)
def get_visibility(
    project_id: uuid.UUID,
    start_date: StartDate = None,
    end_date: EndDate = None,
    property_id: PropertyId = None,
    competitors: Annotated[
        int, Query(ge=0, le=50, description="How many other domains to show, the most visible first.")
    ] = visibility.DEFAULT_COMPETITORS,
    tag: KeywordTag = None,
    device: KeywordDevice = None,
    format: Format = None,
) -> Response[Any]:
    result = visibility.project_visibility(
        current_principal(app),
        project_id,
        start_date=start_date,
        end_date=end_date,
        property_id=property_id,
        competitors_shown=competitors,
        tag=tag,
        device=device,
    )
    return download(result, DomainVisibilityOut, f"visibility-{project_id}.csv", as_csv=wants_csv(format))


@app.get(
    "/v1/projects/<project_id>/competitors",
    tags=["ranks"],
    summary="The domains competing for the project's keywords",
    description=(
        "Domains in the top 10 of the project's keywords on each keyword's latest check: how many keywords, how "
        "many shared with the project (in the top 10 too), on how many they rank above it, their average "
        "position and their visibility (as `/visibility`, over the latest checks). Most visible first. "
        f"{CSV_DESCRIPTION}"
    ),
    responses=csv_responses(CompetitorsOut),
    **requires(READ),
)
def list_competitors(
    project_id: uuid.UUID,
    property_id: PropertyId = None,
    tag: KeywordTag = None,
    device: KeywordDevice = None,
    format: Format = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response[Any]:
    as_csv = wants_csv(format)
    result = visibility.list_competitors(
        current_principal(app),
        project_id,
        property_id=property_id,
        tag=tag,
        device=device,
        limit=page_size(limit, as_csv),
        cursor=cursor,
    )
    return listing(result, CompetitorOut, f"competitors-{project_id}.csv", as_csv=as_csv)


@app.get(
    f"{RANKS}/search-console",
    tags=["ranks"],
    summary="Ranks against Search Console",
    description=(
        "Per keyword (by text), the checks' position beside Search Console's impression-weighted average position "
        "for the same query, country (the keyword's alpha-2 as Search Console's alpha-3) and device, over the "
        f"{visibility.AGREEMENT_DAYS} days ending on the property's latest data; `flagged` where they disagree "
        "by more than the documented threshold. 404 when the project has no property. "
        f"{CSV_DESCRIPTION}"
    ),
    responses=csv_responses(RanksVsSearchConsoleOut),
    **requires(READ),
)
def ranks_vs_search_console(
    project_id: uuid.UUID,
    property_id: PropertyId = None,
    flagged: Annotated[bool, Query(description="Only the keywords flagged.")] = False,
    tag: KeywordTag = None,
    device: KeywordDevice = None,
    format: Format = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response[Any]:
    as_csv = wants_csv(format)
    result = visibility.ranks_vs_search_console(
        current_principal(app),
        project_id,
        property_id=property_id,
        tag=tag,
        device=device,
        flagged_only=flagged,
        limit=page_size(limit, as_csv),
        cursor=cursor,
    )
    return listing(result, RankVsSearchConsoleOut, f"ranks-vs-search-console-{project_id}.csv", as_csv=as_csv)


@app.get(
    f"{RANKS}/url-changes",
    tags=["ranks"],
    summary="Ranking-URL changes",
    description=(
        "Keywords whose ranking URL changed from one of the project's pages to another between two consecutive "
        "checks (cannibalization in rank data), latest first; URLs compared without their fragment. Default "
        f"range: the {ranks.CHANGES_DAYS} days to today. {CSV_DESCRIPTION}"
    ),
    responses=csv_responses(UrlChangesOut),
    **requires(READ),
)
def list_url_changes(
    project_id: uuid.UUID,
    start_date: StartDate = None,
    end_date: EndDate = None,
    tag: KeywordTag = None,
    device: KeywordDevice = None,
    format: Format = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response[Any]:
    as_csv = wants_csv(format)
    result = ranks.list_url_changes(
        current_principal(app),
        project_id,
        start_date=start_date,
        end_date=end_date,
        tag=tag,
        device=device,
        limit=page_size(limit, as_csv),
        cursor=cursor,
    )
    return listing(result, UrlChangeOut, f"url-changes-{project_id}.csv", as_csv=as_csv)


# Entities and topics (the nlp_entities and topic_model workers fill them)

EntityLabel = Annotated[
    str | None, Query(pattern=r"^[A-Z_]{2,32}$", description=f"Only this label. {LABEL_DESCRIPTION}")
]


@app.get(
    ENTITIES,
    tags=["entities"],
    summary="The project's top entities",
    description=(
        "People, organisations, places, products... the NLP service found in the main text of the project's "
        "pages (English pages; others are recorded as unsupported), on the most pages first, then the most "
        f"mentioned. {CSV_DESCRIPTION}"
    ),
    responses=csv_responses(Page[EntityOut]),
    **requires(READ),
)
def list_entities(
    project_id: uuid.UUID,
    label: EntityLabel = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Only entities whose text contains this.")
    ] = None,
    format: Format = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response[Any]:
    as_csv = wants_csv(format)
    result = entities.list_entities(
        current_principal(app), project_id, label=label, contains=q, limit=page_size(limit, as_csv), cursor=cursor
    )
    return listing(result, EntityOut, f"entities-{project_id}.csv", as_csv=as_csv)


@app.get(
    f"{ENTITIES}/<entity_id>/pages",
    tags=["entities"],
    summary="The pages mentioning an entity",
    description=f"Most mentions first. {CSV_DESCRIPTION}",
    responses=csv_responses(Page[EntityPageOut]),
    **requires(READ),
)
def list_entity_pages(
    project_id: uuid.UUID,
    entity_id: uuid.UUID,
    format: Format = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response[Any]:
    as_csv = wants_csv(format)
    result = entities.entity_pages(
        current_principal(app), project_id, entity_id, limit=page_size(limit, as_csv), cursor=cursor
    )
    return listing(result, EntityPageOut, f"entity-{entity_id}-pages.csv", as_csv=as_csv)


@app.get(
    f"{PAGES}/<page_id>/entities",
    tags=["entities"],
    summary="A page's entities",
    description=(
        "Most mentioned first, with the page's language as the NLP service read it: `supported` false and the "
        f"`reason` when it is not a language entities are extracted in. {CSV_DESCRIPTION}"
    ),
    responses=csv_responses(PageEntitiesOut),
    **requires(READ),
)
def list_page_entities(
    project_id: uuid.UUID,
    page_id: uuid.UUID,
    format: Format = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response[Any]:
    as_csv = wants_csv(format)
    result = entities.page_entities(
        current_principal(app), project_id, page_id, limit=page_size(limit, as_csv), cursor=cursor
    )
    return listing(result, PageEntityOut, f"page-{page_id}-entities.csv", as_csv=as_csv)


@app.get(
    TOPICS,
    tags=["topics"],
    summary="The project's topics",
    description=(
        "The current topic model (LDA over the project's analysed pages): how many topics (`k`) and why, its "
        "coherence, and each topic's top terms with their weights. 404 until a model has been fitted. "
        f"{CSV_DESCRIPTION}"
    ),
    responses=csv_responses(TopicsOut),
    **requires(READ),
)
def list_topics(
    project_id: uuid.UUID, format: Format = None, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Response[Any]:
    as_csv = wants_csv(format)
    result = topics.current_topics(current_principal(app), project_id, limit=page_size(limit, as_csv), cursor=cursor)
    return listing(result, TopicOut, f"topics-{project_id}.csv", as_csv=as_csv)


@app.get(
    f"{TOPICS}/<topic_id>/pages",
    tags=["topics"],
    summary="A topic's pages",
    description=f"The pages of a topic of the current model, heaviest first. {CSV_DESCRIPTION}",
    responses=csv_responses(Page[TopicPageOut]),
    **requires(READ),
)
def list_topic_pages(
    project_id: uuid.UUID,
    topic_id: Annotated[int, Path(ge=0, le=1000, description="A topic of the current model (`id` in `/topics`).")],
    format: Format = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response[Any]:
    as_csv = wants_csv(format)
    result = topics.topic_pages(
        current_principal(app), project_id, topic_id, limit=page_size(limit, as_csv), cursor=cursor
    )
    return listing(result, TopicPageOut, f"topic-{topic_id}-pages.csv", as_csv=as_csv)


@app.post(
    f"{TOPICS}/refit",
    tags=["topics"],
    status_code=202,
    summary="Fit the project's topic model again",
    description=(
        "A job of kind `topic_model` (follow it at `/jobs/{job_id}`): the analysed pages' texts are fitted anew and "
        "the result becomes the current model. Models are also refitted on their own once 10% of the analysed "
        "pages changed. 409 while a fit runs; the job fails with the reason when there are too few pages."
    ),
    **requires(WRITE),
)
def refit_topics(project_id: uuid.UUID) -> JobOut:
    return topics.request_refit(current_principal(app), project_id)


# Screenshots (the serp_screenshot worker takes them after each rank check)

SCREENSHOTS = "/v1/projects/<project_id>/screenshots"


@app.get(
    SCREENSHOTS,
    tags=["screenshots"],
    summary="The project's screenshots",
    description=(
        "Newest first: each rank check's SERP (rendered from the HTML DataForSEO returned; Kestrel never requests "
        "Google) and the ranking page with the organic results above it, desktop 1920x1080 above the fold and full "
        "page, and a mobile viewport. A capture that failed is listed with its reason. Filter by keyword or "
        "snapshot; `GET .../screenshots/{id}` gives a link to the PNG."
    ),
    **requires(READ),
)
def list_screenshots(
    project_id: uuid.UUID,
    keyword_id: Annotated[uuid.UUID | None, Query(description="Only this tracked keyword's.")] = None,
    snapshot_id: Annotated[uuid.UUID | None, Query(description="Only this SERP snapshot's.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[ScreenshotOut]:
    return screenshot_api.list_screenshots(
        current_principal(app), project_id, keyword_id=keyword_id, snapshot_id=snapshot_id, limit=limit, cursor=cursor
    )


@app.get(
    f"{SCREENSHOTS}/<screenshot_id>",
    tags=["screenshots"],
    summary="A screenshot and a short-lived link to its PNG",
    description="`download_url` is a presigned GET that expires at `download_expires_at` (minutes): ask again.",
    **requires(READ),
)
def get_screenshot(project_id: uuid.UUID, screenshot_id: uuid.UUID) -> ScreenshotDetailOut:
    return screenshot_api.get_screenshot(current_principal(app), project_id, screenshot_id)


@app.post(
    RANK_CHECKS,
    tags=["ranks"],
    status_code=202,
    summary="Check the project's keywords' ranks now",
    description=(
        "A job of kind `rank_check` (follow it at `/jobs/{job_id}`): the keywords (default: every active one) are "
        "checked at once through DataForSEO's live SERP API at the project's depth, each stored as the keyword's "
        "snapshot of the day. Every project's active keywords are also checked daily. Each keyword checked "
        "counts against the tenant's daily limit of on-demand checks (429 with a message when it is reached) "
        "and its cost against the monthly budget (the job fails saying so when that is reached)."
    ),
    **requires(WRITE),
)
def request_rank_check(project_id: uuid.UUID, body: Annotated[RankCheckIn | None, Body()] = None) -> JobOut:
    return live_checks.request(current_principal(app), project_id, body or RankCheckIn())


handler = lambda_handler(app, settings=(CrawlQueue, TopicQueue, Topics, RankCheckQueue, RankChecks, ScreenshotStore))
