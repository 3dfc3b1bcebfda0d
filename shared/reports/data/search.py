"""SQL of the search reports: breakdown, striking distance, CTR opportunities, cannibalization.

Each report is one statement over ``gsc_reports.query_page_source`` (so the
rollup and raw ``gsc_rows`` share it), grouped, filtered, sorted and cut to a
page in SQL; ``count(*) OVER ()`` gives the report's size with its page. A
query's totals beside its pages come from window functions over the (query,
page) groups rather than joins of aggregates with each other: the planner
cannot estimate such joins, and a nested loop over them takes seconds. Ties
sort by keys in ``COLLATE "C"`` (code point order), the same on every database
whatever its locale.
"""

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Literal

from sqlalchemy import Row, text
from sqlalchemy.exc import DBAPIError

from shared.db import TenantSession
from shared.reports.data.sources import Sql, query_page_pairs, query_page_source

INVALID_REGULAR_EXPRESSION = "2201B"
HOMEPAGE_PATTERN = "^https?://[^/]+/?$"  # a URL with no path beyond "/"

Sort = Literal["clicks", "impressions", "ctr", "position"]
Level = Literal["query", "page", "query_page"]

_SUMS = "sum(clicks) AS clicks, sum(impressions) AS impressions, sum(position_weighted) AS position_weighted"
_SORT_EXPRESSIONS: dict[Sort, str] = {
    "clicks": "clicks",
    "impressions": "impressions",
    "ctr": "clicks::float8 / nullif(impressions, 0)::float8",
    "position": "position_weighted / nullif(impressions, 0)::float8",
}


def fetch_page(fetch: Callable[[int, int], Sequence[Row[Any]]], offset: int, limit: int) -> tuple[list[Row[Any]], int]:
    """A page of rows carrying ``total`` (``count(*) OVER ()``), and that total.

    A page past the end has no row to carry it: only then ask again for the first row.
    """
    rows = list(fetch(offset, limit))
    if rows:
        return rows, int(rows[0].total)
    if offset == 0:
        return rows, 0
    first = fetch(0, 1)
    return rows, int(first[0].total) if first else 0


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


def _where(conditions: Sequence[Sql]) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {}
    for condition in conditions:
        params |= condition.params
    return (" WHERE " + " AND ".join(f"({c.sql})" for c in conditions) if conditions else ""), params


def _breakdown_groups(
    property_id: uuid.UUID,
    search_type: str,
    start: dt.date,
    end: dt.date,
    *,
    dimension: str,
    conditions: Sequence[Sql],
    brand: Sql,
    raw: bool,
) -> Sql:
    """``(key, clicks, impressions, position_weighted, brand)`` per key of the dimension."""
    if dimension in ("query", "page", "brand"):
        source = query_page_source(property_id, search_type, start, end, raw=raw)
        where, params = _where(conditions)
        if dimension == "brand":
            key, flag = f"CASE WHEN {brand.sql} THEN 'brand' ELSE 'non_brand' END", "NULL::boolean"
        else:
            key, flag = dimension, (brand.sql if dimension == "query" else "NULL::boolean")
        return Sql(
            f"SELECT {key} AS key, {_SUMS}, {flag} AS brand FROM ({source.sql}) AS s{where} GROUP BY 1",
            source.params | params | brand.params,
        )
    # Countries, devices and search types are not in the query-page aggregates: each has its own.
    params = {"property_id": property_id, "start": start, "end": end}
    where = "property_id = :property_id AND date BETWEEN :start AND :end"
    if dimension != "search_type":  # search types: every one of them
        where += " AND search_type = :search_type"
        params["search_type"] = search_type
    if raw:
        table, sums = "gsc_rows", _SUMS.replace("sum(position_weighted)", "sum(position * impressions)")
    else:
        table, sums = ("gsc_daily_rollup" if dimension == "search_type" else "gsc_dimension_daily"), _SUMS
    return Sql(
        f"SELECT {dimension} AS key, {sums}, NULL::boolean AS brand FROM {table} WHERE {where} GROUP BY 1", params
    )


