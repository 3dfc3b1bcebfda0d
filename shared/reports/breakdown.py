"""Breakdown: clicks, impressions, CTR and position per query, page, country, device, search type or brand."""

import uuid

from shared.auth import Principal
from shared.errors import InvalidRequest
from shared.reports.common import coverage, measures, next_cursor, paging_of, report_scope, resolve_range
from shared.reports.data import search
from shared.reports.data.queries import BreakdownQuery, TextColumn, TextFilter, TextOperator
from shared.reports.models.search import QUERY_PAGE_DIMENSIONS, BreakdownItem, BreakdownParams, BreakdownReport

NAME = "breakdown"

TEXT_FILTERS: tuple[tuple[str, TextColumn, TextOperator], ...] = tuple(
    (f"{column}_{operator}", column, operator)
    for column in ("query", "page")
    for operator in ("contains", "not_contains", "regex", "exact")
)
"""(parameter, column, operator) of every text filter."""


def _filters(params: BreakdownParams) -> dict[str, TextFilter]:
    """The text filters asked for, by parameter name."""
    return {
        name: TextFilter(column, operator, value)
        for name, column, operator in TEXT_FILTERS
        if (value := getattr(params, name)) is not None
    }


def run(
    principal: Principal, project_id: uuid.UUID, property_id: uuid.UUID, params: BreakdownParams
) -> BreakdownReport:
    """One row per key of the dimension, sorted and paged in SQL."""
    filters = _filters(params)
    if params.dimension not in QUERY_PAGE_DIMENSIONS and (filters or params.segment != "all"):
        # Country, device and search type aggregates know no queries or pages.
        names = list(filters) + (["segment"] if params.segment != "all" else [])
        raise InvalidRequest(
            f"{', '.join(names)} cannot be used with dimension {params.dimension}:"
            f" query and page filters and the brand segment need dimension query, page or brand."
        )
    with report_scope(principal, project_id, property_id) as scope:
        dates = resolve_range(scope, params)
        for name, text_filter in filters.items():
            if text_filter.operator == "regex" and (error := search.regex_error(scope.session, text_filter.value)):
                raise InvalidRequest(f"{name} is not a valid regular expression: {error}.")
        paging = paging_of(params)
        data = scope.data(params.search_type, dates)
        page = search.breakdown(
            scope.session,
            BreakdownQuery(
                data=data,
                dimension=params.dimension,
                filters=tuple(filters.values()),
                segment=params.segment,
                brand_terms=tuple(scope.project.brand_terms),
                sort=params.sort,
                descending=params.order == "desc",
                paging=paging,
            ),
        )
        items = [
            BreakdownItem(key=row.key, **measures(row.clicks, row.impressions, row.position_weighted), brand=row.brand)
            for row in page.rows
        ]
        return BreakdownReport(
            report=NAME,
            property_id=property_id,
            coverage=coverage(scope, data),
            items=items,
            total_items=page.total,
            next_cursor=next_cursor(paging, page.total),
        )
