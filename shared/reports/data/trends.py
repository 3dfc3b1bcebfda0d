"""SQL of the trend reports: winners and losers, content decay, tracked keywords.

Each report is one statement over the rollup's aggregates or, when reading raw rows
(``sources.reading_raw_rows``), over ``gsc_rows``; both compute the same numbers. Keys sort with
``COLLATE "C"`` (code point order) so that ties break the same way whatever the database's collation.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import Row, text

from shared.db import TenantSession
from shared.reports.data.queries import (
    ContentDecayQuery,
    DecayRow,
    DecaySpans,
    KeywordDay,
    KeywordDaysQuery,
    Paged,
    SearchData,
    TrackedKeyword,
    TrackedKeywordsQuery,
    WinnerLoserRow,
    WinnersLosersQuery,
)
from shared.reports.data.sources import current_source, query_page_rows

# Any Monday: content decay carries a span's week as days before it, beside the span's clicks.
_EPOCH = dt.date(2000, 1, 3)
# The peak key's week part: days before the epoch are -KEY_OFFSET..0 for weeks up to the year 2273.
_KEY_SCALE = 100_000
_KEY_OFFSET = _KEY_SCALE - 1


def _paging(query: WinnersLosersQuery | ContentDecayQuery | TrackedKeywordsQuery) -> dict[str, int]:
    return {"offset": query.paging.offset, "limit": query.paging.limit}


def _page_of(ranked_sql: str, order_by: str) -> str:
    """A page (``:limit`` rows from ``:offset``) of ``ranked_sql`` with the count of all its rows.

    The count comes in a row of its own even when the page is empty (a cursor past the end).
    """
    return (
        f"WITH ranked AS MATERIALIZED ({ranked_sql})"
        " SELECT t.total, r.* FROM (SELECT count(*) AS total FROM ranked) t"
        f" LEFT JOIN LATERAL (SELECT * FROM ranked ORDER BY {order_by} LIMIT :limit OFFSET :offset) r ON true"
    )


def _ranked_page[T](
    session: TenantSession, sql: str, params: dict[str, Any], key: str, row_of: Callable[[Row[Any]], T]
) -> Paged[T]:
    rows = session.execute(text(sql), params).all()
    total = int(rows[0].total) if rows else 0
    return Paged(rows=[row_of(row) for row in rows if getattr(row, key) is not None], total=total)


# Winners and losers


def winners_losers(session: TenantSession, query: WinnersLosersQuery) -> Paged[WinnerLoserRow]:
    """Keys of either period with their numbers in both, those whose metric rose (winners) or fell (losers)."""
    source = current_source()
    cur = query_page_rows(query.data, source=source, prefix="cur")
    previous = SearchData(query.data.property_id, query.data.search_type, query.previous)
    prev = query_page_rows(previous, source=source, prefix="prev")
    dimension, metric, direction, relative = query.dimension, query.metric, query.direction, query.relative
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
    params = cur.params | prev.params | {"min_previous": query.min_previous} | _paging(query)
    return _ranked_page(
        session,
        _page_of(ranked, order),
        params,
        "key",
        lambda row: WinnerLoserRow(
            key=row.key,
            clicks=row.clicks,
            previous_clicks=row.previous_clicks,
            impressions=row.impressions,
            previous_impressions=row.previous_impressions,
            position=row.position,
            previous_position=row.previous_position,
            change=row.change,
            change_relative=row.change_relative,
        ),
    )


# Content decay


def _decay_bind(spans: DecaySpans) -> dict[str, Any]:
    return {
        "start": spans.current.start,
        "end": spans.current.end,
        "scan_first": spans.first_peak_week - dt.timedelta(weeks=3),
        "scan_last_day": spans.last_peak_week + dt.timedelta(days=6),
        "first_peak_week": spans.first_peak_week,
        "last_peak_week": spans.last_peak_week,
        "first_peak_index": (_EPOCH - spans.first_peak_week).days,
        "first_current_week": spans.first_current_week,
        "head_end": spans.first_current_week - dt.timedelta(days=1),
        "tail_start": spans.last_peak_week + dt.timedelta(days=7),
        "epoch": _EPOCH,
        "key_scale": _KEY_SCALE,
        "key_offset": _KEY_OFFSET,
    }


# A page's weekly clicks and 28-day spans (clicks_4w: its week and the 3 before), from the first peak week's
# span on. From gsc_rows, the same: weekly sums, then the 4-week rolling sum over the page's weeks with rows.
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
# The current span's days outside its whole weeks.
_EDGES = """
    SELECT page, sum(clicks) AS clicks FROM {table}
    WHERE property_id = :property_id AND search_type = :search_type
      AND (date BETWEEN :start AND :head_end OR date BETWEEN :tail_start AND :end)
    GROUP BY page
