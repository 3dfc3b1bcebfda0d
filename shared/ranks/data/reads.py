"""SQL of the rank routes: keywords' latest checks, a keyword's history, checks and their organic results.

Snapshots and items are hash-partitioned by ``project_id``: every statement names the project, so PostgreSQL
reads one partition of each. A keyword's snapshots are found through the unique (project_id, keyword_id,
check_date) index. Keywords sort by text in code point order (``COLLATE "C"``), then id: the same order on
every database, and the keyset of the ranks list.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from shared.db import TenantSession
from shared.reports.data.sources import REPORT_WORK_MEM


@dataclass(frozen=True)
class KeywordFilters:
    tag: str | None = None  # normalised as keywords store tags
    device: str | None = None

    @property
    def any(self) -> bool:
        return self.tag is not None or self.device is not None


def _keyword_filters(filters: KeywordFilters, params: dict[str, Any]) -> str:
    where = ""
    if filters.tag is not None:
        where += " AND :tag = ANY(k.tags)"
        params["tag"] = filters.tag
    if filters.device is not None:
        where += " AND k.device = :device"
        params["device"] = filters.device
    return where


class KeywordRow(NamedTuple):
    id: uuid.UUID
    text: str
    locale: str
    country: str
    device: str
    tags: list[str]
    active: bool


_KEYWORD_COLUMNS = "k.id, k.text, k.locale, k.country, k.device, k.tags, k.active"


def _keyword(row: Any) -> KeywordRow:
    return KeywordRow(row.id, row.text, row.locale, row.country, row.device, list(row.tags), row.active)


# ---------------------------------------------------------------- the ranks list


class RankRow(NamedTuple):
    keyword: KeywordRow
    check_date: dt.date | None
    position: int | None
    url: str | None
    depth: int | None
    features_present: list[str]
    features_owned: list[str]
    previous_date: dt.date | None
    previous_position: int | None
    best_position: int | None


_LATEST_RANKS = """
SELECT {keyword_columns},
       l.check_date, l.position, l.url, l.depth, l.features_present, l.features_owned,
       p.check_date AS previous_date, p.position AS previous_position,
       (SELECT min(b.position) FROM serp_snapshots b WHERE b.project_id = :project_id AND b.keyword_id = k.id)
         AS best_position
FROM keywords k
LEFT JOIN LATERAL (
    SELECT s.check_date, s.position, s.url, s.depth, s.features_present, s.features_owned FROM serp_snapshots s
    WHERE s.project_id = :project_id AND s.keyword_id = k.id ORDER BY s.check_date DESC LIMIT 1
) l ON true
LEFT JOIN LATERAL (
    SELECT s.check_date, s.position FROM serp_snapshots s
    WHERE s.project_id = :project_id AND s.keyword_id = k.id AND s.check_date < l.check_date
    ORDER BY s.check_date DESC LIMIT 1
) p ON true
WHERE k.project_id = :project_id{filters}
ORDER BY k.text COLLATE "C", k.id
LIMIT :limit
"""


def latest_ranks(
    session: TenantSession,
    project_id: uuid.UUID,
    filters: KeywordFilters,
    *,
    after: tuple[str, uuid.UUID] | None,
    limit: int,
) -> list[RankRow]:
    """``limit`` keywords after the key ``after`` (text, id), each with its latest and previous check."""
    params: dict[str, Any] = {"project_id": project_id, "limit": limit}
    where = _keyword_filters(filters, params)
    if after is not None:
        where += ' AND (k.text COLLATE "C", k.id) > (:after_text COLLATE "C", :after_id)'
        params |= {"after_text": after[0], "after_id": after[1]}
    statement = text(_LATEST_RANKS.format(keyword_columns=_KEYWORD_COLUMNS, filters=where))
    return [
        RankRow(
            keyword=_keyword(row),
            check_date=row.check_date,
            position=row.position,
            url=row.url,
            depth=row.depth,
            features_present=list(row.features_present or []),
            features_owned=list(row.features_owned or []),
            previous_date=row.previous_date,
            previous_position=row.previous_position,
            best_position=row.best_position,
        )
        for row in session.execute(statement, params)
    ]


# ---------------------------------------------------------------- keywords


def keyword(session: TenantSession, project_id: uuid.UUID, keyword_id: uuid.UUID) -> KeywordRow | None:
    row = session.execute(
        text(f"SELECT {_KEYWORD_COLUMNS} FROM keywords k WHERE k.project_id = :project_id AND k.id = :keyword_id"),
        {"project_id": project_id, "keyword_id": keyword_id},
    ).one_or_none()
    return None if row is None else _keyword(row)


def keywords(
    session: TenantSession,
    project_id: uuid.UUID,
    filters: KeywordFilters,
    *,
    ids: list[uuid.UUID] | None = None,
    after: tuple[str, uuid.UUID] | None = None,
    limit: int | None = None,
) -> list[KeywordRow]:
    """The project's keywords in (text, id) order: all, those of ``ids``, or ``limit`` after ``after``."""
    params: dict[str, Any] = {"project_id": project_id}
    where = _keyword_filters(filters, params)
    if ids is not None:
        where += " AND k.id = ANY(:ids)"
        params["ids"] = ids
    if after is not None:
        where += ' AND (k.text COLLATE "C", k.id) > (:after_text COLLATE "C", :after_id)'
        params |= {"after_text": after[0], "after_id": after[1]}
    sql = (
        f"SELECT {_KEYWORD_COLUMNS} FROM keywords k WHERE k.project_id = :project_id{where}"
        ' ORDER BY k.text COLLATE "C", k.id'
    )
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    statement = text(sql)
    if ids is not None:
        statement = statement.bindparams(bindparam("ids", type_=ARRAY(UUID(as_uuid=True))))
    return [_keyword(row) for row in session.execute(statement, params)]


