"""Striking distance: queries ranking just off the top, with the page that ranks and whether it targets them."""

import uuid

from shared.auth import Principal
from shared.errors import InvalidRequest
from shared.reports.common import Window, coverage, measures, ratio, report_scope, resolve_range
from shared.reports.data import search
from shared.reports.models.base import Source
from shared.reports.models.search import StrikingDistanceItem, StrikingDistanceParams, StrikingDistanceReport

NAME = "striking-distance"


def run(
    principal: Principal,
    project_id: uuid.UUID,
    property_id: uuid.UUID,
    params: StrikingDistanceParams,
    *,
    source: Source = "rollup",
) -> StrikingDistanceReport:
    """Queries whose average position is in the band and that had enough impressions, most impressions first."""
    if params.min_position > params.max_position:
        raise InvalidRequest("min_position must not be greater than max_position.")
    with report_scope(principal, project_id, property_id, source) as scope:
        start, end = resolve_range(scope, params)
        window = Window.of(params)
        rows, total = search.striking_distance(
            scope.session,
            scope.project.id,
            scope.property_id,
            params.search_type,
            start,
            end,
            min_position=params.min_position,
            max_position=params.max_position,
            min_impressions=params.min_impressions,
            offset=window.offset,
            limit=window.limit,
            raw=scope.raw,
        )
        items = [
            StrikingDistanceItem(
                query=row.query,
                **measures(row.clicks, row.impressions, row.position_weighted),
                page=row.page,
                page_clicks=int(row.page_clicks),
                page_impressions=int(row.page_impressions),
                page_position=ratio(float(row.page_position_weighted), int(row.page_impressions)),
                in_title=row.in_title,
                in_h1=row.in_h1,
            )
            for row in rows
        ]
        return StrikingDistanceReport(
            report=NAME,
            property_id=property_id,
            coverage=coverage(scope, params.search_type, start, end),
            items=items,
            total_items=total,
            next_cursor=window.next_cursor(total),
        )
