"""Cannibalization: queries for which several pages of the site compete, each with a real share of impressions."""

import uuid

from shared.auth import Principal
from shared.reports.common import Window, coverage, ratio, report_scope, resolve_range
from shared.reports.data import search
from shared.reports.models.base import Source
from shared.reports.models.search import (
    CannibalizationItem,
    CannibalizationPage,
    CannibalizationParams,
    CannibalizationReport,
)

NAME = "cannibalization"


def run(
    principal: Principal,
    project_id: uuid.UUID,
    property_id: uuid.UUID,
    params: CannibalizationParams,
    *,
    source: Source = "rollup",
) -> CannibalizationReport:
    """Queries with at least ``min_pages`` pages of ``min_share`` of their impressions, most impressions first."""
    with report_scope(principal, project_id, property_id, source) as scope:
        start, end = resolve_range(scope, params)
        window = Window.of(params)
        rows, total = search.cannibalization(
            scope.session,
            scope.property_id,
            params.search_type,
            start,
            end,
            min_share=params.min_share,
            min_impressions=params.min_impressions,
            exclude_homepage=params.exclude_homepage,
            min_pages=params.min_pages,
            offset=window.offset,
            limit=window.limit,
            raw=scope.raw,
        )
        items = []
        for row in rows:
            impressions = int(row.impressions)
            pages = [
                CannibalizationPage(
                    page=page["page"],
                    clicks=int(page["clicks"]),
                    impressions=int(page["impressions"]),
                    share=int(page["impressions"]) / impressions,
                    position=ratio(float(page["position_weighted"]), int(page["impressions"])),
                )
                for page in row.pages
            ]
            items.append(
                CannibalizationItem(
                    query=row.query,
                    clicks=int(row.clicks),
                    impressions=impressions,
                    position=ratio(float(row.position_weighted), impressions),
                    pages=pages,
                )
            )
        return CannibalizationReport(
            report=NAME,
            property_id=property_id,
            coverage=coverage(scope, params.search_type, start, end),
            items=items,
            total_items=total,
            next_cursor=window.next_cursor(total),
        )
