"""API Gateway HTTP API (payload 2.0) events with JWT authorizer claims, as API Gateway sends them."""

import base64
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

ALL_PERMISSIONS = ("read:projects", "write:projects")


def claims(tenant_id: str, *, subject: str = "auth0|user-1", permissions: tuple[str, ...] = ALL_PERMISSIONS) -> dict:
    # API Gateway hands every claim over as a string; arrays become "[a b]".
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


def http_event(
    method: str,
    path: str,
    *,
    route: str | None = None,
    body: Any = None,
    query: dict[str, str] | None = None,
    jwt_claims: dict | None = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    now = time.time()
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {route or path}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": {
            "content-type": "application/json",
            "host": "api.kestrel.test",
            "user-agent": "pytest",
            **{k.lower(): v for k, v in (headers or {}).items()},
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "kestrelapi",
            "domainName": "api.kestrel.test",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "pytest",
            },
            "requestId": base64.b32encode(uuid.uuid4().bytes).decode()[:16],
            "routeKey": f"{method} {route or path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = query
    if text is not None:
        event["body"] = text
    if jwt_claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": jwt_claims, "scopes": None}}
    return event