# ---------------------------------------------------------------- a keyword's checks


class PointRow(NamedTuple):
    check_date: dt.date
    position: int | None
    rank_absolute: int | None
    url: str | None
    depth: int
    se_results_count: int | None
    features_present: list[str]
    features_owned: list[str]


_HISTORY = text(
    "SELECT check_date, position, rank_absolute, url, depth, se_results_count, features_present, features_owned"
    " FROM serp_snapshots WHERE project_id = :project_id AND keyword_id = :keyword_id"
    " AND check_date BETWEEN :start AND :end ORDER BY check_date"
)


def history(
    session: TenantSession, project_id: uuid.UUID, keyword_id: uuid.UUID, start: dt.date, end: dt.date
) -> list[PointRow]:
    rows = session.execute(_HISTORY, {"project_id": project_id, "keyword_id": keyword_id, "start": start, "end": end})
    return [
        PointRow(
            row.check_date,
            row.position,
            row.rank_absolute,
            row.url,
            row.depth,
            row.se_results_count,
            list(row.features_present or []),
            list(row.features_owned or []),
        )
        for row in rows
    ]


class CheckRow(NamedTuple):
    keyword_id: uuid.UUID
    check_date: dt.date
    position: int | None
    url: str | None
    depth: int


# The keywords a statement covers come as ids (all the project's: no condition), never as a join with
# ``keywords``: with a freshly filled partition's statistics, the planner estimated a join of one row and
# rescanned the partition per keyword (27 s for 1,000 keywords x 28 days, 0.4 s once analysed).
_KEYWORD_IDS = bindparam("keyword_ids", type_=ARRAY(UUID(as_uuid=True)))


def _keyword_ids(keyword_ids: list[uuid.UUID] | None, params: dict[str, Any], column: str) -> str:
    if keyword_ids is None:
        return ""
    params["keyword_ids"] = keyword_ids
    return f" AND {column} = ANY(:keyword_ids)"


_CHECKS = """
SELECT s.keyword_id, s.check_date, s.position, s.url, s.depth FROM serp_snapshots s
WHERE s.project_id = :project_id AND s.check_date BETWEEN :start AND :end{keywords}
ORDER BY s.keyword_id, s.check_date
"""


