"""SQL of the search reports: breakdown, striking distance, CTR opportunities, cannibalization.

Each report is one statement over ``sources.query_page_rows`` or ``query_page_pairs``
(so the rollup and raw ``gsc_rows`` share it), grouped, filtered, sorted and
cut to a page in SQL; ``count(*) OVER ()`` gives the report's size with its
page. A query's totals beside its pages come from window functions over the
(query, page) groups rather than joins of aggregates with each other: the
planner cannot estimate such joins, and a nested loop over them takes seconds.
Ties sort by keys in ``COLLATE "C"`` (code point order), the same on every
database whatever its locale.
"""

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Row, TextClause, text
from sqlalchemy.exc import DBAPIError

from shared.db import TenantSession
from shared.reports.data.queries import (
    BreakdownQuery,
    BreakdownRow,
    CannibalizationQuery,
    CannibalizationRow,
    CtrBucket,
    CtrBucketsQuery,
    CtrLevel,
    CtrOpportunitiesQuery,
    CtrOpportunityRow,
    Paged,
    PageSums,
    Paging,
    Sort,
    StrikingDistanceQuery,
    StrikingDistanceRow,
    TextFilter,
)
from shared.reports.data.sources import Sql, current_source, query_page_pairs, query_page_rows

INVALID_REGULAR_EXPRESSION = "2201B"
HOMEPAGE_PATTERN = "^https?://[^/]+/?$"  # a URL with no path beyond "/"

_SUMS = "sum(clicks) AS clicks, sum(impressions) AS impressions, sum(position_weighted) AS position_weighted"
_SORT_EXPRESSIONS: dict[Sort, str] = {
    "clicks": "clicks",
    "impressions": "impressions",
    "ctr": "clicks::float8 / nullif(impressions, 0)::float8",
    "position": "position_weighted / nullif(impressions, 0)::float8",
}


def _page[T](
    session: TenantSession,
    statement: TextClause,
    params: dict[str, Any],
    paging: Paging,
    row_of: Callable[[Row[Any]], T],
) -> Paged[T]:
    """A page of rows carrying ``total`` (``count(*) OVER ()``), and that total.

    A page past the end has no row to carry it: only then ask again for the first row.
    """

    def fetch(offset: int, limit: int) -> Sequence[Row[Any]]:
        return session.execute(statement, params | {"offset": offset, "limit": limit}).all()

    rows = fetch(paging.offset, paging.limit)
    if rows:
        total = int(rows[0].total)
    elif paging.offset == 0:
        total = 0
    else:
        first = fetch(0, 1)
        total = int(first[0].total) if first else 0
    return Paged(rows=[row_of(row) for row in rows], total=total)


def regex_error(session: TenantSession, pattern: str) -> str | None:
    """PostgreSQL's complaint about a regular expression, or None when it compiles.

    A failure aborts the transaction: the caller reports it and goes no further.
    """
    try:
        session.execute(text("SELECT '' ~ :pattern"), {"pattern": pattern})
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != INVALID_REGULAR_EXPRESSION:
            raise
        diag = getattr(exc.orig, "diag", None)
        return str(getattr(diag, "message_primary", None) or exc.orig)
    return None


# Breakdown


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _text_condition(text_filter: TextFilter, name: str) -> Sql:
    column, value = text_filter.column, text_filter.value
    if text_filter.operator == "contains":
        return Sql(f"{column} ILIKE :{name}", {name: f"%{_like_escape(value)}%"})
    if text_filter.operator == "not_contains":
        return Sql(f"{column} NOT ILIKE :{name}", {name: f"%{_like_escape(value)}%"})
    if text_filter.operator == "regex":
        return Sql(f"{column} ~ :{name}", {name: value})
    return Sql(f"{column} = :{name}", {name: value})


def _brand_condition(brand_terms: Sequence[str]) -> Sql:
    """True for a query containing any of the brand terms (ignoring case); false when there are none."""
    if not brand_terms:
        return Sql("false", {})
    return Sql("query ILIKE ANY(:brand_patterns)", {"brand_patterns": [f"%{_like_escape(t)}%" for t in brand_terms]})


