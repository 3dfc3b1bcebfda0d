"""Performance over time: clicks, impressions, CTR and position per day, week or month, with a comparison."""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from shared.auth import Principal
from shared.dates import week_start
from shared.reports.common import (
    ReportScope,
    coverage,
    next_cursor,
    page_of,
    paging_of,
    ratio,
    report_scope,
    resolve_range,
)
from shared.reports.data import sources
from shared.reports.data.queries import DailyTotalsQuery, DateRange, DayTotals
from shared.reports.models.base import Measures, PerformanceParams, PerformancePoint, PerformanceReport

NAME = "performance"


@dataclass
class _Bucket:
    start: dt.date
    end: dt.date
    clicks: int = 0
    impressions: int = 0
    position_weighted: float = 0.0
    has_data: bool = False

    def measures(self) -> Measures:
        return Measures(
            clicks=self.clicks,
            impressions=self.impressions,
            ctr=ratio(self.clicks, self.impressions),
            position=ratio(self.position_weighted, self.impressions),
        )


def _bucket_end(day: dt.date, granularity: str) -> dt.date:
    if granularity == "day":
        return day
    if granularity == "week":
        return week_start(day) + dt.timedelta(days=6)
    next_month = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return next_month - dt.timedelta(days=1)


def buckets(dates: DateRange, granularity: str) -> list[_Bucket]:
    """The range cut into days, ISO weeks or calendar months; the first and last may be partial."""
    result = []
    day = dates.start
    while day <= dates.end:
        last = min(dates.end, _bucket_end(day, granularity))
        result.append(_Bucket(start=day, end=last))
        day = last + dt.timedelta(days=1)
    return result


def _fill(buckets_: list[_Bucket], days: Sequence[DayTotals]) -> None:
    index = 0
    for day in days:  # both in date order
        while buckets_[index].end < day.date:
            index += 1
        bucket = buckets_[index]
        bucket.clicks += day.clicks
        bucket.impressions += day.impressions
        bucket.position_weighted += day.position_weighted
        bucket.has_data = True


def _year_earlier(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def comparison_range(dates: DateRange, compare: str) -> DateRange | None:
    if compare == "previous_period":
        return DateRange(dates.start - dt.timedelta(days=dates.days), dates.start - dt.timedelta(days=1))
    if compare == "previous_year":
        return DateRange(_year_earlier(dates.start), _year_earlier(dates.end))
    return None


def _total(buckets_: list[_Bucket]) -> _Bucket:
    total = _Bucket(start=buckets_[0].start, end=buckets_[-1].end)
    for bucket in buckets_:
        total.clicks += bucket.clicks
        total.impressions += bucket.impressions
        total.position_weighted += bucket.position_weighted
    return total


def _point(current: _Bucket | None, previous: _Bucket | None) -> PerformancePoint:
    point = PerformancePoint(period_start=None, period_end=None, clicks=None, impressions=None, ctr=None, position=None)
    if current is not None:
        m = current.measures()
        point.period_start, point.period_end = current.start, current.end
        point.clicks, point.impressions, point.ctr, point.position = m.clicks, m.impressions, m.ctr, m.position
    if previous is not None:
        m = previous.measures()
        point.compare_period_start, point.compare_period_end = previous.start, previous.end
        point.compare_clicks, point.compare_impressions = m.clicks, m.impressions
        point.compare_ctr, point.compare_position = m.ctr, m.position
    return point


def _series(scope: ReportScope, params: PerformanceParams, dates: DateRange) -> list[_Bucket]:
    series = buckets(dates, params.granularity)
    query = DailyTotalsQuery(scope.data(params.search_type, dates), country=params.country, device=params.device)
    _fill(series, sources.daily_totals(scope.session, query))
    return series


def run(
    principal: Principal, project_id: uuid.UUID, property_id: uuid.UUID, params: PerformanceParams
) -> PerformanceReport:
    """Buckets with data in either period, paired by their position in the period (the n-th day, week, month)."""
    with report_scope(principal, project_id, property_id) as scope:
        dates = resolve_range(scope, params)
        current = _series(scope, params, dates)
        compared = comparison_range(dates, params.compare)
        previous = _series(scope, params, compared) if compared else []
        points = [
            _point(
                current[i] if i < len(current) and current[i].has_data else None,
                previous[i] if i < len(previous) and previous[i].has_data else None,
            )
            for i in range(max(len(current), len(previous)))
            if (i < len(current) and current[i].has_data) or (i < len(previous) and previous[i].has_data)
        ]
        paging = paging_of(params)
        return PerformanceReport(
            report=NAME,
            property_id=property_id,
            coverage=coverage(scope, scope.data(params.search_type, dates)),
            comparison=coverage(scope, scope.data(params.search_type, compared)) if compared else None,
            items=page_of(points, paging),
            total_items=len(points),
            next_cursor=next_cursor(paging, len(points)),
            totals=_total(current).measures(),
            compare_totals=_total(previous).measures() if previous else None,
        )
