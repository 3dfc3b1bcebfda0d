"""Cannibalization: queries for which several pages of the site compete, each with a real share of impressions."""

import uuid

from shared.auth import Principal
from shared.reports.common import coverage, next_cursor, paging_of, ratio, report_scope, resolve_range
from shared.reports.data import search
from shared.reports.data.queries import CannibalizationQuery
from shared.reports.models.search import (
    CannibalizationItem,
    CannibalizationPage,
    CannibalizationParams,
    CannibalizationReport,
)

NAME = "cannibalization"


def run(
    principal: Principal, project_id: uuid.UUID, property_id: uuid.UUID, params: CannibalizationParams
) -> CannibalizationReport:
    """Queries with at least ``min_pages`` pages of ``min_share`` of their impressions, most impressions first."""
    with report_scope(principal, project_id, property_id) as scope:
        dates = resolve_range(scope, params)
        paging = paging_of(params)
        data = scope.data(params.search_type, dates)
        page = search.cannibalization(
            scope.session,
            CannibalizationQuery(
                data=data,
                min_share=params.min_share,
                min_impressions=params.min_impressions,
                exclude_homepage=params.exclude_homepage,
                min_pages=params.min_pages,
                paging=paging,
            ),
        )
        items = [
            CannibalizationItem(
                query=row.query,
                clicks=row.clicks,
                impressions=row.impressions,
                position=ratio(row.position_weighted, row.impressions),
                pages=[
                    CannibalizationPage(
                        page=competing.page,
                        clicks=competing.clicks,
                        impressions=competing.impressions,
                        share=competing.impressions / row.impressions,
                        position=ratio(competing.position_weighted, competing.impressions),
                    )
                    for competing in row.pages
                ],
            )
            for row in page.rows
        ]
        return CannibalizationReport(
            report=NAME,
            property_id=property_id,
            coverage=coverage(scope, data),
            items=items,
            total_items=page.total,
            next_cursor=next_cursor(paging, page.total),
        )
