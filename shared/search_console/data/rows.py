"""Loading Search Console rows: binary COPY into a staging table, an idempotent merge, the daily rollup.

One chunk is loaded in three steps, all inside the caller's tenant transaction
(so RLS applies and a failure anywhere leaves nothing behind):

1. ``stage``: the rows stream from the chunk into a temporary table with
   binary COPY, validated on the way (plain checks: this is the hot path).
   ``gsc_rows`` itself cannot be COPYed into: PostgreSQL refuses COPY FROM
   into a table with row-level security.
2. ``merge``: ``INSERT ... SELECT`` into ``gsc_rows``. Duplicate keys within
   a chunk collapse (the last line wins). Rows go in primary-key order, so
   parallel loaders touching the same rows wait for each other instead of
   deadlocking. When the chunk's (date, search type) groups hold nothing yet
   (a first load, as in a backfill) it is a plain insert; otherwise rows
   identical to what is stored are filtered out by an anti-join and the rest
   upserted, so re-loading the same data writes nothing at all (no new row
   version, not even a row lock). A plain insert that meets a row after all
   (a concurrent loader) is rolled back to a savepoint and redone as the
   upsert, so both ways end in the same rows.
3. ``refresh_rollup``: the daily rollup of the chunk's groups is recomputed
   from ``gsc_rows`` when the merge changed anything, under an advisory lock
   per group, so two loaders of the same day cannot each write a total that
   misses the other's rows.
"""

import datetime as dt
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import psycopg
from sqlalchemy import CursorResult, Result, text
from sqlalchemy.exc import IntegrityError

from shared.db import TenantSession, is_unique_violation
from shared.errors import PermanentError
from shared.search_console.models import SEARCH_TYPES

STAGING = "pg_temp.gsc_staging"
# Only the columns that vary within a chunk: tenant and property are the chunk's, added by the merge.
# ``line`` is the row's position in the chunk, so that of two rows with the same key the last one wins.
_CREATE_STAGING = f"""
DROP TABLE IF EXISTS {STAGING};
CREATE TEMP TABLE gsc_staging (
  line int4 NOT NULL,
  date date NOT NULL,
  search_type text NOT NULL,
  query text NOT NULL,
  page text NOT NULL,
  country text NOT NULL,
  device text NOT NULL,
  clicks int4 NOT NULL,
  impressions int4 NOT NULL,
  ctr float8 NOT NULL,
  position float8 NOT NULL
) ON COMMIT DROP
"""
_COPY_STAGING = (
    f"COPY {STAGING} (line, date, search_type, query, page, country, device, clicks, impressions, ctr, position)"
    " FROM STDIN (FORMAT BINARY)"
)
_STAGING_TYPES = ["int4", "date", "text", "text", "text", "text", "text", "int4", "int4", "float8", "float8"]

_KEY = "date, search_type, query, page, country, device"
# The order rows are merged in: the key with its most selective columns first. Any one total order keeps
# parallel loaders from deadlocking; this one sorts fast (PostgreSQL's abbreviated keys work on the first
# sort column, and the query tells rows apart where date and search type, the same in most chunks, do
# not), and within one date and search type it is the primary key's order, which the index likes.
_ORDER = "query, page, country, device, date, search_type"
_INCOMING = f"""
  SELECT DISTINCT ON ({_ORDER}) {_KEY}, clicks, impressions, ctr, position
  FROM {STAGING}
  ORDER BY {_ORDER}, line DESC
"""
_ANY_STORED = text(
    """
    SELECT EXISTS (
      SELECT FROM gsc_daily_rollup
      WHERE property_id = :property_id AND date = ANY(:dates) AND search_type = ANY(:search_types)
    )
    """
)
_INSERT = text(
    f"""
    INSERT INTO gsc_rows (tenant_id, property_id, {_KEY}, clicks, impressions, ctr, position)
    SELECT :tenant_id, :property_id, i.* FROM ({_INCOMING}) i
    ORDER BY {_ORDER}
    """
)
_UPSERT = text(
    f"""
    WITH stored AS (
      SELECT {_KEY}, clicks, impressions, ctr, position
      FROM gsc_rows
      WHERE property_id = :property_id AND date = ANY(:dates) AND search_type = ANY(:search_types)
    )
    INSERT INTO gsc_rows AS r (tenant_id, property_id, {_KEY}, clicks, impressions, ctr, position)
    SELECT :tenant_id, :property_id, i.*
    FROM ({_INCOMING}) i
    LEFT JOIN stored s USING ({_KEY})
    WHERE (s.clicks, s.impressions, s.ctr, s.position) IS DISTINCT FROM (i.clicks, i.impressions, i.ctr, i.position)
    ORDER BY {_ORDER}
    ON CONFLICT (property_id, {_KEY}) DO UPDATE
    SET clicks = EXCLUDED.clicks, impressions = EXCLUDED.impressions, ctr = EXCLUDED.ctr,
        position = EXCLUDED.position, loaded_at = now()
    WHERE (r.clicks, r.impressions, r.ctr, r.position)
          IS DISTINCT FROM (EXCLUDED.clicks, EXCLUDED.impressions, EXCLUDED.ctr, EXCLUDED.position)
    """
)
# The statistics of a partition being filled lag behind (a new property's rows are not in them yet), so
# the planner takes the stored rows for a handful and may join them by nested loop or on the date alone:
# quadratic in the chunk. A hash join is linear whatever the estimates. Transaction-local, reset after.
_HASH_JOIN_ONLY = text("SELECT set_config('enable_nestloop', 'off', true), set_config('enable_mergejoin', 'off', true)")
_ANY_JOIN = text(
    "SELECT set_config(name, reset_val, true) FROM pg_settings WHERE name IN ('enable_nestloop', 'enable_mergejoin')"
)

