"""SQL for the reports: where each reads (the rollup's aggregates or raw ``gsc_rows``) and shared predicates.

Every report is written once over a *source*: a subquery of unaggregated rows
``(query, page, clicks, impressions, position_weighted)`` for one property,
search type and date range. With ``raw=False`` the source reads whole ISO
weeks from ``gsc_query_page_weekly`` and the days at either end from
``gsc_query_page_daily``; with ``raw=True`` it reads ``gsc_rows``. The report
groups the source as it needs, so both give the same numbers (tests hold them
to it) and the benchmark can compare them.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Row, text

from shared.db import TenantSession

# Aggregating a 90-day range of a large property hashes ~10^5 groups: keep it in memory (transaction-local).
REPORT_WORK_MEM = "64MB"
# The planner cannot estimate the groups of a source (a union of two aggregates), guesses a few hundred and
# splits the aggregate across parallel workers, each of which then hashes nearly every group before a merge:
# slower than one plain aggregate, and it takes the cores other requests need.
# Joins between grouped rows (a query's totals and its pages) cannot be estimated either: a nested loop
# chosen on a guess of a few rows rescans thousands per row. Hash joins are linear whatever the estimates.
_TUNE_REPORT = text(
    "SELECT set_config('work_mem', :work_mem, true), set_config('max_parallel_workers_per_gather', '0', true),"
    " set_config('enable_nestloop', 'off', true)"
)

TextOperator = Literal["contains", "not_contains", "regex", "exact"]


@dataclass(frozen=True)
class Sql:
    """A SQL fragment and its bind parameters."""

    sql: str
    params: dict[str, Any]


def tune_report_transaction(session: TenantSession) -> None:
    session.execute(_TUNE_REPORT, {"work_mem": REPORT_WORK_MEM})


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def query_page_source(
    property_id: uuid.UUID, search_type: str, start: dt.date, end: dt.date, *, raw: bool, prefix: str = "s"
) -> Sql:
    """Rows ``(query, page, clicks, impressions, position_weighted)`` of a property's range, not yet grouped.

    From the rollup: a preset range's own sums when it was built, else whole weeks and the edge days.

    ``prefix`` names the bind parameters, so two sources (two periods) can share one statement.
    """
    return _source(property_id, search_type, start, end, raw=raw, prefix=prefix, grouped=False)


def query_page_pairs(
    property_id: uuid.UUID, search_type: str, start: dt.date, end: dt.date, *, raw: bool, prefix: str = "s"
) -> Sql:
    """As ``query_page_source``, summed per (query, page): one row per pair.

    A preset range's rows are such pairs already, so reports that work on pairs skip an aggregate of
    every pair of the range when it is one.
    """
    return _source(property_id, search_type, start, end, raw=raw, prefix=prefix, grouped=True)


_PAIR_SUMS = (
    "CAST(sum(clicks) AS bigint) AS clicks, CAST(sum(impressions) AS bigint) AS impressions,"
    " sum(position_weighted) AS position_weighted"
)


def _source(
    property_id: uuid.UUID,
    search_type: str,
    start: dt.date,
    end: dt.date,
    *,
    raw: bool,
    prefix: str,
    grouped: bool,
) -> Sql:
    p = {
        f"{prefix}_property_id": property_id,
        f"{prefix}_search_type": search_type,
        f"{prefix}_start": start,
        f"{prefix}_end": end,
    }
    where = f"property_id = :{prefix}_property_id AND search_type = :{prefix}_search_type"
    columns = "query, page, clicks, impressions, position_weighted"
    if raw:
        rows = (
            "SELECT query, page, clicks, impressions, position * impressions AS position_weighted"
            f" FROM gsc_rows WHERE {where} AND date BETWEEN :{prefix}_start AND :{prefix}_end"
        )
        if grouped:
            rows = f"SELECT query, page, {_PAIR_SUMS} FROM ({rows}) AS r GROUP BY query, page"
        return Sql(rows, p)
    first_week = week_start(start + dt.timedelta(days=6))  # the first Monday on or after start
    last_week = week_start(end + dt.timedelta(days=1)) - dt.timedelta(days=7)  # the last week ending by end
    if first_week > last_week:  # no whole week inside: days only
        pieces = (
            f"SELECT {columns} FROM gsc_query_page_daily WHERE {where}"
            f" AND date BETWEEN :{prefix}_start AND :{prefix}_end"
        )
    else:
        pieces = (
            f"SELECT {columns} FROM gsc_query_page_weekly WHERE {where}"
            f" AND week BETWEEN :{prefix}_first_week AND :{prefix}_last_week"
            f" UNION ALL SELECT {columns} FROM gsc_query_page_daily WHERE {where}"
            f" AND (date BETWEEN :{prefix}_start AND :{prefix}_head_end"
            f" OR date BETWEEN :{prefix}_tail_start AND :{prefix}_end)"
        )
        p |= {
            f"{prefix}_first_week": first_week,
            f"{prefix}_last_week": last_week,
            f"{prefix}_head_end": first_week - dt.timedelta(days=1),
            f"{prefix}_tail_start": last_week + dt.timedelta(days=7),
        }
    # A preset range the rollup built (migration 0005) is read from its own rows; PostgreSQL checks the marker
    # once (an InitPlan) and skips the weeks and days entirely when it is there.
    window = f"{where} AND window_start = :{prefix}_start AND window_end = :{prefix}_end"
    not_built = f"NOT EXISTS (SELECT FROM gsc_rollup_windows WHERE {window})"
    fallback = (
        f"SELECT query, page, {_PAIR_SUMS} FROM ({pieces}) AS pieces WHERE {not_built} GROUP BY query, page"
        if grouped
        else f"SELECT * FROM ({pieces}) AS pieces WHERE {not_built}"
    )
    return Sql(f"SELECT {columns} FROM gsc_query_page_window WHERE {window} UNION ALL {fallback}", p)


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def text_filter(column: Literal["query", "page"], operator: TextOperator, value: str, name: str) -> Sql:
    """A Search Console style filter: contains / not_contains ignore case, exact and regex do not."""
    if operator == "contains":
        return Sql(f"{column} ILIKE :{name}", {name: f"%{_like_escape(value)}%"})
    if operator == "not_contains":
        return Sql(f"{column} NOT ILIKE :{name}", {name: f"%{_like_escape(value)}%"})
    if operator == "regex":
        return Sql(f"{column} ~ :{name}", {name: value})
    return Sql(f"{column} = :{name}", {name: value})


def brand_condition(brand_terms: list[str], *, name: str = "brand_patterns") -> Sql:
    """True for a query containing any of the project's brand terms (ignoring case); false when there are none."""
    if not brand_terms:
        return Sql("false", {})
    return Sql(f"query ILIKE ANY(:{name})", {name: [f"%{_like_escape(term)}%" for term in brand_terms]})


