"""SQL of the trend reports: winners and losers, content decay, tracked keywords.

Each report is one statement over the rollup's aggregates or, with ``raw=True``, over ``gsc_rows``;
both compute the same numbers. Keys sort with ``COLLATE "C"`` (code point order) so that ties break
the same way whatever the database's collation.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Row, text

from shared.db import TenantSession
from shared.reports.data.sources import query_page_source

# Any Monday: content decay carries a window's week as days before it, beside the window's clicks.
_EPOCH = dt.date(2000, 1, 3)
# The peak key's week part: days before the epoch are -KEY_OFFSET..0 for weeks up to the year 2273.
_KEY_SCALE = 100_000
_KEY_OFFSET = _KEY_SCALE - 1


@dataclass(frozen=True)
class RankedPage:
    """One page of a ranked result and the number of rows in the whole result."""

    total: int
    rows: list[Row[Any]]


def _page_of(ranked_sql: str, order_by: str) -> str:
    """A page (``:limit`` rows from ``:offset``) of ``ranked_sql`` with the count of all its rows.

    The count comes in a row of its own even when the page is empty (a cursor past the end).
    """
    return (
        f"WITH ranked AS MATERIALIZED ({ranked_sql})"
        " SELECT t.total, r.* FROM (SELECT count(*) AS total FROM ranked) t"
        f" LEFT JOIN LATERAL (SELECT * FROM ranked ORDER BY {order_by} LIMIT :limit OFFSET :offset) r ON true"
    )


def _ranked_page(session: TenantSession, sql: str, params: dict[str, Any], key: str) -> RankedPage:
    rows = session.execute(text(sql), params).all()
    total = int(rows[0].total) if rows else 0
    return RankedPage(total=total, rows=[row for row in rows if getattr(row, key) is not None])


# Winners and losers


def winners_losers(
    session: TenantSession,
    property_id: uuid.UUID,
    search_type: str,
    current: tuple[dt.date, dt.date],
    previous: tuple[dt.date, dt.date],
    *,
    dimension: Literal["query", "page"],
    metric: Literal["clicks", "impressions"],
    direction: Literal["winners", "losers"],
    relative: bool,
    min_previous: int,
    raw: bool,
    offset: int,
    limit: int,
) -> RankedPage:
    """Keys of either period with their numbers in both, those whose ``metric`` rose (winners) or fell (losers).

    Rows: key, clicks, previous_clicks, impressions, previous_impressions, position, previous_position,
    change, change_relative.
    """
    cur = query_page_source(property_id, search_type, *current, raw=raw, prefix="cur")
    prev = query_page_source(property_id, search_type, *previous, raw=raw, prefix="prev")
    condition = "change > 0" if direction == "winners" else "change < 0"
    if relative:
        condition += f" AND previous_{metric} >= :min_previous"
    rank = "change_relative" if relative else "change"
    # Both periods' rows grouped at once, by key, with the sums of each: the keys of either period, as a full
    # join of the two grouped periods would give, with one hash aggregate and no join (measured faster: the
    # planner cannot estimate the groups of a source, and splits each aggregate over parallel workers in vain).
    # The key in code point order ("C") keeps any sort of it cheap; equality is the same in every collation.
    ranked = f"""
        WITH keys AS (
          SELECT {dimension} COLLATE "C" AS key,
                 CAST(coalesce(sum(clicks) FILTER (WHERE is_current), 0) AS bigint) AS clicks,
                 CAST(coalesce(sum(clicks) FILTER (WHERE NOT is_current), 0) AS bigint) AS previous_clicks,
                 CAST(coalesce(sum(impressions) FILTER (WHERE is_current), 0) AS bigint) AS impressions,
                 CAST(coalesce(sum(impressions) FILTER (WHERE NOT is_current), 0) AS bigint) AS previous_impressions,
                 sum(position_weighted) FILTER (WHERE is_current)
                   / nullif(sum(impressions) FILTER (WHERE is_current), 0) AS position,
                 sum(position_weighted) FILTER (WHERE NOT is_current)
                   / nullif(sum(impressions) FILTER (WHERE NOT is_current), 0) AS previous_position
          FROM (
            SELECT true AS is_current, query, page, clicks, impressions, position_weighted FROM ({cur.sql}) c
            UNION ALL
            SELECT false, query, page, clicks, impressions, position_weighted FROM ({prev.sql}) p
          ) s
          GROUP BY 1
        ),
        changes AS (
          SELECT *, {metric} - previous_{metric} AS change,
                 CAST({metric} - previous_{metric} AS float8) / CAST(nullif(previous_{metric}, 0) AS float8)
                   AS change_relative
          FROM keys
        )
        SELECT * FROM changes WHERE {condition}
    """
    order = f"{rank} {'DESC' if direction == 'winners' else 'ASC'}, key"
    params = cur.params | prev.params | {"min_previous": min_previous, "offset": offset, "limit": limit}
    return _ranked_page(session, _page_of(ranked, order), params, "key")


# Content decay


@dataclass(frozen=True)
class DecayWindows:
    """The dates content decay reads; weeks are Mondays, a week's 28-day window ends on its Sunday."""

    start: dt.date  # the current 28 days
    end: dt.date
    first_peak_week: dt.date  # the first week whose window starts within the history
    last_peak_week: dt.date  # the last week whose window ends by ``end``
    first_current_week: dt.date  # the current window's whole weeks (up to last_peak_week)

    def params(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "scan_first": self.first_peak_week - dt.timedelta(weeks=3),
            "scan_last_day": self.last_peak_week + dt.timedelta(days=6),
            "first_peak_week": self.first_peak_week,
            "last_peak_week": self.last_peak_week,
            "first_peak_index": (_EPOCH - self.first_peak_week).days,
            "first_current_week": self.first_current_week,
            "head_end": self.first_current_week - dt.timedelta(days=1),
            "tail_start": self.last_peak_week + dt.timedelta(days=7),
            "epoch": _EPOCH,
            "key_scale": _KEY_SCALE,
            "key_offset": _KEY_OFFSET,
        }