# Advisory locks are one namespace per database: the first key says "gsc rollup group".
ROLLUP_LOCK_CLASS = 0x6E57
_LOCK_GROUPS = text(
    """
    SELECT pg_advisory_xact_lock(:lock_class, k.key)
    FROM (
      SELECT DISTINCT hashtext(CAST(:property_id AS text) || d.date || t.search_type) AS key
      FROM unnest(CAST(:dates AS date[])) AS d(date), unnest(CAST(:search_types AS text[])) AS t(search_type)
    ) k
    ORDER BY k.key
    """
)
_REFRESH_ROLLUP = text(
    """
    INSERT INTO gsc_daily_rollup AS d
      (tenant_id, property_id, date, search_type, clicks, impressions, position_weighted, rows)
    SELECT :tenant_id, :property_id, date, search_type,
           sum(clicks), sum(impressions), sum(position * impressions), count(*)
    FROM gsc_rows
    WHERE property_id = :property_id AND date = ANY(:dates) AND search_type = ANY(:search_types)
    GROUP BY date, search_type
    ORDER BY date, search_type
    ON CONFLICT (property_id, date, search_type) DO UPDATE
    SET clicks = EXCLUDED.clicks, impressions = EXCLUDED.impressions,
        position_weighted = EXCLUDED.position_weighted, rows = EXCLUDED.rows, updated_at = now()
    WHERE (d.clicks, d.impressions, d.position_weighted, d.rows)
          IS DISTINCT FROM (EXCLUDED.clicks, EXCLUDED.impressions, EXCLUDED.position_weighted, EXCLUDED.rows)
    """
)

