"""A project's rank data as the API offers it: each keyword's latest check, a keyword's history, and the
keywords whose ranking URL swapped between two of the project's pages."""

import datetime as dt
import uuid
from collections import Counter

from shared.auth import Principal
from shared.dates import utc_today
from shared.errors import InvalidRequest, NotFound
from shared.models import Page
from shared.nlp import cursors
from shared.projects.data import projects
from shared.ranks.api_models import (
    KeywordRanksOut,
    Movement,
    RankOut,
    RankPointOut,
    UrlChangeOut,
    UrlChangesOut,
)
from shared.ranks.data import reads
from shared.ranks.data.reads import KeywordFilters, KeywordRow, RankRow
from shared.ranks.url_changes import RankedCheck, url_changes
from shared.reports.common import decode_offset, encode_offset
from shared.tenancy.scope import tenant_scope

HISTORY_DAYS = 90  # a keyword's history by default
CHANGES_DAYS = 28  # URL changes by default
MAX_RANGE_DAYS = 366


def normal_tag(tag: str | None) -> str | None:
    """As keywords store their tags: lowercase, single-spaced."""
    return " ".join(tag.lower().split()) if tag is not None else None


def date_range(
    start: dt.date | None, end: dt.date | None, *, default_days: int, max_days: int
) -> tuple[dt.date, dt.date]:
    """The days asked for: ``end`` defaults to today, ``start`` to ``default_days`` before it (both included)."""
    end = end or (max(utc_today(), start) if start else utc_today())
    if start is None:
        if end.toordinal() <= default_days:
            raise InvalidRequest("end_date is too early for a range ending on it.")
        start = end - dt.timedelta(days=default_days - 1)
    if start > end:
        raise InvalidRequest("start_date must not be after end_date.")
    if (end - start).days + 1 > max_days:
        raise InvalidRequest(f"The range spans more than {max_days} days; ask for a shorter one.")
    return start, end


def keyword_ref(keyword: KeywordRow) -> dict[str, object]:
    return {
        "keyword_id": keyword.id,
        "keyword": keyword.text,
        "locale": keyword.locale,
        "country": keyword.country,
        "device": keyword.device,
    }


def movement(position: int | None, previous: int | None, checked: bool, had_previous: bool) -> Movement:
    if not checked:
        return "unchecked"
    if not had_previous:
        return "new"
    if position is None:
        return "unranked" if previous is None else "dropped"
    if previous is None:
        return "entered"
    return "up" if position < previous else "down" if position > previous else "same"


def _rank(row: RankRow) -> RankOut:
    change = (
        row.previous_position - row.position if row.position is not None and row.previous_position is not None else None
    )
    return RankOut(
        **keyword_ref(row.keyword),
        tags=row.keyword.tags,
        active=row.keyword.active,
        check_date=row.check_date,
        position=row.position,
        url=row.url,
        previous_date=row.previous_date,
        previous_position=row.previous_position,
        change=change,
        movement=movement(
            row.position, row.previous_position, row.check_date is not None, row.previous_date is not None
        ),
        best_position=row.best_position,
        depth=row.depth,
        features_present=row.features_present,
        features_owned=row.features_owned,
    )


def list_ranks(
    principal: Principal,
    project_id: uuid.UUID,
    *,
    tag: str | None,
    device: str | None,
    limit: int,
    cursor: str | None,
) -> Page[RankOut]:
    """Every tracked keyword (by text) with its latest check, the change since the previous one, its best."""
    after = None if cursor is None else cursors.decode(cursor, str, uuid.UUID)
    with tenant_scope(principal) as session:
        projects.get(session, project_id)
        rows = reads.latest_ranks(
            session, project_id, KeywordFilters(normal_tag(tag), device), after=after, limit=limit + 1
        )
    more, rows = len(rows) > limit, rows[:limit]
    last = rows[-1].keyword if rows else None
    return Page[RankOut](
        items=[_rank(row) for row in rows],
        next_cursor=cursors.encode(last.text, last.id) if more and last else None,
    )


def keyword_ranks(
    principal: Principal,
    project_id: uuid.UUID,
    keyword_id: uuid.UUID,
    *,
    start_date: dt.date | None,
    end_date: dt.date | None,
) -> KeywordRanksOut:
    """The keyword's checks over the range (90 days to today by default), oldest first."""
    start, end = date_range(start_date, end_date, default_days=HISTORY_DAYS, max_days=MAX_RANGE_DAYS)
    with tenant_scope(principal) as session:
        projects.get(session, project_id)
        keyword = reads.keyword(session, project_id, keyword_id)
        if keyword is None:
            raise NotFound(f"Keyword {keyword_id} does not exist in project {project_id}.")
        points = reads.history(session, project_id, keyword_id, start, end)
    positions = [point.position for point in points if point.position is not None]
    return KeywordRanksOut(
        **keyword_ref(keyword),
        start_date=start,
        end_date=end,
        best_position=min(positions) if positions else None,
        items=[RankPointOut.model_validate(point._asdict()) for point in points],
    )


def list_url_changes(
    principal: Principal,
    project_id: uuid.UUID,
    *,
    start_date: dt.date | None,
    end_date: dt.date | None,
    tag: str | None,
    device: str | None,
    limit: int,
    cursor: str | None,
) -> UrlChangesOut:
    """The swaps of ranking URL in the range (28 days to today by default), latest first."""
    start, end = date_range(start_date, end_date, default_days=CHANGES_DAYS, max_days=MAX_RANGE_DAYS)
    offset = decode_offset(cursor)
    filters = KeywordFilters(normal_tag(tag), device)
    with tenant_scope(principal) as session:
        projects.get(session, project_id)
        ids = [keyword.id for keyword in reads.keywords(session, project_id, filters)] if filters.any else None
        found = url_changes(
            RankedCheck(row.keyword_id, row.check_date, row.position, row.url)
            for row in reads.checks(session, project_id, start, end, keyword_ids=ids)
        )
        per_keyword = Counter(change.keyword_id for change in found)
        found.sort(key=lambda change: (change.check_date, change.keyword_id), reverse=True)
        page = found[offset : offset + limit]
        refs = {
            keyword.id: keyword
            for keyword in reads.keywords(
                session, project_id, KeywordFilters(), ids=sorted({change.keyword_id for change in page})
            )
        }
    items = [
        UrlChangeOut(
            **keyword_ref(refs[change.keyword_id]),
            previous_date=change.previous_date,
            check_date=change.check_date,
            previous_url=change.previous_url,
            url=change.url,
            previous_position=change.previous_position,
            position=change.position,
            changes=per_keyword[change.keyword_id],
        )
        for change in page
    ]
    return UrlChangesOut(
        items=items,
        next_cursor=encode_offset(offset + limit) if offset + limit < len(found) else None,
        start_date=start,
        end_date=end,
    )
