"""Breakdown: clicks, impressions, CTR and position per query, page, country, device, search type or brand."""

import uuid
from typing import Literal

from shared.auth import Principal
from shared.errors import InvalidRequest
from shared.reports.common import Window, coverage, measures, report_scope, resolve_range
from shared.reports.data import search as gsc_report_search
from shared.reports.data import sources
from shared.reports.data.sources import Sql, TextOperator
from shared.reports.models.base import Source
from shared.reports.models.search import QUERY_PAGE_DIMENSIONS, BreakdownItem, BreakdownParams, BreakdownReport

NAME = "breakdown"

TEXT_FILTERS: tuple[tuple[str, Literal["query", "page"], TextOperator], ...] = tuple(
    (f"{column}_{operator}", column, operator)
    for column in ("query", "page")
    for operator in ("contains", "not_contains", "regex", "exact")
)
"""(parameter, column, operator) of every text filter."""


def _filters(params: BreakdownParams) -> list[tuple[str, Literal["query", "page"], TextOperator, str]]:
    return [
        (name, column, operator, value)
        for name, column, operator in TEXT_FILTERS
        if (value := getattr(params, name)) is not None
    ]


def run(
    principal: Principal,
    project_id: uuid.UUID,
    property_id: uuid.UUID,
    params: BreakdownParams,
    *,
    source: Source = "rollup",
) -> BreakdownReport:
    """One row per key of the dimension, sorted and paged in SQL."""
    filters = _filters(params)
    if params.dimension not in QUERY_PAGE_DIMENSIONS and (filters or params.segment != "all"):
        # Country, device and search type aggregates know no queries or pages.
        names = [name for name, *_ in filters] + (["segment"] if params.segment != "all" else [])
        raise InvalidRequest(
            f"{', '.join(names)} cannot be used with dimension {params.dimension}:"
            f" query and page filters and the brand segment need dimension query, page or brand."
        )
    with report_scope(principal, project_id, property_id, source) as scope:
        start, end = resolve_range(scope, params)
        for name, _, operator, value in filters:
            if operator == "regex" and (error := gsc_report_search.regex_error(scope.session, value)):
                raise InvalidRequest(f"{name} is not a valid regular expression: {error}.")
        brand = sources.brand_condition(list(scope.project.brand_terms))
        conditions = [
            sources.text_filter(column, operator, value, f"filter_{name}") for name, column, operator, value in filters
        ]
        if params.segment == "brand":
            conditions.append(brand)
        elif params.segment == "non_brand":
            conditions.append(Sql(f"NOT ({brand.sql})", brand.params))
        window = Window.of(params)
        rows, total = gsc_report_search.breakdown(
            scope.session,
            scope.property_id,
            params.search_type,
            start,
            end,
            dimension=params.dimension,
            conditions=conditions,
            brand=brand,
            sort=params.sort,
            descending=params.order == "desc",
            offset=window.offset,
            limit=window.limit,
            raw=scope.raw,
        )
        items = [
            BreakdownItem(
                key=row.key,
                **measures(row.clicks, row.impressions, row.position_weighted),
                brand=row.brand,
            )
            for row in rows
        ]
        return BreakdownReport(
            report=NAME,
            property_id=property_id,
            coverage=coverage(scope, params.search_type, start, end),
            items=items,
            total_items=total,
            next_cursor=window.next_cursor(total),
        )