_SEARCH_TYPES = frozenset(SEARCH_TYPES)
_DEVICES = frozenset(("DESKTOP", "MOBILE", "TABLET"))
_COUNTRY = re.compile(r"[a-z]{3}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INT4_MAX = 2**31 - 1


class RowRejected(PermanentError):
    """A chunk row that cannot be loaded; the message names the chunk and the line."""


@dataclass(frozen=True)
class Staged:
    """What COPY put into the staging table: the row count, and the dates and search types it has."""

    rows: int
    dates: frozenset[dt.date]
    search_types: frozenset[str]


@dataclass(frozen=True)
class Merged:
    """How many rows the merge inserted or updated, and whether it took the plain-insert way."""

    rows_changed: int
    fresh: bool


class _Rows:
    """Validates and converts chunk rows into staging tuples; the caches keep repeated values cheap."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.dates: dict[Any, dt.date] = {}
        self.countries: set[Any] = set()
        self.search_types: set[Any] = set()

    def bad(self, line: int, reason: str) -> RowRejected:
        return RowRejected(f"{self.source}: line {line}: {reason}")

    def date(self, value: Any, line: int) -> dt.date:
        if isinstance(value, dt.datetime):
            raise self.bad(line, f"date: expected a date, got {value!r}")
        if isinstance(value, dt.date):
            day = value
        elif isinstance(value, str) and _DATE.fullmatch(value):
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                raise self.bad(line, f"date: {value!r} is not a calendar date") from None
        else:
            raise self.bad(line, f"date: expected YYYY-MM-DD, got {value!r}")
        self.dates[value] = day
        return day

    def search_type(self, value: Any, line: int) -> str:
        if value not in _SEARCH_TYPES:
            raise self.bad(line, f"search_type: expected one of {', '.join(SEARCH_TYPES)}, got {value!r}")
        self.search_types.add(value)
        return str(value)

    def country(self, value: Any, line: int) -> str:
        if not isinstance(value, str) or not _COUNTRY.fullmatch(value):
            raise self.bad(line, f"country: expected three lowercase letters (ISO 3166-1 alpha-3), got {value!r}")
        self.countries.add(value)
        return value

    def text(self, name: str, value: Any, line: int) -> str:
        if not isinstance(value, str):
            raise self.bad(line, f"{name}: expected a string, got {value!r}")
        if "\x00" in value:
            raise self.bad(line, f"{name}: contains a NUL character")
        return value

    def convert(self, row: Mapping[str, Any], line: int) -> tuple[Any, ...]:
        try:
            day = self.dates.get(row["date"]) or self.date(row["date"], line)
            search_type = row["search_type"]
            query = row["query"]
            page = row["page"]
            country = row["country"]
            device = row["device"]
            clicks = row["clicks"]
            impressions = row["impressions"]
            ctr = row["ctr"]
            position = row["position"]
        except KeyError as missing:
            raise self.bad(line, f"{missing.args[0]}: missing") from None
        except TypeError:
            raise self.bad(line, f"expected an object, got {type(row).__name__}") from None
        try:
            if search_type not in self.search_types:
                search_type = self.search_type(search_type, line)
            if type(query) is not str or "\x00" in query:
                query = self.text("query", query, line)
            if type(page) is not str or "\x00" in page:
                page = self.text("page", page, line)
            if country not in self.countries:
                country = self.country(country, line)
            if device not in _DEVICES:
                raise self.bad(line, f"device: expected DESKTOP, MOBILE or TABLET, got {device!r}")
        except TypeError:  # a list or an object where a string belongs cannot be looked up in a set
            for name in ("search_type", "country", "device"):
                if not isinstance(row[name], str):
                    raise self.bad(line, f"{name}: expected a string, got {row[name]!r}") from None
            raise
        if type(clicks) is not int or not 0 <= clicks <= _INT4_MAX:
            raise self.bad(line, f"clicks: expected a non-negative integer, got {clicks!r}")
        if type(impressions) is not int or not 0 <= impressions <= _INT4_MAX:
            raise self.bad(line, f"impressions: expected a non-negative integer, got {impressions!r}")
        # The chained comparisons also reject NaN and infinity.
        if type(ctr) not in (float, int) or not 0 <= ctr < math.inf:
            raise self.bad(line, f"ctr: expected a non-negative number, got {ctr!r}")
        if type(position) not in (float, int) or not 0 <= position < math.inf:
            raise self.bad(line, f"position: expected a non-negative number, got {position!r}")
        return (line, day, search_type, query, page, country, device, clicks, impressions, ctr, position)


def driver_connection(session: TenantSession) -> psycopg.Connection[Any]:
    """The session's own psycopg connection, inside the same transaction (and so the same RLS context)."""
    return cast(psycopg.Connection[Any], session.connection().connection.driver_connection)


def stage(session: TenantSession, rows: Iterable[Mapping[str, Any]], *, source: str) -> Staged:
    """COPY ``rows`` (dicts with ``gsc_chunks.ROW_FIELDS``) into the transaction's staging table as they stream.

    A row that does not validate raises ``RowRejected`` naming ``source`` and its line.
    """
    converter = _Rows(source)
    count = 0
    with driver_connection(session).cursor() as cursor:
        cursor.execute(_CREATE_STAGING)
        with cursor.copy(_COPY_STAGING) as copy:
            copy.set_types(_STAGING_TYPES)
            write_row = copy.write_row
            convert = converter.convert
            for count, row in enumerate(rows, 1):
                write_row(convert(row, count))
    return Staged(rows=count, dates=frozenset(converter.dates.values()), search_types=frozenset(converter.search_types))


def merge(session: TenantSession, property_id: uuid.UUID, staged: Staged) -> Merged:
    """Merge the staging table into ``gsc_rows``; only rows that are new or whose values differ are written."""
    if not staged.rows:
        return Merged(rows_changed=0, fresh=False)
    params = {
        "tenant_id": session.tenant_id,
        "property_id": property_id,
        "dates": sorted(staged.dates),
        "search_types": sorted(staged.search_types),
    }
    # Every group with rows has a rollup row (written in the same transaction): nothing stored, nothing to compare.
    if not session.execute(_ANY_STORED, params).scalar_one():
        try:
            with session.begin_nested():
                return Merged(rows_changed=_rowcount(session.execute(_INSERT, params)), fresh=True)
        except IntegrityError as exc:
            if not is_unique_violation(exc):
                raise
    session.execute(_HASH_JOIN_ONLY)
    changed = _rowcount(session.execute(_UPSERT, params))
    session.execute(_ANY_JOIN)
    return Merged(rows_changed=changed, fresh=False)


def _rowcount(result: Result[Any]) -> int:
    return cast(CursorResult[Any], result).rowcount


def refresh_rollup(session: TenantSession, property_id: uuid.UUID, staged: Staged) -> None:
    """Recompute the daily rollup of the staged (date, search type) groups of a property from ``gsc_rows``."""
    if not staged.rows:
        return
    params = {
        "tenant_id": session.tenant_id,
        "property_id": property_id,
        "dates": sorted(staged.dates),
        "search_types": sorted(staged.search_types),
    }
    # Serialise recomputations of a group: the next statement's snapshot then includes the rows of every
    # loader that held the lock before us (they have committed), and ours.
    session.execute(_LOCK_GROUPS, {**params, "lock_class": ROLLUP_LOCK_CLASS}).all()
    session.execute(_REFRESH_ROLLUP, params)
