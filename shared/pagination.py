"""Keyset pagination on (created_at, id): stable under inserts, cheap at any depth."""

import base64
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, tuple_

from shared.db import TenantSession
from shared.errors import InvalidRequest

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, row_id = json.loads(raw)
        return datetime.fromisoformat(created_at), uuid.UUID(row_id)
    except (ValueError, TypeError) as exc:
        raise InvalidRequest("The cursor is not one this API returned; start again without it.") from exc


def keyset_page[M](
    session: TenantSession, stmt: Select[M], model: Any, *, limit: int, cursor: str | None
) -> tuple[list[M], str | None]:
    if cursor:
        created_at, row_id = decode_cursor(cursor)
        stmt = stmt.where(tuple_(model.created_at, model.id) > tuple_(created_at, row_id))
    rows = list(session.scalars(stmt.order_by(model.created_at, model.id).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    last: Any = rows[limit - 1]
    return rows[:limit], encode_cursor(last.created_at, last.id)