def _breakdown_groups(query: BreakdownQuery) -> Sql:
    """``(key, clicks, impressions, position_weighted, brand)`` per key of the dimension."""
    data, dimension = query.data, query.dimension
    source = current_source()
    if dimension in ("query", "page", "brand"):
        rows = query_page_rows(data, source=source)
        brand = _brand_condition(query.brand_terms)
        conditions = [_text_condition(f, f"filter_{n}") for n, f in enumerate(query.filters)]
        if query.segment == "brand":
            conditions.append(brand)
        elif query.segment == "non_brand":
            conditions.append(Sql(f"NOT ({brand.sql})", brand.params))
        params: dict[str, Any] = {}
        for condition in conditions:
            params |= condition.params
        where = " WHERE " + " AND ".join(f"({c.sql})" for c in conditions) if conditions else ""
        if dimension == "brand":
            key, flag = f"CASE WHEN {brand.sql} THEN 'brand' ELSE 'non_brand' END", "NULL::boolean"
        else:
            key, flag = dimension, (brand.sql if dimension == "query" else "NULL::boolean")
        return Sql(
            f"SELECT {key} AS key, {_SUMS}, {flag} AS brand FROM ({rows.sql}) AS s{where} GROUP BY 1",
            rows.params | params | brand.params,
        )
    if query.filters or query.segment != "all":
        raise ValueError(f"Filters and segments need query or page rows, not {dimension}.")
    # Countries, devices and search types are not in the query-page aggregates: each has its own.
    bind: dict[str, Any] = {"property_id": data.property_id, "start": data.dates.start, "end": data.dates.end}
    where = "property_id = :property_id AND date BETWEEN :start AND :end"
    if dimension != "search_type":  # search types: every one of them
        where += " AND search_type = :search_type"
        bind["search_type"] = data.search_type
    if source == "raw":
        table, sums = "gsc_rows", _SUMS.replace("sum(position_weighted)", "sum(position * impressions)")
    else:
        table, sums = ("gsc_daily_rollup" if dimension == "search_type" else "gsc_dimension_daily"), _SUMS
    return Sql(f"SELECT {dimension} AS key, {sums}, NULL::boolean AS brand FROM {table} WHERE {where} GROUP BY 1", bind)


def breakdown(session: TenantSession, query: BreakdownQuery) -> Paged[BreakdownRow]:
    """A page of the dimension's keys with their measures, sorted by a measure (no impressions last), then key."""
    groups = _breakdown_groups(query)
    direction = "DESC" if query.descending else "ASC"
    statement = text(
        f"SELECT g.*, count(*) OVER () AS total FROM ({groups.sql}) AS g"
        f' ORDER BY {_SORT_EXPRESSIONS[query.sort]} {direction} NULLS LAST, key COLLATE "C"'
        " LIMIT :limit OFFSET :offset"
    )
    return _page(
        session,
        statement,
        groups.params,
        query.paging,
        lambda row: BreakdownRow(
            key=row.key,
            clicks=int(row.clicks),
            impressions=int(row.impressions),
            position_weighted=float(row.position_weighted),
            brand=row.brand,
        ),
    )


# Striking distance

_PAIRS = "SELECT * FROM ({source}) AS s"  # a query_page_pairs source: one row per (query, page)

