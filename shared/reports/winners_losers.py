"""Winners and losers: the queries or pages whose clicks or impressions rose (or fell) the most between two periods."""

import uuid

from shared.auth import Principal
from shared.errors import InvalidRequest
from shared.reports.common import coverage, next_cursor, paging_of, report_scope, resolve_range
from shared.reports.data import trends
from shared.reports.data.queries import DateRange, WinnersLosersQuery
from shared.reports.models.base import MAX_RANGE_DAYS
from shared.reports.models.trends import WinnerLoserItem, WinnersLosersParams, WinnersLosersReport
from shared.reports.performance import comparison_range

NAME = "winners-losers"


def compared_range(params: WinnersLosersParams, dates: DateRange) -> DateRange:
    """The comparison period asked for, or by default the period of the same length just before."""
    first, last = params.compare_start_date, params.compare_end_date
    if first is None and last is None:
        previous = comparison_range(dates, "previous_period")
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
    compared = DateRange(first, last)
    if compared.days > MAX_RANGE_DAYS:
        raise InvalidRequest(f"The comparison period must not exceed {MAX_RANGE_DAYS} days.", field="compare_end_date")
    return compared


def run(
    principal: Principal, project_id: uuid.UUID, property_id: uuid.UUID, params: WinnersLosersParams
) -> WinnersLosersReport:
    with report_scope(principal, project_id, property_id) as scope:
        dates = resolve_range(scope, params)
        previous = compared_range(params, dates)
        paging = paging_of(params)
        data = scope.data(params.search_type, dates)
        page = trends.winners_losers(
            scope.session,
            WinnersLosersQuery(
                data=data,
                previous=previous,
                dimension=params.dimension,
                metric=params.metric,
                direction=params.direction,
                relative=params.change == "relative",
                min_previous=params.min_previous,
                paging=paging,
            ),
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
            coverage=coverage(scope, data),
            comparison=coverage(scope, scope.data(params.search_type, previous)),
            items=items,
            total_items=page.total,
            next_cursor=next_cursor(paging, page.total),
        )
