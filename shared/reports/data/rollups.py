"""The report aggregates of a property, rebuilt from ``gsc_rows`` for the days its loads changed.

``gsc_rollup_pending`` is the outbox: gsc_ingest adds a load's days in its own
transaction (``mark_pending``), the rollup worker takes them (``take_pending``,
whole ISO weeks at a time) and rebuilds, in the same transaction, everything
derived from those days:

1. ``gsc_query_page_daily`` and ``gsc_dimension_daily`` of the days, from ``gsc_rows``;
2. ``gsc_query_page_weekly`` of the ISO weeks holding them, from the daily table;
3. ``gsc_page_weekly`` of those weeks, from the weekly table, and ``clicks_4w``
   of those weeks and of the three after each (their rolling four weeks include them).

Each step deletes what it rebuilds and inserts it again with one set-based
``INSERT ... SELECT ... GROUP BY`` in primary-key order. Every statement names
the property, so each touches one partition of each partitioned table.

``gsc_page_weekly`` is not partitioned and its key has the week last: its rows
of the rebuilt weeks are found by joining the property's rows to the weeks'
pages (from ``gsc_query_page_weekly``), by hash.
"""

import datetime as dt
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import text

from shared.db import SystemSession, TenantSession
from shared.reports.data.queries import DateRange, SearchData
from shared.reports.data.sources import query_page_rows

# Advisory locks are one namespace per database: the first key says "rollup of a property"
# (gsc_rows.ROLLUP_LOCK_CLASS = 0x6E57 is the daily rollup of one group, taken by loaders).
PROPERTY_LOCK_CLASS = 0x6E52
# clicks_4w sums a week's rolling 28 days: the week and the three before it.
ROLLING_WEEKS = 4

# ``ON CONFLICT DO UPDATE`` (not DO NOTHING) so that an existing pending day is row-locked until the load
# commits: a rollup taking the day meanwhile waits for the load and then sees its rows, instead of
# deleting the day and rebuilding without them. Days in date order, as ``take_pending`` locks them.
_MARK_PENDING = text(
    """
    INSERT INTO gsc_rollup_pending AS p (tenant_id, property_id, date)
    SELECT :tenant_id, :property_id, d.date FROM unnest(CAST(:dates AS date[])) AS d(date)
    ORDER BY d.date
    ON CONFLICT (property_id, date) DO UPDATE SET queued_at = p.queued_at
    """
)
_LOCK_PROPERTY = text("SELECT pg_advisory_xact_lock(:lock_class, hashtext(CAST(:property_id AS text)))")
# The property's row is share-locked so it cannot be deleted under the rebuild (whose foreign keys would fail).
_LOCK_PROPERTY_ROW = text("SELECT id FROM properties WHERE tenant_id = :tenant_id AND id = :property_id FOR KEY SHARE")
# The pending days of the first ``max_weeks`` ISO weeks from the earliest one: whole weeks, so that no week is
# rebuilt by two transactions. Locked in date order, as loads queue them.
_TAKE_PENDING = text(
    """
    DELETE FROM gsc_rollup_pending
    WHERE property_id = :property_id
      AND date IN (
        SELECT date FROM gsc_rollup_pending
        WHERE property_id = :property_id
          AND date < (
            SELECT CAST(date_trunc('week', CAST(min(date) AS timestamp)) AS date) + 7 * :max_weeks
            FROM gsc_rollup_pending WHERE property_id = :property_id
          )
        ORDER BY date
        FOR UPDATE
      )
    RETURNING date
    """
)
# Transaction-local: aggregations of a few hundred thousand rows sort or hash in memory, and no parallel
# workers (a few rollups run at once; a parallel scan of a whole partition was picked over its index).
_AGGREGATION_SETTINGS = text(
    "SELECT set_config('work_mem', '64MB', true), set_config('max_parallel_workers_per_gather', '0', true)"
)
# As in gsc_rows.merge: the statistics of tables being filled lag behind, and the planner, taking a property's
# page-weeks for a handful, joined them to the weeks' pages by nested loop: quadratic (minutes for a few
# months). Hash joins are linear whatever the estimates. Transaction-local, for the page-week statements.
_HASH_JOIN_ONLY = text("SELECT set_config('enable_nestloop', 'off', true), set_config('enable_mergejoin', 'off', true)")

