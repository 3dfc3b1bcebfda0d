"""Handlers the gateway tests run: each returns, as its response, what the request body asks for."""

import base64
import json
from typing import Any


def respond(event: dict[str, Any], context: Any) -> Any:
    """Return ``body["response"]``: any JSON value, a 2.0 structured response included."""
    body = event.get("body") or "{}"
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return json.loads(body)["response"]