def breakdown(
    session: TenantSession,
    property_id: uuid.UUID,
    search_type: str,
    start: dt.date,
    end: dt.date,
    *,
    dimension: str,
    conditions: Sequence[Sql],
    brand: Sql,
    sort: Sort,
    descending: bool,
    offset: int,
    limit: int,
    raw: bool,
) -> tuple[list[Row[Any]], int]:
    """A page of ``(key, clicks, impressions, position_weighted, brand)`` rows, and how many rows there are.

    ``conditions`` narrow the query-page source (text filters, brand segment) and need a query-page dimension.
    """
    groups = _breakdown_groups(
        property_id, search_type, start, end, dimension=dimension, conditions=conditions, brand=brand, raw=raw
    )
    direction = "DESC" if descending else "ASC"
    statement = text(
        f"SELECT g.*, count(*) OVER () AS total FROM ({groups.sql}) AS g"
        f' ORDER BY {_SORT_EXPRESSIONS[sort]} {direction} NULLS LAST, key COLLATE "C"'
        " LIMIT :limit OFFSET :offset"
    )
    return fetch_page(
        lambda offset_, limit_: session.execute(statement, groups.params | {"offset": offset_, "limit": limit_}).all(),
        offset,
        limit,
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


def striking_distance(
    session: TenantSession,
    project_id: uuid.UUID,
    property_id: uuid.UUID,
    search_type: str,
    start: dt.date,
    end: dt.date,
    *,
    min_position: float,
    max_position: float,
    min_impressions: int,
    offset: int,
    limit: int,
    raw: bool,
) -> tuple[list[Row[Any]], int]:
    """A page of queries in the position band, each with its top page and that page's crawled title and H1."""
    source = query_page_pairs(property_id, search_type, start, end, raw=raw)
    statement = text(_STRIKING_DISTANCE.format(source=source.sql))
    params = source.params | {
        "project_id": project_id,
        "min_position": min_position,
        "max_position": max_position,
        "min_impressions": min_impressions,
    }
    return fetch_page(
        lambda offset_, limit_: session.execute(statement, params | {"offset": offset_, "limit": limit_}).all(),
        offset,
        limit,
    )


# CTR opportunities

_CTR_BUCKETS = f"""
WITH pairs AS ({_PAIRS})
SELECT least(:max_bucket, greatest(1, floor(position_weighted / impressions::float8 + 0.5)))::int AS position,
       sum(clicks) AS clicks, sum(impressions) AS impressions
FROM pairs WHERE impressions > 0
GROUP BY 1 ORDER BY 1
"""

_LEVEL_GROUPS: dict[Level, tuple[str, str]] = {  # (select list, group by)
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


def ctr_buckets(
    session: TenantSession,
    property_id: uuid.UUID,
    search_type: str,
    start: dt.date,
    end: dt.date,
    *,
    max_bucket: int,
    raw: bool,
) -> list[Row[Any]]:
    """``(position, clicks, impressions)`` per rounded average position of the (query, page) pairs (1 to max)."""
    source = query_page_pairs(property_id, search_type, start, end, raw=raw)
    statement = text(_CTR_BUCKETS.format(source=source.sql))
    return list(session.execute(statement, source.params | {"max_bucket": max_bucket}).all())


def ctr_opportunities(
    session: TenantSession,
    property_id: uuid.UUID,
    search_type: str,
    start: dt.date,
    end: dt.date,
    *,
    level: Level,
    a: float,
    b: float,
    min_impressions: int,
    offset: int,
    limit: int,
    raw: bool,
) -> tuple[list[Row[Any]], int]:
    """A page of rows at ``level`` whose CTR falls short of ``min(1, exp(a) * position^b)``, largest shortfall first."""
    source = query_page_pairs(property_id, search_type, start, end, raw=raw)
    columns, group_by = _LEVEL_GROUPS[level]
    statement = text(_CTR_OPPORTUNITIES.format(columns=columns, sums=_SUMS, source=source.sql, group_by=group_by))
    params = source.params | {"a": a, "b": b, "min_impressions": min_impressions}
    return fetch_page(
        lambda offset_, limit_: session.execute(statement, params | {"offset": offset_, "limit": limit_}).all(),
        offset,
        limit,
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


def cannibalization(
    session: TenantSession,
    property_id: uuid.UUID,
    search_type: str,
    start: dt.date,
    end: dt.date,
    *,
    min_share: float,
    min_impressions: int,
    exclude_homepage: bool,
    min_pages: int,
    offset: int,
    limit: int,
    raw: bool,
) -> tuple[list[Row[Any]], int]:
    """A page of queries with ``min_pages`` pages of ``min_share`` of their impressions or more, with those pages.

    Home pages left out are left out before the query's totals and the pages' shares are computed.
    """
    source = query_page_pairs(property_id, search_type, start, end, raw=raw)
    source_sql = source.sql
    params = source.params | {"min_share": min_share, "min_impressions": min_impressions, "min_pages": min_pages}
    if exclude_homepage:
        source_sql = f"SELECT * FROM ({source_sql}) AS h WHERE page !~ :homepage_pattern"
        params["homepage_pattern"] = HOMEPAGE_PATTERN
    statement = text(_CANNIBALIZATION.format(source=source_sql))
    return fetch_page(
        lambda offset_, limit_: session.execute(statement, params | {"offset": offset_, "limit": limit_}).all(),
        offset,
        limit,
    )
