"""API Gateway HTTP API (payload 2.0) events with JWT authorizer claims, for calling API handlers in-process.

The benchmarks' own copy of what tests/support/http_events.py builds (benchmarks do not import the tests).
"""

import base64
import time
import uuid
from typing import Any
from urllib.parse import urlencode


def jwt_claims(tenant_id: str, *, subject: str, permissions: tuple[str, ...]) -> dict[str, str]:
    """The claims as the JWT authorizer passes them on: every claim a string, arrays as ``"[a b]"``."""
    now = int(time.time())
    return {
        "sub": subject,
        "org_id": tenant_id,
        "permissions": f"[{' '.join(permissions)}]",
        "scope": " ".join(permissions),
        "iss": "https://kestrel.eu.auth0.com/",
        "aud": "https://api.kestrel.dev",
        "iat": str(now),
        "exp": str(now + 3600),
    }


def get_event(path: str, query: dict[str, str], claims: dict[str, str]) -> dict[str, Any]:
    """A GET request's event (the route key as API Gateway's catch-all integration names it)."""
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"GET {path}",
        "rawPath": path,
        "rawQueryString": urlencode(query),
        "headers": {"accept": "application/json", "host": "api.kestrel.bench", "user-agent": "bench"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "kestrelapi",
            "authorizer": {"jwt": {"claims": claims, "scopes": None}},
            "domainName": "api.kestrel.bench",
            "domainPrefix": "api",
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "bench",
            },
            "requestId": base64.b32encode(uuid.uuid4().bytes).decode()[:16],
            "routeKey": f"GET {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = query
    return event