_STRIKING_DISTANCE = f"""
WITH pairs AS MATERIALIZED ({_PAIRS}),
queries AS (
    SELECT query, sum(clicks) AS clicks, sum(impressions) AS impressions, sum(position_weighted) AS position_weighted
    FROM pairs GROUP BY query
    HAVING sum(impressions) > 0 AND sum(impressions) >= :min_impressions
       AND sum(position_weighted) / sum(impressions)::float8 BETWEEN :min_position AND :max_position
),
chosen AS (
    SELECT *, count(*) OVER () AS total FROM queries
    ORDER BY impressions DESC, query COLLATE "C" LIMIT :limit OFFSET :offset
),
top_pages AS (
    SELECT DISTINCT ON (p.query) p.query, p.page, p.clicks, p.impressions, p.position_weighted
    FROM pairs AS p JOIN chosen AS c ON c.query = p.query
    ORDER BY p.query, p.impressions DESC, p.page COLLATE "C"
)
SELECT c.query, c.clicks, c.impressions, c.position_weighted, c.total,
       t.page, t.clicks AS page_clicks, t.impressions AS page_impressions,
       t.position_weighted AS page_position_weighted,
       strpos(lower(cp.title), lower(c.query)) > 0 AS in_title,
       strpos(lower(cp.h1), lower(c.query)) > 0 AS in_h1
FROM chosen AS c
JOIN top_pages AS t ON t.query = c.query
LEFT JOIN crawled_pages AS cp ON cp.project_id = :project_id AND cp.url = t.page
ORDER BY c.impressions DESC, c.query COLLATE "C"
"""


def striking_distance(session: TenantSession, query: StrikingDistanceQuery) -> Paged[StrikingDistanceRow]:
    """A page of queries in the position band, each with its top page and that page's crawled title and H1."""
    pairs = query_page_pairs(query.data, source=current_source())
    statement = text(_STRIKING_DISTANCE.format(source=pairs.sql))
    params = pairs.params | {
        "project_id": query.project_id,
        "min_position": query.min_position,
        "max_position": query.max_position,
        "min_impressions": query.min_impressions,
    }
    return _page(
        session,
        statement,
        params,
        query.paging,
        lambda row: StrikingDistanceRow(
            query=row.query,
            clicks=int(row.clicks),
            impressions=int(row.impressions),
            position_weighted=float(row.position_weighted),
            page=row.page,
            page_clicks=int(row.page_clicks),
            page_impressions=int(row.page_impressions),
            page_position_weighted=float(row.page_position_weighted),
            in_title=row.in_title,
            in_h1=row.in_h1,
        ),
    )


# CTR opportunities

_CTR_BUCKETS = f"""
WITH pairs AS ({_PAIRS})
SELECT least(:max_bucket, greatest(1, floor(position_weighted / impressions::float8 + 0.5)))::int AS position,
       sum(clicks) AS clicks, sum(impressions) AS impressions
FROM pairs WHERE impressions > 0
GROUP BY 1 ORDER BY 1
"""

_LEVEL_GROUPS: dict[CtrLevel, tuple[str, str]] = {  # (select list, group by)
    "query": ("query, NULL::text AS page", "query"),
    "page": ("NULL::text AS query, page", "page"),
    "query_page": ("query, page", "query, page"),
}

_CTR_OPPORTUNITIES = """
WITH grouped AS (
    SELECT {columns}, {sums} FROM ({source}) AS s GROUP BY {group_by}
),
scored AS (
    SELECT *, least(1, exp(:a) * power(position_weighted / impressions::float8, :b)) AS expected_ctr
    FROM grouped WHERE impressions > 0 AND impressions >= :min_impressions
),
ranked AS (
    SELECT *, expected_ctr * impressions::float8 - clicks::float8 AS extra_clicks FROM scored
)
SELECT *, count(*) OVER () AS total FROM ranked WHERE extra_clicks > 0
ORDER BY extra_clicks DESC, query COLLATE "C", page COLLATE "C"
LIMIT :limit OFFSET :offset
"""


def ctr_buckets(session: TenantSession, query: CtrBucketsQuery) -> list[CtrBucket]:
    """Clicks and impressions per rounded average position of the (query, page) pairs (1 to the maximum)."""
    pairs = query_page_pairs(query.data, source=current_source())
    statement = text(_CTR_BUCKETS.format(source=pairs.sql))
    rows = session.execute(statement, pairs.params | {"max_bucket": query.max_position}).all()
    return [CtrBucket(int(row.position), int(row.clicks), int(row.impressions)) for row in rows]