"""
# Peak: the largest clicks_4w of the weeks whose span lies within the history and ends by the current end,
# the earliest such week on a tie: one bigint key per week, clicks * KEY_SCALE + the week as days *before* the
# epoch (shifted by KEY_OFFSET to be positive), so a plain max() finds both without building a value per row.
# Only weeks with a row for the page are read, and that finds the true maximum and its earliest week: a
# span ending on a week without a row has its last week empty, so its clicks are those of its weeks up to
# the page's previous week with a row, which that earlier week's span includes. If that previous week is
# before the first peak week, the span is included in the first peak week's span instead, which is
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


def content_decay(session: TenantSession, query: ContentDecayQuery) -> Paged[DecayRow]:
    """Pages whose current 28 days fell below ``threshold`` of their best 28 days, most clicks lost first."""
    raw = current_source() == "raw"
    ranked = _DECAY.format(
        weekly=_WEEKLY_RAW if raw else _WEEKLY_ROLLUP,
        edges=_EDGES.format(table="gsc_rows" if raw else "gsc_query_page_daily"),
    )
    params = _decay_bind(query.spans) | {
        "property_id": query.property_id,
        "search_type": query.search_type,
        "threshold": query.threshold,
        "min_peak_clicks": query.min_peak_clicks,
    }
    return _ranked_page(
        session,
        _page_of(ranked, 'clicks_lost DESC, page COLLATE "C"'),
        params | _paging(query),
        "page",
        lambda row: DecayRow(
            page=row.page,
            clicks=row.clicks,
            peak_clicks=row.peak_clicks,
            peak_start=row.peak_start,
            peak_end=row.peak_end,
            clicks_lost=row.clicks_lost,
        ),
    )


# Tracked keywords


def tracked_keywords(session: TenantSession, query: TrackedKeywordsQuery) -> Paged[TrackedKeyword]:
    """A page of the project's tracked keywords (with the tag, if any) by text then id."""
    tagged = " AND tags @> ARRAY[CAST(:tag AS text)]" if query.tag is not None else ""
    ranked = (
        "SELECT id, text, country, device, tags FROM keywords"
        f" WHERE tenant_id = :tenant_id AND project_id = :project_id{tagged}"
    )
    params = {"tenant_id": session.tenant_id, "project_id": query.project_id, "tag": query.tag} | _paging(query)
    return _ranked_page(
        session,
        _page_of(ranked, 'text COLLATE "C", id'),
        params,
        "id",
        lambda row: TrackedKeyword(
            id=row.id, text=row.text, country=row.country, device=row.device, tags=list(row.tags)
        ),
    )


def keyword_days(session: TenantSession, query: KeywordDaysQuery) -> list[KeywordDay]:
    """The measures of each tracked market (query, country, device) and day with data, over every page, in
    market then date order.

    From ``gsc_rows`` whatever the source: the rollups sum over countries and devices. The query list lets the
    primary key's (date, search type, query) prefix find the rows; the join keeps each query's own market.
    """
    if not query.markets:
        return []
    data = query.data
    queries, countries, devices = (list(column) for column in zip(*query.markets, strict=True))
    rows = session.execute(
        text(
            "SELECT r.query, r.country, r.device, r.date, CAST(sum(r.clicks) AS bigint) AS clicks,"
            " CAST(sum(r.impressions) AS bigint) AS impressions, sum(r.position * r.impressions) AS position_weighted"
            " FROM gsc_rows r"
            " JOIN unnest(CAST(:queries AS text[]), CAST(:countries AS text[]), CAST(:devices AS text[]))"
            " AS m(query, country, device) ON (r.query, r.country, r.device) = (m.query, m.country, m.device)"
            " WHERE r.property_id = :property_id AND r.search_type = :search_type"
            " AND r.query = ANY(:queries) AND r.date BETWEEN :start AND :end"
            " GROUP BY r.query, r.country, r.device, r.date"
            ' ORDER BY r.query COLLATE "C", r.country, r.device, r.date'
        ),
        {
            "property_id": data.property_id,
            "search_type": data.search_type,
            "queries": queries,
            "countries": countries,
            "devices": devices,
            "start": data.dates.start,
            "end": data.dates.end,
        },
    ).all()  # fetchall: a long range has thousands of rows
    return [KeywordDay(*row) for row in rows]
