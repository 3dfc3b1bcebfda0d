"""The reports over Search Console data: one ``ReportSpec`` each, in ``REPORTS`` (in the order of the issue).

A spec is all the rest of the system knows of a report: api_reports registers
one route per spec (its OpenAPI summary and description come from it), the
benchmark times each, the tests iterate them, and a packaging test holds the
api_reports routes of serverless.yml (what is deployed) equal to them.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.auth import Principal
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
from shared.reports.models.base import PerformanceParams, PerformanceReport, Report, ReportParams
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

REPORTS_PATH = "/v1/projects/{project_id}/properties/{property_id}/reports"


@dataclass(frozen=True)
class ReportSpec[P: ReportParams, R: Report[Any]]:
    """A report: its name, parameters and answer, what it shows, and the function that computes it."""

    name: str  # the route's last segment and the answer's ``report``
    params: type[P]
    response: type[R]
    summary: str
    description: str  # what the report shows (the OpenAPI description, before the note on CSV)
    run: Callable[[Principal, uuid.UUID, uuid.UUID, P], R]
    csv_rows: str = "one row per item"  # what a row of its CSV download is

    @property
    def path(self) -> str:
        """The route, as serverless.yml and the OpenAPI document write it."""
        return f"{REPORTS_PATH}/{self.name}"


_SPECS: tuple[ReportSpec[Any, Any], ...] = (
    ReportSpec(
        name=performance.NAME,
        params=PerformanceParams,
        response=PerformanceReport,
        run=performance.run,
        summary="Performance over time",
        description=(
            "Clicks, impressions, CTR and average position per day, ISO week or month, optionally beside the "
            "previous period or the same dates a year earlier (paired by position in the period), with totals."
        ),
    ),
    ReportSpec(
        name=breakdown.NAME,
        params=BreakdownParams,
        response=BreakdownReport,
        run=breakdown.run,
        summary="Breakdown by query, page, country, device, search type or brand",
        description=(
            "Clicks, impressions, CTR and average position per query, page, country, device, search type (across "
            "all search types) or brand (`brand` and `non_brand` rows, by the project's brand terms), sorted by a "
            "measure (rows without impressions last, ties by key). Query and page filters (`contains` and "
            "`not_contains` ignore case, `exact` and `regex` do not) and the brand segment apply to dimensions "
            "query, page and brand only."
        ),
    ),
    ReportSpec(
        name=striking_distance.NAME,
        params=StrikingDistanceParams,
        response=StrikingDistanceReport,
        run=striking_distance.run,
        summary="Striking distance",
        description=(
            "Queries whose average position is between `min_position` and `max_position` (default 4 to 20) with at "
            "least `min_impressions`, most impressions first; each with the page that ranks for it (its most "
            "impressions) and whether that page's crawled title and H1 contain the query."
        ),
    ),
    ReportSpec(
        name=ctr_opportunities.NAME,
        params=CtrOpportunitiesParams,
        response=CtrOpportunitiesReport,
        run=ctr_opportunities.run,
        summary="CTR opportunities",
        description=(
            "The property's CTR curve (ln(ctr) = a + b ln(position), fitted over rounded positions 1 to 20 weighted "
            "by impressions) and the queries, pages or query-page pairs whose CTR falls short of it, by the clicks "
            "the expected CTR would add. No curve (null) and no rows when fewer than two positions had clicks."
        ),
    ),
    ReportSpec(
        name=cannibalization.NAME,
        params=CannibalizationParams,
        response=CannibalizationReport,
        run=cannibalization.run,
        summary="Keyword cannibalization",
        description=(
            "Queries for which at least `min_pages` pages each have `min_share` or more of the query's impressions, "
            "most impressions first, with those pages."
        ),
        csv_rows="one row per competing page",
    ),
    ReportSpec(
        name=winners_losers.NAME,
        params=WinnersLosersParams,
        response=WinnersLosersReport,
        run=winners_losers.run,
        summary="Winners and losers",
        description=(
            "Queries or pages whose clicks or impressions rose (`direction=winners`) or fell (`losers`) the most "
            "between the range and a comparison period (default: the period of the same length just before), "
            "by absolute or relative change; keys found in either period. For relative changes, keys below "
            "`min_previous` in the comparison period are left out."
        ),
    ),
    ReportSpec(
        name=content_decay.NAME,
        params=ContentDecayParams,
        response=ContentDecayReport,
        run=content_decay.run,
        summary="Content decay",
        description=(
            "Pages whose clicks in the current 28 days fell below `threshold` of their best 28 days (windows ending "
            "on a Sunday) of the 16 months before, most clicks lost first. The current window ends on the last day "
            "with final data (Search Console's freshest days are still provisional) or on `end_date`; "
            "`start_date` is ignored."
        ),
    ),
    ReportSpec(
        name=tracked_keywords.NAME,
        params=TrackedKeywordsParams,
        response=TrackedKeywordsReport,
        run=tracked_keywords.run,
        summary="Tracked keywords",
        description=(
            "The project's tracked keywords (by text), each with the Search Console clicks, impressions, CTR and "
            "position of the query equal to it, in total and per day or ISO week, in the keyword's own country "
            "and device (Search Console's rows for that country and DESKTOP or MOBILE: like for like, not every "
            "market summed)."
        ),
        csv_rows="one row per keyword and period",
    ),
)

REPORTS: dict[str, ReportSpec[Any, Any]] = {spec.name: spec for spec in _SPECS}
