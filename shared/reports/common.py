"""What every report does around its own query: scope, date range, coverage, pages of rows."""

import base64
import binascii
import datetime as dt
import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from shared.auth import Principal
from shared.dates import utc_today
from shared.db import TenantSession
from shared.errors import InvalidRequest
from shared.projects.data import projects
from shared.projects.tables import Project, Property
from shared.reports.data import sources
from shared.reports.data.queries import DateRange, Paging, SearchData
from shared.reports.models.base import DEFAULT_LIMIT, DEFAULT_RANGE_DAYS, Coverage, ReportParams
from shared.search_console.models import FRESH_DAYS, SearchType
from shared.tenancy.scope import tenant_scope


@dataclass
class ReportScope:
    """A report's transaction, with the property it reads and the project it belongs to."""

    session: TenantSession
    project: Project
    property: Property
    property_id: uuid.UUID

    def data(self, search_type: SearchType, dates: DateRange) -> SearchData:
        """The property's data of a search type over a range: what report queries read."""
        return SearchData(self.property_id, search_type, dates)


@contextmanager
def report_scope(principal: Principal, project_id: uuid.UUID, property_id: uuid.UUID) -> Iterator[ReportScope]:
    """The caller's tenant transaction, with the property (404 when not theirs or not in the project)."""
    with tenant_scope(principal) as session:
        prop = projects.get_property(session, project_id, property_id)
        project = projects.get(session, project_id)
        sources.tune_report_transaction(session)
        yield ReportScope(session=session, project=project, property=prop, property_id=prop.id)


def resolve_range(scope: ReportScope, params: ReportParams) -> DateRange:
    """The range asked for, with defaults: it ends on the latest day with data and spans 28 days."""
    end = params.end_date
    if end is None:
        latest = sources.latest_date(scope.session, scope.property_id, params.search_type)
        end = latest or utc_today() - dt.timedelta(days=1)
        if params.start_date and params.start_date > end:
            end = params.start_date
    start = params.start_date or end - dt.timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if start > end:
        raise InvalidRequest("start_date must not be after end_date.")
    return DateRange(start, end)


def coverage(scope: ReportScope, data: SearchData) -> Coverage:
    start, end = data.dates.start, data.dates.end
    first, last = sources.data_span(scope.session, data)
    fresh_from = utc_today() - dt.timedelta(days=FRESH_DAYS)
    provisional_from = max(start, fresh_from) if end >= fresh_from else None
    return Coverage(
        start=start,
        end=end,
        first_date=first,
        last_date=last,
        provisional_from=provisional_from,
        provisional=bool(provisional_from and last and last >= provisional_from),
        rollup_pending_days=sources.pending_rollup_days(scope.session, data),
    )


# Pages of a report's rows: the cursor is the offset of the next row (reports are recomputed per request).


def encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


def decode_offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["offset"]
    except (ValueError, TypeError, KeyError, binascii.Error) as exc:
        raise InvalidRequest("The cursor is not one this API returned; start again without it.") from exc
    if not isinstance(offset, int) or offset < 0:
        raise InvalidRequest("The cursor is not one this API returned; start again without it.")
    return offset


def paging_of(params: ReportParams) -> Paging:
    """The rows of the page asked for: from the cursor's offset, ``limit`` of them."""
    return Paging(offset=decode_offset(params.cursor), limit=params.limit or DEFAULT_LIMIT)


def next_cursor(paging: Paging, total: int) -> str | None:
    """The cursor of the page after ``paging``, or None when it is the last."""
    return encode_offset(paging.offset + paging.limit) if paging.offset + paging.limit < total else None


def page_of[T](items: Sequence[T], paging: Paging) -> list[T]:
    """The page of items computed whole (in Python, not in SQL)."""
    return list(items[paging.offset : paging.offset + paging.limit])


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None where the denominator is zero (CTR, position without impressions)."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def measures(clicks: int, impressions: int, position_weighted: float) -> dict[str, Any]:
    """The fields ``clicks``, ``impressions``, ``ctr`` and ``position`` of an item, from summed measures."""
    return {
        "clicks": clicks,
        "impressions": impressions,
        "ctr": ratio(clicks, impressions),
        "position": ratio(position_weighted, impressions),
    }
