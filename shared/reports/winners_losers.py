"""Winners and losers: the queries or pages whose clicks or impressions rose (or fell) the most between two periods."""

import datetime as dt
import uuid

from shared.auth import Principal
from shared.errors import InvalidRequest
from shared.reports.common import Window, coverage, report_scope, resolve_range
from shared.reports.data import trends
from shared.reports.models.base import MAX_RANGE_DAYS, Source
from shared.reports.models.trends import WinnerLoserItem, WinnersLosersParams, WinnersLosersReport
from shared.reports.performance import comparison_range

NAME = "winners-losers"


def compared_range(params: WinnersLosersParams, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The comparison period asked for, or by default the period of the same length just before."""
    first, last = params.compare_start_date, params.compare_end_date
    if first is None and last is None:
        previous = comparison_range(start, end, "previous_period")
        if previous is None:  # never: previous_period always has one
            raise InvalidRequest("No comparison period.")
        return previous
    if first is None or last is None:
        raise InvalidRequest(
            "Give both compare_start_date and compare_end_date, or neither (the previous period).",
            field="compare_start_date" if first is None else "compare_end_date",
        )
    if first > last:
        raise InvalidRequest("compare_start_date must not be after compare_end_date.", field="compare_start_date")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise InvalidRequest(f"The comparison period must not exceed {MAX_RANGE_DAYS} days.", field="compare_end_date")
    return first, last


def run(
    principal: Principal,
    project_id: uuid.UUID,
    property_id: uuid.UUID,
    params: WinnersLosersParams,
    *,
    source: Source = "rollup",
) -> WinnersLosersReport:
    with report_scope(principal, project_id, property_id, source) as scope:
        start, end = resolve_range(scope, params)
        previous = compared_range(params, start, end)
        window = Window.of(params)
        page = trends.winners_losers(
            scope.session,
            scope.property_id,
            params.search_type,
            (start, end),
            previous,
            dimension=params.dimension,
            metric=params.metric,
            direction=params.direction,
            relative=params.change == "relative",
            min_previous=params.min_previous,
            raw=scope.raw,
            offset=window.offset,
            limit=window.limit,
        )
        items = [
            WinnerLoserItem(
                key=row.key,
                clicks=row.clicks,
                previous_clicks=row.previous_clicks,
                impressions=row.impressions,
                previous_impressions=row.previous_impressions,
                position=row.position,
                previous_position=row.previous_position,
                change=row.change,
                change_relative=row.change_relative,
            )
            for row in page.rows
        ]
        return WinnersLosersReport(
            report=NAME,
            property_id=property_id,
            coverage=coverage(scope, params.search_type, start, end),
            comparison=coverage(scope, params.search_type, *previous),
            items=items,
            total_items=page.total,
            next_cursor=window.next_cursor(page.total),
        )
