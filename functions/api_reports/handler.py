"""api_reports: SEO reports over a property's Search Console data, as JSON or CSV.

Each route parses its query parameters into the report's pydantic model
(Powertools validates them: 422 with the field), runs the report (domain
logic, which knows nothing of HTTP) and shapes the response: JSON, or CSV when
asked with ``Accept: text/csv`` or ``?format=csv``. Unknown projects and
properties, and other tenants', answer 404.
"""

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from shared.reports import (
    breakdown,
    cannibalization,
    content_decay,
    ctr_opportunities,
    performance,
    striking_distance,
    tracked_keywords,
    winners_losers,
)
from shared.reports.export import item_type_of, to_csv
from shared.reports.models.base import MAX_LIMIT, PerformanceParams, PerformanceReport, Report, ReportParams
from shared.reports.models.search import (
    BreakdownParams,
    BreakdownReport,
    CannibalizationParams,
    CannibalizationReport,
    CtrOpportunitiesParams,
    CtrOpportunitiesReport,
    StrikingDistanceParams,
    StrikingDistanceReport,
)
from shared.reports.models.trends import (
    ContentDecayParams,
    ContentDecayReport,
    TrackedKeywordsParams,
    TrackedKeywordsReport,
    WinnersLosersParams,
    WinnersLosersReport,
)
from shared.runtime.http import create_app, current_principal, lambda_handler, requires

TITLE = "Kestrel reports API"
READ = "read:projects"
REPORTS = "/v1/projects/<project_id>/properties/<property_id>/reports"
CSV = "text/csv"

app = create_app()


def _wants_csv(params: ReportParams) -> bool:
    if params.format is not None:
        return params.format == "csv"
    accept = app.current_event.headers.get("accept") or ""
    return CSV in accept.lower()


def respond[P: ReportParams](
    run: Callable[..., Report[Any]], project_id: uuid.UUID, property_id: uuid.UUID, params: P
) -> Response[Any]:
    """Run a report for the caller; CSV pages default to the largest page size."""
    as_csv = _wants_csv(params)
    if as_csv and params.limit is None:
        params = params.model_copy(update={"limit": MAX_LIMIT})
    report = run(current_principal(app), project_id, property_id, params)
    if not as_csv:
        return Response(status_code=200, content_type="application/json", body=report)
    coverage = report.coverage
    headers = {
        "Content-Disposition": f'attachment; filename="{report.report}-{coverage.start}-{coverage.end}.csv"',
        "X-Kestrel-Total-Items": str(report.total_items),
        "X-Kestrel-Coverage": f"{coverage.first_date or ''}/{coverage.last_date or ''}",
        "X-Kestrel-Provisional-From": str(coverage.provisional_from or ""),
    }
    if report.next_cursor:
        headers["X-Kestrel-Next-Cursor"] = report.next_cursor
    return Response(
        status_code=200,
        content_type=f"{CSV}; charset=utf-8",
        body=to_csv(report, item_type_of(report)),
        headers=headers,
    )


def report_responses(model: Any) -> dict[int, OpenAPIResponse]:
    """The 200 response of a report route: the report as JSON, or as CSV.

    Routes return ``Response[Any]``: Powertools validates a response against the declared return type, and a
    CSV body is text, not the report model. The JSON schema is declared here for the OpenAPI document instead.
    """
    return {
        200: {
            "description": "The report (JSON), or its rows (CSV).",
            "content": {"application/json": {"model": model}, CSV: {"schema": {"type": "string"}}},
        }
    }


_CSV_NOTE = (
    " As CSV with `Accept: text/csv` or `?format=csv` (one row per item; the next page's cursor in"
    " `X-Kestrel-Next-Cursor`)."
)


@app.get(
    f"{REPORTS}/performance",
    tags=["reports"],
    summary="Performance over time",
    description=(
        "Clicks, impressions, CTR and average position per day, ISO week or month, optionally beside the previous "
        "period or the same dates a year earlier (paired by position in the period), with totals." + _CSV_NOTE
    ),
    responses=report_responses(PerformanceReport),
    **requires(READ),
)
def get_performance(
    project_id: uuid.UUID, property_id: uuid.UUID, params: Annotated[PerformanceParams, Query()]
) -> Response[Any]:
    return respond(performance.run, project_id, property_id, params)


@app.get(
    f"{REPORTS}/breakdown",
    tags=["reports"],
    summary="Breakdown by query, page, country, device, search type or brand",
    description=(
        "Clicks, impressions, CTR and average position per query, page, country, device, search type (across all "
        "search types) or brand (`brand` and `non_brand` rows, by the project's brand terms), sorted by a measure "
        "(rows without impressions last, ties by key). Query and page filters (`contains` and `not_contains` ignore "
        "case, `exact` and `regex` do not) and the brand segment apply to dimensions query, page and brand only."
        + _CSV_NOTE
    ),
    responses=report_responses(BreakdownReport),
    **requires(READ),
)
def get_breakdown(
    project_id: uuid.UUID, property_id: uuid.UUID, params: Annotated[BreakdownParams, Query()]
) -> Response[Any]:
    return respond(breakdown.run, project_id, property_id, params)