# A page's weekly clicks and 28-day windows (clicks_4w: its week and the 3 before), from the first peak week's
# window on. From gsc_rows, the same: weekly sums, then the 4-week rolling sum over the page's weeks with rows.
_WEEKLY_ROLLUP = """
    SELECT page, week, clicks, clicks_4w FROM gsc_page_weekly
    WHERE property_id = :property_id AND search_type = :search_type AND week BETWEEN :scan_first AND :last_peak_week
"""
_WEEKLY_RAW = """
    SELECT page, week, clicks,
           CAST(sum(clicks) OVER (PARTITION BY page ORDER BY week RANGE BETWEEN '21 days' PRECEDING AND CURRENT ROW)
                AS bigint) AS clicks_4w
    FROM (
      SELECT page, CAST(date_trunc('week', CAST(date AS timestamp)) AS date) AS week, sum(clicks) AS clicks
      FROM gsc_rows
      WHERE property_id = :property_id AND search_type = :search_type AND date BETWEEN :scan_first AND :scan_last_day
      GROUP BY 1, 2
    ) w
"""
# The current window's days outside its whole weeks.
_EDGES = """
    SELECT page, sum(clicks) AS clicks FROM {table}
    WHERE property_id = :property_id AND search_type = :search_type
      AND (date BETWEEN :start AND :head_end OR date BETWEEN :tail_start AND :end)
    GROUP BY page
"""
# Peak: the largest clicks_4w of the weeks whose window lies within the history and ends by the current end,
# the earliest such week on a tie: one bigint key per week, clicks * KEY_SCALE + the week as days *before* the
# epoch (shifted by KEY_OFFSET to be positive), so a plain max() finds both without building a value per row.
# Only weeks with a row for the page are read, and that finds the true maximum and its earliest week: a
# window ending on a week without a row has its last week empty, so its clicks are those of its weeks up to
# the page's previous week with a row, which that earlier week's window includes. If that previous week is
# before the first peak week, the window is included in the first peak week's window instead, which is
# computed here from its four weeks (it may have no row of its own).
_DECAY = """
    WITH weekly AS ({weekly}),
    edges AS ({edges}),
    peaks AS (
      SELECT page,
             greatest(
               max(clicks_4w * :key_scale + (:key_offset + (CAST(:epoch AS date) - week)))
                 FILTER (WHERE week BETWEEN :first_peak_week AND :last_peak_week),
               CASE WHEN count(*) FILTER (WHERE week <= :first_peak_week) > 0
                 THEN CAST(sum(clicks) FILTER (WHERE week <= :first_peak_week) AS bigint) * :key_scale
                      + (:key_offset + CAST(:first_peak_index AS bigint))
               END
             ) AS best,
             coalesce(sum(clicks) FILTER (WHERE week BETWEEN :first_current_week AND :last_peak_week), 0)
               AS current_weeks
      FROM weekly GROUP BY page
    ),
    decay AS (
      SELECT p.page, CAST(p.current_weeks + coalesce(e.clicks, 0) AS bigint) AS clicks,
             p.best / :key_scale AS peak_clicks,
             CAST(:epoch AS date) - CAST(p.best % :key_scale - :key_offset AS int) AS peak_week
      FROM peaks p LEFT JOIN edges e ON e.page = p.page
      WHERE p.best / :key_scale >= :min_peak_clicks
    )
    SELECT page, clicks, peak_clicks, peak_week - 21 AS peak_start, peak_week + 6 AS peak_end,
           peak_clicks - clicks AS clicks_lost
    FROM decay WHERE clicks < :threshold * peak_clicks
"""