def checks(
    session: TenantSession,
    project_id: uuid.UUID,
    start: dt.date,
    end: dt.date,
    *,
    keyword_ids: list[uuid.UUID] | None,
) -> list[CheckRow]:
    """The checks of the range (of every keyword, or those of ``keyword_ids``) in (keyword, check date) order."""
    params: dict[str, Any] = {"project_id": project_id, "start": start, "end": end}
    statement = text(_CHECKS.format(keywords=_keyword_ids(keyword_ids, params, "s.keyword_id")))
    if keyword_ids is not None:
        statement = statement.bindparams(_KEYWORD_IDS)
    return [
        CheckRow(row.keyword_id, row.check_date, row.position, row.url, row.depth)
        for row in session.execute(statement, params)
    ]


# ---------------------------------------------------------------- organic results, for share of voice


class OrganicRow(NamedTuple):
    """A check, and every other host's best organic rank_group on it (hosts lowercase, without ``www.``)."""

    keyword_id: uuid.UUID
    check_date: dt.date
    position: int | None
    domains: list[str]
    ranks: list[int]


_RANGE_CHECKS = """
SELECT s.id, s.keyword_id, s.check_date, s.position FROM serp_snapshots s
WHERE s.project_id = :project_id AND s.check_date BETWEEN :start AND :end{keywords}
"""
# Each keyword's latest check through the (project_id, keyword_id, check_date) index: one probe a keyword.
_LATEST_CHECKS = """
SELECT l.id, k.id AS keyword_id, l.check_date, l.position FROM keywords k
CROSS JOIN LATERAL (
    SELECT s.id, s.check_date, s.position FROM serp_snapshots s
    WHERE s.project_id = :project_id AND s.keyword_id = k.id ORDER BY s.check_date DESC LIMIT 1
) l
WHERE k.project_id = :project_id{keywords}
"""
# One row a check, its hosts' best positions as two arrays: a tenth of the rows of one per host, which were
# most of the time of a visibility over 1,000 keywords x 28 days (250,000 rows fetched: 4 s; 28,000: 0.5 s).
_ORGANIC = """
WITH checked AS MATERIALIZED ({checks}),
best AS (
    SELECT c.id, regexp_replace(lower(i.domain), '^www\\.', '') AS domain, min(i.rank_group) AS rank_group
    FROM checked c
    JOIN serp_items i
      ON i.project_id = :project_id AND i.snapshot_id = c.id AND i.type = 'organic' AND i.domain IS NOT NULL
         AND i.rank_group IS NOT NULL
    GROUP BY c.id, 2
)
SELECT c.keyword_id, c.check_date, c.position,
       coalesce(array_agg(b.domain) FILTER (WHERE b.domain IS NOT NULL), '{{}}') AS domains,
       coalesce(array_agg(b.rank_group) FILTER (WHERE b.domain IS NOT NULL), '{{}}') AS ranks
FROM checked c LEFT JOIN best b ON b.id = c.id
GROUP BY c.id, c.keyword_id, c.check_date, c.position
"""


_WORK_MEM = text("SELECT set_config('work_mem', :work_mem, true)")


def organic_results(
    session: TenantSession,
    project_id: uuid.UUID,
    *,
    keyword_ids: list[uuid.UUID] | None,
    dates: tuple[dt.date, dt.date] | None,
) -> list[OrganicRow]:
    """The checks of ``dates`` (None: each keyword's latest) with each host's best organic position on them."""
    # The hosts of a month of 1,000 keywords' checks are grouped in memory (the reports' transaction-local
    # work_mem), not spilled to disk.
    session.execute(_WORK_MEM, {"work_mem": REPORT_WORK_MEM})
    params: dict[str, Any] = {"project_id": project_id}
    if dates is None:
        checks_sql = _LATEST_CHECKS.format(keywords=_keyword_ids(keyword_ids, params, "k.id"))
    else:
        params |= {"start": dates[0], "end": dates[1]}
        checks_sql = _RANGE_CHECKS.format(keywords=_keyword_ids(keyword_ids, params, "s.keyword_id"))
    statement = text(_ORGANIC.format(checks=checks_sql))
    if keyword_ids is not None:
        statement = statement.bindparams(_KEYWORD_IDS)
    return [
        OrganicRow(row.keyword_id, row.check_date, row.position, list(row.domains), list(row.ranks))
        for row in session.execute(statement, params)
    ]
