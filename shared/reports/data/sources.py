"""Where reports read (the rollup's aggregates or raw ``gsc_rows``), what data a range has, and daily totals.

Every report is written once over a *source*: a subquery of unaggregated rows
``(query, page, clicks, impressions, position_weighted)`` of a ``SearchData``.
From the rollup it reads a preset range's own sums when the rollup built them,
else whole ISO weeks from ``gsc_query_page_weekly`` and the days at either end
from ``gsc_query_page_daily``; from raw rows it reads ``gsc_rows``. The report
groups the source as it needs, so both give the same numbers (tests hold them
to it) and the benchmark can compare them.

Reports read the rollup. ``reading_raw_rows()`` makes the reports run inside
it read ``gsc_rows`` instead: the benchmark's baseline and the tests'
cross-check of the rollup, never the API's.
"""

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import text

from shared.dates import week_start
from shared.db import TenantSession
from shared.reports.data.queries import DailyTotalsQuery, DataSpan, DayTotals, SearchData

Source = Literal["rollup", "raw"]

_SOURCE: ContextVar[Source] = ContextVar("report_source", default="rollup")


def current_source() -> Source:
    """Where the reports of this context read: the rollup, unless inside ``reading_raw_rows()``."""
    return _SOURCE.get()


@contextmanager
def reading_raw_rows() -> Iterator[None]:
    """Reports run in this block compute from ``gsc_rows`` itself (the benchmark's baseline, the tests' check)."""
    token = _SOURCE.set("raw")
    try:
        yield
    finally:
        _SOURCE.reset(token)


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


@dataclass(frozen=True)
class Sql:
    """A SQL fragment and its bind parameters (inside the data layer only)."""

    sql: str
    params: dict[str, Any]


def tune_report_transaction(session: TenantSession) -> None:
    session.execute(_TUNE_REPORT, {"work_mem": REPORT_WORK_MEM})


def query_page_rows(data: SearchData, *, source: Source, prefix: str = "s") -> Sql:
    """Rows ``(query, page, clicks, impressions, position_weighted)`` of ``data``, not yet grouped.

    ``prefix`` names the bind parameters, so two sources (two periods) can share one statement.
    """
    return _source(data, source=source, prefix=prefix, grouped=False)


def query_page_pairs(data: SearchData, *, source: Source, prefix: str = "s") -> Sql:
    """As ``query_page_rows``, summed per (query, page): one row per pair.

    A preset range's rows are such pairs already, so reports that work on pairs skip an aggregate of
    every pair of the range when it is one.
    """
    return _source(data, source=source, prefix=prefix, grouped=True)


_PAIR_SUMS = (
    "CAST(sum(clicks) AS bigint) AS clicks, CAST(sum(impressions) AS bigint) AS impressions,"
    " sum(position_weighted) AS position_weighted"
)


def _source(data: SearchData, *, source: Source, prefix: str, grouped: bool) -> Sql:
    start, end = data.dates.start, data.dates.end
    p = {
        f"{prefix}_property_id": data.property_id,
        f"{prefix}_search_type": data.search_type,
        f"{prefix}_start": start,
        f"{prefix}_end": end,
    }
    where = f"property_id = :{prefix}_property_id AND search_type = :{prefix}_search_type"
    columns = "query, page, clicks, impressions, position_weighted"
    if source == "raw":
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
    # once (an InitPlan) and skips the weeks and days entirely when it is there. (Tables and columns say
    # "window" for a preset range.)
    preset = f"{where} AND window_start = :{prefix}_start AND window_end = :{prefix}_end"
    not_built = f"NOT EXISTS (SELECT FROM gsc_rollup_windows WHERE {preset})"
    fallback = (
        f"SELECT query, page, {_PAIR_SUMS} FROM ({pieces}) AS pieces WHERE {not_built} GROUP BY query, page"
        if grouped
        else f"SELECT * FROM ({pieces}) AS pieces WHERE {not_built}"
    )
    return Sql(f"SELECT {columns} FROM gsc_query_page_window WHERE {preset} UNION ALL {fallback}", p)


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


def _bind(data: SearchData) -> dict[str, Any]:
    return {
        "property_id": data.property_id,
        "search_type": data.search_type,
        "start": data.dates.start,
        "end": data.dates.end,
    }


def latest_date(session: TenantSession, property_id: uuid.UUID, search_type: str) -> dt.date | None:
    """The property's latest day with data of the search type (None: none)."""
    statement = _LATEST_RAW if current_source() == "raw" else _LATEST_ROLLUP
    day: dt.date | None = session.execute(
        statement, {"property_id": property_id, "search_type": search_type}
    ).scalar_one()
    return day


def data_span(session: TenantSession, data: SearchData) -> DataSpan:
    row = session.execute(_SPAN_RAW if current_source() == "raw" else _SPAN_ROLLUP, _bind(data)).one()
    return DataSpan(first=row.first, last=row.last)


def pending_rollup_days(session: TenantSession, data: SearchData) -> int:
    """Days of the range loaded but not yet rolled up (none when reading ``gsc_rows`` itself)."""
    if current_source() == "raw":
        return 0
    count: int = session.execute(
        _PENDING, {"property_id": data.property_id, "start": data.dates.start, "end": data.dates.end}
    ).scalar_one()
    return count


# Performance over time: daily totals.


def daily_totals(session: TenantSession, query: DailyTotalsQuery) -> list[DayTotals]:
    """The totals of each day with data, in date order."""
    params = _bind(query.data)
    filters = ""
    for column, value in (("country", query.country), ("device", query.device)):
        if value is not None:
            filters += f" AND {column} = :{column}"
            params[column] = value
    if current_source() == "raw":
        table, weighted = "gsc_rows", "position * impressions"
    elif filters:
        table, weighted = "gsc_dimension_daily", "position_weighted"
    else:
        table, weighted = "gsc_daily_rollup", "position_weighted"
    rows = session.execute(
        text(
            f"SELECT date, sum(clicks) AS clicks, sum(impressions) AS impressions,"
            f" sum({weighted}) AS position_weighted FROM {table}"
            f" WHERE property_id = :property_id AND search_type = :search_type"
            f" AND date BETWEEN :start AND :end{filters} GROUP BY date ORDER BY date"
        ),
        params,
    )
    return [DayTotals(row.date, int(row.clicks), int(row.impressions), float(row.position_weighted)) for row in rows]