_DELETE_QUERY_PAGE_DAILY = text(
    "DELETE FROM gsc_query_page_daily WHERE property_id = :property_id AND date = ANY(:dates)"
)
_INSERT_QUERY_PAGE_DAILY = text(
    """
    INSERT INTO gsc_query_page_daily
      (tenant_id, property_id, date, search_type, query, page, clicks, impressions, position_weighted)
    SELECT :tenant_id, :property_id, date, search_type, query, page,
           sum(clicks), sum(impressions), sum(position * impressions)
    FROM gsc_rows
    WHERE property_id = :property_id AND date = ANY(:dates)
    GROUP BY date, search_type, query, page
    ORDER BY date, search_type, query, page
    """
)
_DELETE_DIMENSION_DAILY = text(
    "DELETE FROM gsc_dimension_daily WHERE property_id = :property_id AND date = ANY(:dates)"
)
_INSERT_DIMENSION_DAILY = text(
    """
    INSERT INTO gsc_dimension_daily
      (tenant_id, property_id, date, search_type, country, device, clicks, impressions, position_weighted)
    SELECT :tenant_id, :property_id, date, search_type, country, device,
           sum(clicks), sum(impressions), sum(position * impressions)
    FROM gsc_rows
    WHERE property_id = :property_id AND date = ANY(:dates)
    GROUP BY date, search_type, country, device
    ORDER BY date, search_type, country, device
    """
)

# The pages of the weeks in the weekly table.
_WEEKS_PAGES = """
    SELECT DISTINCT search_type, page FROM gsc_query_page_weekly WHERE property_id = :property_id AND week = ANY(:weeks)
"""
# Before the weekly rows are rebuilt: their pages are those of the page-weeks to delete (``gsc_page_weekly``
# holds a page-week exactly when ``gsc_query_page_weekly`` does, both being written only here).
_DELETE_PAGE_WEEKLY = text(
    f"""
    DELETE FROM gsc_page_weekly w
    USING ({_WEEKS_PAGES}) o
    WHERE w.property_id = :property_id AND w.search_type = o.search_type AND w.page = o.page AND w.week = ANY(:weeks)
    RETURNING w.search_type, w.page
    """
)
_DELETE_QUERY_PAGE_WEEKLY = text(
    "DELETE FROM gsc_query_page_weekly WHERE property_id = :property_id AND week = ANY(:weeks)"
)
_INSERT_QUERY_PAGE_WEEKLY = text(
    """
    INSERT INTO gsc_query_page_weekly
      (tenant_id, property_id, week, search_type, query, page, clicks, impressions, position_weighted)
    SELECT :tenant_id, :property_id, CAST(date_trunc('week', CAST(date AS timestamp)) AS date) AS week,
           search_type, query, page, sum(clicks), sum(impressions), sum(position_weighted)
    FROM gsc_query_page_daily
    WHERE property_id = :property_id AND date = ANY(:days)
    GROUP BY week, search_type, query, page
    ORDER BY week, search_type, query, page
    """
)
# clicks_4w is set by _UPDATE_CLICKS_4W, which needs the week's own clicks in place first.
_INSERT_PAGE_WEEKLY = text(
    """
    INSERT INTO gsc_page_weekly
      (tenant_id, property_id, search_type, page, week, clicks, impressions, position_weighted, clicks_4w)
    SELECT :tenant_id, :property_id, search_type, page, week,
           sum(clicks), sum(impressions), sum(position_weighted), sum(clicks)
    FROM gsc_query_page_weekly
    WHERE property_id = :property_id AND week = ANY(:weeks)
    GROUP BY search_type, page, week
    ORDER BY search_type, page, week
    RETURNING search_type, page
    """
)
# For each page of the weeks (or gone from them: their rows vanished, which loads never do), the 28-day sum at
# each target week, over the weeks that can fall in those sums; rows whose sum is already right are not
# rewritten.
_UPDATE_CLICKS_4W = text(
    f"""
    WITH pages AS (
      {_WEEKS_PAGES}
      UNION
      SELECT * FROM unnest(CAST(:gone_search_types AS text[]), CAST(:gone_pages AS text[]))
    ), rolling AS (
      SELECT w.search_type, w.page, w.week,
             CAST(sum(w.clicks) OVER (
               PARTITION BY w.search_type, w.page ORDER BY w.week RANGE BETWEEN '21 days' PRECEDING AND CURRENT ROW
             ) AS bigint) AS clicks_4w
      FROM pages p
      JOIN gsc_page_weekly w ON w.property_id = :property_id AND w.search_type = p.search_type AND w.page = p.page
      WHERE w.week = ANY(:summed_weeks)
    )
    UPDATE gsc_page_weekly t
    SET clicks_4w = s.clicks_4w
    FROM rolling s
    WHERE t.property_id = :property_id AND t.search_type = s.search_type AND t.page = s.page AND t.week = s.week
      AND s.week = ANY(:targets) AND t.clicks_4w IS DISTINCT FROM s.clicks_4w
    """
)

