"""Reading a sync or backfill job's days, a page at a time, in date order."""

import datetime as dt
import uuid

from sqlalchemy import select

from shared.db import TenantSession
from shared.errors import InvalidRequest
from shared.pagination import BAD_CURSOR, decode_key, encode_key
from shared.search_console.tables import GscJobDay


def encode_cursor(day: dt.date) -> str:
    return encode_key(day.isoformat())


def decode_cursor(cursor: str) -> dt.date:
    try:
        return dt.date.fromisoformat(decode_key(cursor))
    except ValueError as exc:
        raise InvalidRequest(BAD_CURSOR) from exc


def list_page(
    session: TenantSession, job_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[GscJobDay], str | None]:
    """Days are unique per job, so the date alone is a stable keyset."""
    stmt = select(GscJobDay).where(GscJobDay.tenant_id == session.tenant_id, GscJobDay.job_id == job_id)
    if cursor:
        stmt = stmt.where(GscJobDay.date > decode_cursor(cursor))
    rows = list(session.scalars(stmt.order_by(GscJobDay.date).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], encode_cursor(rows[limit - 1].date)