def ctr_opportunities(session: TenantSession, query: CtrOpportunitiesQuery) -> Paged[CtrOpportunityRow]:
    """A page of rows at the query's level whose CTR falls short of the curve, largest shortfall first."""
    pairs = query_page_pairs(query.data, source=current_source())
    columns, group_by = _LEVEL_GROUPS[query.level]
    statement = text(_CTR_OPPORTUNITIES.format(columns=columns, sums=_SUMS, source=pairs.sql, group_by=group_by))
    params = pairs.params | {"a": query.a, "b": query.b, "min_impressions": query.min_impressions}
    return _page(
        session,
        statement,
        params,
        query.paging,
        lambda row: CtrOpportunityRow(
            query=row.query,
            page=row.page,
            clicks=int(row.clicks),
            impressions=int(row.impressions),
            position_weighted=float(row.position_weighted),
            expected_ctr=float(row.expected_ctr),
            extra_clicks=float(row.extra_clicks),
        ),
    )


# Cannibalization

_CANNIBALIZATION = f"""
WITH pairs AS MATERIALIZED ({_PAIRS}),
totals AS (
    SELECT query, sum(clicks) AS query_clicks, sum(impressions) AS query_impressions,
           sum(position_weighted) AS query_position_weighted
    FROM pairs GROUP BY query
    HAVING count(*) >= :min_pages AND sum(impressions) > 0 AND sum(impressions) >= :min_impressions
),
competing AS MATERIALIZED (
    SELECT p.query, p.page, p.clicks, p.impressions, p.position_weighted,
           t.query_clicks, t.query_impressions, t.query_position_weighted
    FROM pairs AS p JOIN totals AS t ON t.query = p.query
    WHERE p.impressions::float8 / t.query_impressions::float8 >= :min_share
),
chosen AS (
    SELECT query, query_clicks, query_impressions, query_position_weighted, count(*) OVER () AS total
    FROM competing
    GROUP BY query, query_clicks, query_impressions, query_position_weighted
    HAVING count(*) >= :min_pages
    ORDER BY query_impressions DESC, query COLLATE "C"
    LIMIT :limit OFFSET :offset
)
SELECT q.query, q.query_clicks AS clicks, q.query_impressions AS impressions,
       q.query_position_weighted AS position_weighted, q.total,
       json_agg(json_build_object(
           'page', c.page, 'clicks', c.clicks, 'impressions', c.impressions, 'position_weighted', c.position_weighted
       ) ORDER BY c.impressions DESC, c.page COLLATE "C") AS pages
FROM chosen AS q JOIN competing AS c ON c.query = q.query
GROUP BY q.query, q.query_clicks, q.query_impressions, q.query_position_weighted, q.total
ORDER BY q.query_impressions DESC, q.query COLLATE "C"
"""


def cannibalization(session: TenantSession, query: CannibalizationQuery) -> Paged[CannibalizationRow]:
    """A page of queries with ``min_pages`` pages of ``min_share`` of their impressions or more, with those pages.

    Home pages left out are left out before the query's totals and the pages' shares are computed.
    """
    pairs = query_page_pairs(query.data, source=current_source())
    pairs_sql = pairs.sql
    params = pairs.params | {
        "min_share": query.min_share,
        "min_impressions": query.min_impressions,
        "min_pages": query.min_pages,
    }
    if query.exclude_homepage:
        pairs_sql = f"SELECT * FROM ({pairs_sql}) AS h WHERE page !~ :homepage_pattern"
        params["homepage_pattern"] = HOMEPAGE_PATTERN
    statement = text(_CANNIBALIZATION.format(source=pairs_sql))
    return _page(
        session,
        statement,
        params,
        query.paging,
        lambda row: CannibalizationRow(
            query=row.query,
            clicks=int(row.clicks),
            impressions=int(row.impressions),
            position_weighted=float(row.position_weighted),
            pages=[
                PageSums(
                    page=page["page"],
                    clicks=int(page["clicks"]),
                    impressions=int(page["impressions"]),
                    position_weighted=float(page["position_weighted"]),
                )
                for page in row.pages
            ],
        ),
    )
