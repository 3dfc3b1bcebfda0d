"""Keyset pagination on (created_at, id): stable under inserts, cheap at any depth.

A cursor is the last row's key as opaque URL-safe text (``encode_key`` / ``decode_key``); lists
keyed otherwise (a job's days by date, a crawl's pages by URL) use the same pair.
"""

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


BAD_CURSOR = "The cursor is not one this API returned; start again without it."


def encode_key(key: str) -> str:
    """A list's last key as a cursor."""
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_key(cursor: str) -> str:
    """The key a cursor carries; ``InvalidRequest`` for text this API did not hand out."""
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError as exc:  # bad base64 and bad UTF-8 are both ValueErrors
        raise InvalidRequest(BAD_CURSOR) from exc


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    return encode_key(json.dumps([created_at.isoformat(), str(row_id)]))


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        created_at, row_id = json.loads(decode_key(cursor))
        return datetime.fromisoformat(created_at), uuid.UUID(row_id)
    except (ValueError, TypeError) as exc:
        raise InvalidRequest(BAD_CURSOR) from exc


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
