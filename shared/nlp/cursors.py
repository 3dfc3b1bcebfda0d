"""Keyset cursors of the entity and topic lists: the last row's sort key, as opaque text."""

import json
import uuid
from typing import Any

from shared.errors import InvalidRequest
from shared.pagination import BAD_CURSOR, decode_key, encode_key


def encode(*key: Any) -> str:
    return encode_key(json.dumps([str(part) if isinstance(part, uuid.UUID) else part for part in key]))


def decode(cursor: str, *types: type) -> tuple[Any, ...]:
    """The key of a cursor this API handed out, each part converted to ``types``; else ``InvalidRequest``."""
    try:
        parts = json.loads(decode_key(cursor))
        if not isinstance(parts, list) or len(parts) != len(types):
            raise ValueError("wrong shape")
        return tuple(kind(part) for kind, part in zip(types, parts, strict=True))
    except (ValueError, TypeError) as exc:
        raise InvalidRequest(BAD_CURSOR) from exc
