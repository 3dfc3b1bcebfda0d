"""Striking distance: queries ranking just off the top, with the page that ranks and whether it targets them."""

import uuid

from shared.auth import Principal
from shared.errors import InvalidRequest
from shared.reports.common import coverage, measures, next_cursor, paging_of, ratio, report_scope, resolve_range
from shared.reports.data import search
from shared.reports.data.queries import StrikingDistanceQuery
from shared.reports.models.search import StrikingDistanceItem, StrikingDistanceParams, StrikingDistanceReport

NAME = "striking-distance"


def run(
    principal: Principal, project_id: uuid.UUID, property_id: uuid.UUID, params: StrikingDistanceParams
) -> StrikingDistanceReport:
    """Queries whose average position is in the band and that had enough impressions, most impressions first."""
    if params.min_position > params.max_position:
        raise InvalidRequest("min_position must not be greater than max_position.")
    with report_scope(principal, project_id, property_id) as scope:
        dates = resolve_range(scope, params)
        paging = paging_of(params)
        data = scope.data(params.search_type, dates)
        page = search.striking_distance(
            scope.session,
            StrikingDistanceQuery(
                data=data,
                project_id=scope.project.id,
                min_position=params.min_position,
                max_position=params.max_position,
                min_impressions=params.min_impressions,
                paging=paging,
            ),
        )
        items = [
            StrikingDistanceItem(
                query=row.query,
                **measures(row.clicks, row.impressions, row.position_weighted),
                page=row.page,
                page_clicks=row.page_clicks,
                page_impressions=row.page_impressions,
                page_position=ratio(row.page_position_weighted, row.page_impressions),
                in_title=row.in_title,
                in_h1=row.in_h1,
            )
            for row in page.rows
        ]
        return StrikingDistanceReport(
            report=NAME,
            property_id=property_id,
            coverage=coverage(scope, data),
            items=items,
            total_items=page.total,
            next_cursor=next_cursor(paging, page.total),
        )