def content_decay(
    session: TenantSession,
    property_id: uuid.UUID,
    search_type: str,
    windows: DecayWindows,
    *,
    threshold: float,
    min_peak_clicks: int,
    raw: bool,
    offset: int,
    limit: int,
) -> RankedPage:
    """Pages whose current 28 days fell below ``threshold`` of their best 28 days, most clicks lost first.

    Rows: page, clicks, peak_clicks, peak_start, peak_end, clicks_lost.
    """
    ranked = _DECAY.format(
        weekly=_WEEKLY_RAW if raw else _WEEKLY_ROLLUP,
        edges=_EDGES.format(table="gsc_rows" if raw else "gsc_query_page_daily"),
    )
    params = windows.params() | {
        "property_id": property_id,
        "search_type": search_type,
        "threshold": threshold,
        "min_peak_clicks": min_peak_clicks,
        "offset": offset,
        "limit": limit,
    }
    return _ranked_page(session, _page_of(ranked, 'clicks_lost DESC, page COLLATE "C"'), params, "page")


# Tracked keywords


def tracked_keywords(
    session: TenantSession, project_id: uuid.UUID, *, tag: str | None, offset: int, limit: int
) -> RankedPage:
    """A page of the project's tracked keywords by text then id (rows: id, text, country, device, tags)."""
    tagged = " AND tags @> ARRAY[CAST(:tag AS text)]" if tag is not None else ""
    ranked = (
        "SELECT id, text, country, device, tags FROM keywords"
        f" WHERE tenant_id = :tenant_id AND project_id = :project_id{tagged}"
    )
    params = {"tenant_id": session.tenant_id, "project_id": project_id, "tag": tag, "offset": offset, "limit": limit}
    return _ranked_page(session, _page_of(ranked, 'text COLLATE "C", id'), params, "id")


# (query, date, clicks, impressions, position_weighted)
QueryDay = Row[str, dt.date, int, int, float]


def query_days(
    session: TenantSession,
    property_id: uuid.UUID,
    search_type: str,
    queries: list[str],
    start: dt.date,
    end: dt.date,
    *,
    raw: bool,
) -> list[QueryDay]:
    """``(query, date, clicks, impressions, position_weighted)`` per query and day with data, over every page,
    country and device, in query then date order."""
    if raw:
        source, weighted = "gsc_rows", "position * impressions"
    else:
        source, weighted = "gsc_query_page_daily", "position_weighted"
    return list(
        session.execute(
            text(
                "SELECT query, date, CAST(sum(clicks) AS bigint) AS clicks,"
                f" CAST(sum(impressions) AS bigint) AS impressions, sum({weighted}) AS position_weighted"
                f" FROM {source} WHERE property_id = :property_id AND search_type = :search_type"
                " AND query = ANY(:queries) AND date BETWEEN :start AND :end"
                ' GROUP BY query, date ORDER BY query COLLATE "C", date'
            ),
            {
                "property_id": property_id,
                "search_type": search_type,
                "queries": queries,
                "start": start,
                "end": end,
            },
        ).all()  # fetchall: a long range has thousands of rows
    )