_BACKLOG = text("SELECT tenant_id, property_id FROM kestrel_rollup_backlog()")


@dataclass(frozen=True)
class RollupTarget:
    tenant_id: str
    property_id: uuid.UUID


def mark_pending(session: TenantSession, property_id: uuid.UUID, dates: Collection[dt.date]) -> None:
    """Queue the days of a load for the rollup, in the load's transaction."""
    if dates:
        session.execute(
            _MARK_PENDING, {"tenant_id": session.tenant_id, "property_id": property_id, "dates": sorted(dates)}
        )


def lock_property(session: TenantSession, property_id: uuid.UUID) -> bool:
    """Serialise the rollups of a property and keep it from being deleted meanwhile; False if it does not exist."""
    session.execute(_LOCK_PROPERTY, {"lock_class": PROPERTY_LOCK_CLASS, "property_id": property_id})
    found = session.execute(_LOCK_PROPERTY_ROW, {"tenant_id": session.tenant_id, "property_id": property_id})
    return found.first() is not None


def take_pending(session: TenantSession, property_id: uuid.UUID, *, max_weeks: int) -> list[dt.date]:
    """Remove and return the property's pending days of its first ``max_weeks`` pending weeks, at most.

    They come back if the transaction rolls back.
    """
    return sorted(session.scalars(_TAKE_PENDING, {"property_id": property_id, "max_weeks": max_weeks}))


def rebuild_days(session: TenantSession, property_id: uuid.UUID, dates: Sequence[dt.date]) -> None:
    """Rebuild the daily query-page and dimension rows of ``dates`` from ``gsc_rows``."""
    params = {"tenant_id": session.tenant_id, "property_id": property_id, "dates": sorted(dates)}
    session.execute(_AGGREGATION_SETTINGS)
    session.execute(_DELETE_QUERY_PAGE_DAILY, params)
    session.execute(_INSERT_QUERY_PAGE_DAILY, params)
    session.execute(_DELETE_DIMENSION_DAILY, params)
    session.execute(_INSERT_DIMENSION_DAILY, params)


def rebuild_weeks(session: TenantSession, property_id: uuid.UUID, weeks: Collection[dt.date]) -> None:
    """Rebuild the weekly rows of ``weeks`` (Mondays) from the daily ones, then the clicks_4w they feed."""
    weeks = sorted(set(weeks))
    days = [week + dt.timedelta(days=n) for week in weeks for n in range(7)]
    targets = sorted({week + dt.timedelta(weeks=n) for week in weeks for n in range(ROLLING_WEEKS)})
    summed_weeks = sorted({week - dt.timedelta(weeks=n) for week in targets for n in range(ROLLING_WEEKS)})
    params = {"tenant_id": session.tenant_id, "property_id": property_id, "weeks": weeks, "days": days}
    session.execute(_AGGREGATION_SETTINGS)
    session.execute(_HASH_JOIN_ONLY)
    old_pages = {(row.search_type, row.page) for row in session.execute(_DELETE_PAGE_WEEKLY, params)}
    session.execute(_DELETE_QUERY_PAGE_WEEKLY, params)
    session.execute(_INSERT_QUERY_PAGE_WEEKLY, params)
    new_pages = {(row.search_type, row.page) for row in session.execute(_INSERT_PAGE_WEEKLY, params)}
    gone = sorted(old_pages - new_pages)
    session.execute(
        _UPDATE_CLICKS_4W,
        params
        | {
            "targets": targets,
            "summed_weeks": summed_weeks,
            "gone_search_types": [search_type for search_type, _ in gone],
            "gone_pages": [page for _, page in gone],
        },
    )


