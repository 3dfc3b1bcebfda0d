"""What reports ask the data layer and what it answers: typed queries in, typed rows out.

Logic says what it wants (a property's search type over a range, filters and
segments as data, a page of a ranked result); ``sources``, ``search`` and
``trends`` turn that into SQL. Whether a query reads the rollup's aggregates
or raw ``gsc_rows`` is not part of the query: the data layer decides (see
``sources.reading_raw_rows``).
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Literal, NamedTuple

from shared.reports.models.search import BreakdownDimension
from shared.search_console.models import SearchType

# ---------------------------------------------------------------- what every query names


@dataclass(frozen=True, order=True)
class DateRange:
    """The days from ``start`` to ``end``, both included."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class SearchData:
    """A property's Search Console data of one search type over a range of days."""

    property_id: uuid.UUID
    search_type: SearchType
    dates: DateRange


@dataclass(frozen=True)
class Paging:
    """Which rows of a ranked result to return: ``limit`` rows from ``offset``."""

    offset: int
    limit: int


@dataclass(frozen=True)
class Paged[T]:
    """One page of a ranked result, and the number of rows in the whole result."""

    rows: list[T]
    total: int


class DataSpan(NamedTuple):
    """The first and last day with data in a range (None: no data)."""

    first: dt.date | None
    last: dt.date | None


# ---------------------------------------------------------------- performance over time


@dataclass(frozen=True)
class DailyTotalsQuery:
    data: SearchData
    country: str | None = None
    device: str | None = None


class DayTotals(NamedTuple):
    date: dt.date
    clicks: int
    impressions: int
    position_weighted: float


# ---------------------------------------------------------------- breakdown

TextColumn = Literal["query", "page"]
TextOperator = Literal["contains", "not_contains", "regex", "exact"]
Segment = Literal["all", "brand", "non_brand"]
Sort = Literal["clicks", "impressions", "ctr", "position"]


@dataclass(frozen=True)
class TextFilter:
    """A Search Console style filter: ``contains`` and ``not_contains`` ignore case, ``exact`` and ``regex`` do not."""

    column: TextColumn
    operator: TextOperator
    value: str


@dataclass(frozen=True)
class BreakdownQuery:
    """Measures per key of ``dimension``; filters and a segment other than ``all`` need query or page rows."""

    data: SearchData
    dimension: BreakdownDimension
    filters: tuple[TextFilter, ...]
    segment: Segment
    brand_terms: tuple[str, ...]  # a query containing one (ignoring case) is a brand query
    sort: Sort
    descending: bool
    paging: Paging


class BreakdownRow(NamedTuple):
    key: str
    clicks: int
    impressions: int
    position_weighted: float
    brand: bool | None  # for queries only


# ---------------------------------------------------------------- striking distance


@dataclass(frozen=True)
class StrikingDistanceQuery:
    data: SearchData
    project_id: uuid.UUID  # whose crawled pages say whether the ranking page targets the query
    min_position: float
    max_position: float
    min_impressions: int
    paging: Paging


class StrikingDistanceRow(NamedTuple):
    query: str
    clicks: int
    impressions: int
    position_weighted: float
    page: str  # the query's page with the most impressions
    page_clicks: int
    page_impressions: int
    page_position_weighted: float
    in_title: bool | None  # None: the page was not crawled
    in_h1: bool | None


# ---------------------------------------------------------------- CTR opportunities

CtrLevel = Literal["query", "page", "query_page"]


@dataclass(frozen=True)
class CtrBucketsQuery:
    data: SearchData
    max_position: int  # the last bucket holds this position and beyond


class CtrBucket(NamedTuple):
    position: int  # rounded average position of (query, page) pairs
    clicks: int
    impressions: int


@dataclass(frozen=True)
class CtrOpportunitiesQuery:
    """Rows at ``level`` whose CTR falls short of ``min(1, exp(a) * position^b)``."""

    data: SearchData
    level: CtrLevel
    a: float
    b: float
    min_impressions: int
    paging: Paging


class CtrOpportunityRow(NamedTuple):
    query: str | None
    page: str | None
    clicks: int
    impressions: int
    position_weighted: float
    expected_ctr: float
    extra_clicks: float


# ---------------------------------------------------------------- cannibalization


@dataclass(frozen=True)
class CannibalizationQuery:
    data: SearchData
    min_share: float
    min_impressions: int
    exclude_homepage: bool
    min_pages: int
    paging: Paging


class PageSums(NamedTuple):
    page: str
    clicks: int
    impressions: int
    position_weighted: float


class CannibalizationRow(NamedTuple):
    query: str
    clicks: int
    impressions: int
    position_weighted: float
    pages: list[PageSums]  # most impressions first


# ---------------------------------------------------------------- winners and losers


@dataclass(frozen=True)
class WinnersLosersQuery:
    data: SearchData  # the current period
    previous: DateRange
    dimension: Literal["query", "page"]
    metric: Literal["clicks", "impressions"]
    direction: Literal["winners", "losers"]
    relative: bool
    min_previous: int  # relative changes only
    paging: Paging


class WinnerLoserRow(NamedTuple):
    key: str
    clicks: int
    previous_clicks: int
    impressions: int
    previous_impressions: int
    position: float | None
    previous_position: float | None
    change: int
    change_relative: float | None


# ---------------------------------------------------------------- content decay


@dataclass(frozen=True)
class DecaySpans:
    """The dates content decay compares. Weeks are Mondays; a week's span is the 28 days ending on its Sunday."""

    current: DateRange  # the current 28 days
    first_peak_week: dt.date  # the first week whose span starts within the history
    last_peak_week: dt.date  # the last week whose span ends by the current end
    first_current_week: dt.date  # the first whole week of the current 28 days (up to last_peak_week)


@dataclass(frozen=True)
class ContentDecayQuery:
    property_id: uuid.UUID
    search_type: SearchType
    spans: DecaySpans
    threshold: float
    min_peak_clicks: int
    paging: Paging


class DecayRow(NamedTuple):
    page: str
    clicks: int
    peak_clicks: int
    peak_start: dt.date
    peak_end: dt.date
    clicks_lost: int


# ---------------------------------------------------------------- tracked keywords


@dataclass(frozen=True)
class TrackedKeywordsQuery:
    project_id: uuid.UUID
    tag: str | None
    paging: Paging


class TrackedKeyword(NamedTuple):
    id: uuid.UUID
    text: str
    country: str
    device: str
    tags: list[str]


@dataclass(frozen=True)
class KeywordDaysQuery:
    """Tracked keywords' markets: (query, Search Console country as alpha-3 lower case, device upper case)."""

    data: SearchData
    markets: tuple[tuple[str, str, str], ...]


class KeywordDay(NamedTuple):
    query: str
    country: str
    device: str
    date: dt.date
    clicks: int
    impressions: int
    position_weighted: float