@app.get(
    f"{REPORTS}/striking-distance",
    tags=["reports"],
    summary="Striking distance",
    description=(
        "Queries whose average position is between `min_position` and `max_position` (default 4 to 20) with at "
        "least `min_impressions`, most impressions first; each with the page that ranks for it (its most "
        "impressions) and whether that page's crawled title and H1 contain the query." + _CSV_NOTE
    ),
    responses=report_responses(StrikingDistanceReport),
    **requires(READ),
)
def get_striking_distance(
    project_id: uuid.UUID, property_id: uuid.UUID, params: Annotated[StrikingDistanceParams, Query()]
) -> Response[Any]:
    return respond(striking_distance.run, project_id, property_id, params)


@app.get(
    f"{REPORTS}/ctr-opportunities",
    tags=["reports"],
    summary="CTR opportunities",
    description=(
        "The property's CTR curve (ln(ctr) = a + b ln(position), fitted over rounded positions 1 to 20 weighted "
        "by impressions) and the queries, pages or query-page pairs whose CTR falls short of it, by the clicks "
        "the expected CTR would add. No curve (null) and no rows when fewer than two positions had clicks." + _CSV_NOTE
    ),
    responses=report_responses(CtrOpportunitiesReport),
    **requires(READ),
)
def get_ctr_opportunities(
    project_id: uuid.UUID, property_id: uuid.UUID, params: Annotated[CtrOpportunitiesParams, Query()]
) -> Response[Any]:
    return respond(ctr_opportunities.run, project_id, property_id, params)


@app.get(
    f"{REPORTS}/cannibalization",
    tags=["reports"],
    summary="Keyword cannibalization",
    description=(
        "Queries for which at least `min_pages` pages each have `min_share` or more of the query's impressions, "
        "most impressions first, with those pages. As CSV with `Accept: text/csv` or `?format=csv`: one row per "
        "competing page (the next page's cursor in `X-Kestrel-Next-Cursor`)."
    ),
    responses=report_responses(CannibalizationReport),
    **requires(READ),
)
def get_cannibalization(
    project_id: uuid.UUID, property_id: uuid.UUID, params: Annotated[CannibalizationParams, Query()]
) -> Response[Any]:
    return respond(cannibalization.run, project_id, property_id, params)


# report routes: one per report, in the order of the issue


@app.get(
    f"{REPORTS}/winners-losers",
    tags=["reports"],
    summary="Winners and losers",
    description=(
        "Queries or pages whose clicks or impressions rose (`direction=winners`) or fell (`losers`) the most "
        "between the range and a comparison period (default: the period of the same length just before), "
        "by absolute or relative change; keys found in either period. For relative changes, keys below "
        "`min_previous` in the comparison period are left out." + _CSV_NOTE
    ),
    responses=report_responses(WinnersLosersReport),
    **requires(READ),
)
def get_winners_losers(
    project_id: uuid.UUID, property_id: uuid.UUID, params: Annotated[WinnersLosersParams, Query()]
) -> Response[Any]:
    return respond(winners_losers.run, project_id, property_id, params)


@app.get(
    f"{REPORTS}/content-decay",
    tags=["reports"],
    summary="Content decay",
    description=(
        "Pages whose clicks in the current 28 days fell below `threshold` of their best 28 days (windows ending "
        "on a Sunday) of the 16 months before, most clicks lost first. The current window ends on the last day "
        "with final data (Search Console's freshest days are still provisional) or on `end_date`; "
        "`start_date` is ignored." + _CSV_NOTE
    ),
    responses=report_responses(ContentDecayReport),
    **requires(READ),
)
def get_content_decay(
    project_id: uuid.UUID, property_id: uuid.UUID, params: Annotated[ContentDecayParams, Query()]
) -> Response[Any]:
    return respond(content_decay.run, project_id, property_id, params)


@app.get(
    f"{REPORTS}/tracked-keywords",
    tags=["reports"],
    summary="Tracked keywords",
    description=(
        "The project's tracked keywords (by text), each with the Search Console clicks, impressions, CTR and "
        "position of the query equal to it, in total and per day or ISO week. Search Console numbers span every "
        "country and device: keywords tracked with the same text for other countries or devices show the same "
        "numbers." + _CSV_NOTE.replace("one row per item", "one row per keyword and period")
    ),
    responses=report_responses(TrackedKeywordsReport),
    **requires(READ),
)
def get_tracked_keywords(
    project_id: uuid.UUID, property_id: uuid.UUID, params: Annotated[TrackedKeywordsParams, Query()]
) -> Response[Any]:
    return respond(tracked_keywords.run, project_id, property_id, params)


handler = lambda_handler(app)