def backlog(session: SystemSession) -> list[RollupTarget]:
    """Every property of every tenant with pending days (identifiers only), in a stable order."""
    rows = session.execute(_BACKLOG).all()
    return [RollupTarget(tenant_id=row.tenant_id, property_id=row.property_id) for row in rows]


# Preset ranges (migration 0005): Search Console's "last 7 / 28 / 90 days" ending on the latest day with data,
# and the same number of days just before each (their "previous period" comparison).
PRESET_DAYS = (7, 28, 90)
_LATEST_DAYS = text(
    "SELECT search_type, max(date) AS latest FROM gsc_daily_rollup WHERE property_id = :property_id"
    " GROUP BY search_type ORDER BY search_type"
)
_BUILT_PRESETS = text(
    "SELECT search_type, window_start, window_end FROM gsc_rollup_windows WHERE property_id = :property_id"
)
_DROP_PRESETS = (
    text("DELETE FROM gsc_rollup_windows WHERE property_id = :property_id AND search_type = :search_type"),
    text("DELETE FROM gsc_query_page_window WHERE property_id = :property_id AND search_type = :search_type"),
)
_MARK_PRESET_BUILT = text(
    "INSERT INTO gsc_rollup_windows (tenant_id, property_id, search_type, window_start, window_end)"
    " VALUES (:tenant_id, :property_id, :search_type, :window_start, :window_end)"
)


def preset_ranges(latest: dt.date) -> list[DateRange]:
    """The preset ranges ending on ``latest``, and the ranges of as many days just before them."""
    ranges = []
    for days in PRESET_DAYS:
        end = latest
        for _ in range(2):
            ranges.append(DateRange(end - dt.timedelta(days=days - 1), end))
            end -= dt.timedelta(days=days)
    return ranges


def rebuild_preset_ranges(session: TenantSession, property_id: uuid.UUID, *, last_changed: dt.date) -> int:
    """Sum each preset range of each search type once per query and page; returns how many ranges were built.

    A search type's ranges are kept when they still end on its latest day and no day up to ``last_changed``
    (the latest day the rollup rebuilt) falls in them: a backfill of old days leaves them alone. Ranges to
    rebuild go first, so the sums read the weekly and daily aggregates (``query_page_rows`` only reads a
    range's own rows once it is marked built).
    """
    params = {"tenant_id": session.tenant_id, "property_id": property_id}
    built_ranges: dict[str, set[DateRange]] = {}
    for built_row in session.execute(_BUILT_PRESETS, params):
        built_ranges.setdefault(built_row.search_type, set()).add(
            DateRange(built_row.window_start, built_row.window_end)
        )
    built = 0
    for search_type, latest in session.execute(_LATEST_DAYS, params).all():
        presets = preset_ranges(latest)
        earliest = min(preset.start for preset in presets)
        if built_ranges.get(search_type) == set(presets) and last_changed < earliest:
            continue
        for statement in _DROP_PRESETS:
            session.execute(statement, params | {"search_type": search_type})
        for preset in presets:
            start, end = preset.start, preset.end
            source = query_page_rows(SearchData(property_id, search_type, preset), source="rollup")
            session.execute(
                text(
                    "INSERT INTO gsc_query_page_window (tenant_id, property_id, search_type, window_start,"
                    " window_end, query, page, clicks, impressions, position_weighted)"
                    " SELECT :tenant_id, :property_id, :search_type, :window_start, :window_end, query, page,"
                    " sum(clicks), sum(impressions), sum(position_weighted)"
                    f" FROM ({source.sql}) AS s GROUP BY query, page ORDER BY query, page"
                ),
                source.params | params | {"search_type": search_type, "window_start": start, "window_end": end},
            )
            session.execute(
                _MARK_PRESET_BUILT, params | {"search_type": search_type, "window_start": start, "window_end": end}
            )
            built += 1
    return built
