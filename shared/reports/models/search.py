"""Search reports: breakdown, striking distance, CTR opportunities and cannibalization (parameters and rows).

Measures follow Search Console (see shared.reports.models.base): CTR and position
are null where there were no impressions.
"""

from typing import Any, Literal

from pydantic import Field

from shared.models import OutputModel
from shared.reports.models.base import Report, ReportParams

MAX_FILTER_LENGTH = 500

# Breakdown

BreakdownDimension = Literal["query", "page", "country", "device", "search_type", "brand"]
QUERY_PAGE_DIMENSIONS: tuple[BreakdownDimension, ...] = ("query", "page", "brand")
"""The dimensions read from queries and pages, which text filters and the brand segment can narrow."""


def _text_filter(description: str) -> Any:
    return Field(default=None, max_length=MAX_FILTER_LENGTH, description=description)


class BreakdownParams(ReportParams):
    dimension: BreakdownDimension = Field(
        default="query",
        description=(
            "Rows per query, page, country, device, search type (across all search types), or `brand`: two rows, "
            "`brand` (queries containing one of the project's brand terms) and `non_brand`."
        ),
    )
    query_contains: str | None = _text_filter("Only queries containing this (ignoring case).")
    query_not_contains: str | None = _text_filter("Only queries not containing this (ignoring case).")
    query_regex: str | None = _text_filter("Only queries matching this PostgreSQL regular expression (case matters).")
    query_exact: str | None = _text_filter("Only this query (case matters).")
    page_contains: str | None = _text_filter("Only pages whose URL contains this (ignoring case).")
    page_not_contains: str | None = _text_filter("Only pages whose URL does not contain this (ignoring case).")
    page_regex: str | None = _text_filter("Only pages matching this PostgreSQL regular expression (case matters).")
    page_exact: str | None = _text_filter("Only this page URL (case matters).")
    segment: Literal["all", "brand", "non_brand"] = Field(
        default="all", description="Only brand queries (containing one of the project's brand terms), or only others."
    )
    sort: Literal["clicks", "impressions", "ctr", "position"] = Field(
        default="clicks", description="Sort rows by this measure (rows without impressions last); ties by key."
    )
    order: Literal["desc", "asc"] = Field(default="desc", description="Sort direction.")


class BreakdownItem(OutputModel):
    key: str = Field(description="The query, page URL, country, device, search type, or `brand` / `non_brand`.")
    clicks: int
    impressions: int
    ctr: float | None
    position: float | None
    brand: bool | None = Field(description="For queries: whether it contains a brand term; null for other dimensions.")


class BreakdownReport(Report[BreakdownItem]):
    pass


# Striking distance


class StrikingDistanceParams(ReportParams):
    min_position: float = Field(default=4, ge=1, description="Lowest average position kept (inclusive).")
    max_position: float = Field(default=20, ge=1, description="Highest average position kept (inclusive).")
    min_impressions: int = Field(default=100, ge=0, description="Fewest impressions a query needs over the range.")


class StrikingDistanceItem(OutputModel):
    """A query ranking just off the top, with the page that ranks for it and whether that page targets it."""

    query: str
    clicks: int
    impressions: int
    ctr: float | None
    position: float | None
    page: str = Field(description="The query's page with the most impressions (ties: the smallest URL).")
    page_clicks: int
    page_impressions: int
    page_position: float | None
    in_title: bool | None = Field(description="Whether the page's crawled title contains the query (null: unknown).")
    in_h1: bool | None = Field(description="Whether the page's crawled H1 contains the query (null: unknown).")


class StrikingDistanceReport(Report[StrikingDistanceItem]):
    pass


# CTR opportunities

CTR_CURVE_MAX_POSITION = 20  # the last bucket holds positions 20 and beyond


class CtrOpportunitiesParams(ReportParams):
    level: Literal["query", "page", "query_page"] = Field(
        default="query", description="Rows per query, per page, or per query and page."
    )
    min_impressions: int = Field(default=100, ge=0, description="Fewest impressions a row needs over the range.")


class CtrCurvePoint(OutputModel):
    position: int = Field(
        description=f"Rounded average position (1 to {CTR_CURVE_MAX_POSITION}; the last: and beyond)."
    )
    impressions: int
    clicks: int
    observed_ctr: float
    expected_ctr: float


class CtrCurve(OutputModel):
    """The property's CTR by position: ln(ctr) = a + b ln(position), fitted over positions weighted by impressions."""

    a: float
    b: float
    points: list[CtrCurvePoint]


class CtrOpportunityItem(OutputModel):
    query: str | None = Field(description="Null at level `page`.")
    page: str | None = Field(description="Null at level `query`.")
    clicks: int
    impressions: int
    ctr: float | None
    position: float | None
    expected_ctr: float = Field(description="The curve's CTR at this position.")
    extra_clicks: float = Field(description="Clicks the expected CTR would have brought beyond the actual ones.")


class CtrOpportunitiesReport(Report[CtrOpportunityItem]):
    curve: CtrCurve | None = Field(description="Null when fewer than two positions had clicks: no curve, no rows.")


# Cannibalization


class CannibalizationParams(ReportParams):
    min_share: float = Field(
        default=0.1, gt=0, le=0.5, description="Share of the query's impressions a page needs to count as competing."
    )
    min_impressions: int = Field(default=100, ge=0, description="Fewest impressions a query needs over the range.")
    exclude_homepage: bool = Field(
        default=False, description="Leave home pages (no path beyond `/`) out, before shares are computed."
    )
    min_pages: int = Field(default=2, ge=2, description="Fewest competing pages a query needs.")


class CannibalizationPage(OutputModel):
    page: str
    clicks: int
    impressions: int
    share: float = Field(description="The page's share of the query's impressions.")
    position: float | None


class CannibalizationItem(OutputModel):
    """A query several pages compete for; the CSV has one row per competing page."""

    query: str
    clicks: int
    impressions: int
    position: float | None
    pages: list[CannibalizationPage] = Field(description="The competing pages, most impressions first.")


class CannibalizationReport(Report[CannibalizationItem]):
    pass