# Coverage: what data a range actually has.

_LATEST_ROLLUP = text(
    "SELECT max(date) FROM gsc_daily_rollup WHERE property_id = :property_id AND search_type = :search_type"
)
_LATEST_RAW = text("SELECT max(date) FROM gsc_rows WHERE property_id = :property_id AND search_type = :search_type")
_SPAN_ROLLUP = text(
    "SELECT min(date) AS first, max(date) AS last FROM gsc_daily_rollup"
    " WHERE property_id = :property_id AND search_type = :search_type AND date BETWEEN :start AND :end"
)
_SPAN_RAW = text(
    "SELECT min(date) AS first, max(date) AS last FROM gsc_rows"
    " WHERE property_id = :property_id AND search_type = :search_type AND date BETWEEN :start AND :end"
)
_PENDING = text(
    "SELECT count(*) FROM gsc_rollup_pending WHERE property_id = :property_id AND date BETWEEN :start AND :end"
)


def latest_date(session: TenantSession, property_id: uuid.UUID, search_type: str, *, raw: bool) -> dt.date | None:
    day: dt.date | None = session.execute(
        _LATEST_RAW if raw else _LATEST_ROLLUP, {"property_id": property_id, "search_type": search_type}
    ).scalar_one()
    return day


def data_span(
    session: TenantSession, property_id: uuid.UUID, search_type: str, start: dt.date, end: dt.date, *, raw: bool
) -> tuple[dt.date | None, dt.date | None]:
    row = session.execute(
        _SPAN_RAW if raw else _SPAN_ROLLUP,
        {"property_id": property_id, "search_type": search_type, "start": start, "end": end},
    ).one()
    return row.first, row.last


def pending_rollup_days(session: TenantSession, property_id: uuid.UUID, start: dt.date, end: dt.date) -> int:
    count: int = session.execute(_PENDING, {"property_id": property_id, "start": start, "end": end}).scalar_one()
    return count


# Performance over time: daily totals.


def daily_totals(
    session: TenantSession,
    property_id: uuid.UUID,
    search_type: str,
    start: dt.date,
    end: dt.date,
    *,
    country: str | None,
    device: str | None,
    raw: bool,
) -> list[Row[Any]]:
    """``(date, clicks, impressions, position_weighted)`` per day with data, in date order."""
    params: dict[str, Any] = {"property_id": property_id, "search_type": search_type, "start": start, "end": end}
    filters = ""
    for column, value in (("country", country), ("device", device)):
        if value is not None:
            filters += f" AND {column} = :{column}"
            params[column] = value
    if raw:
        source, weighted = "gsc_rows", "position * impressions"
    elif filters:
        source, weighted = "gsc_dimension_daily", "position_weighted"
    else:
        source, weighted = "gsc_daily_rollup", "position_weighted"
    return list(
        session.execute(
            text(
                f"SELECT date, sum(clicks) AS clicks, sum(impressions) AS impressions,"
                f" sum({weighted}) AS position_weighted FROM {source}"
                f" WHERE property_id = :property_id AND search_type = :search_type"
                f" AND date BETWEEN :start AND :end{filters} GROUP BY date ORDER BY date"
            ),
            params,
        )
    )
