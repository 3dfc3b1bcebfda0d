"""Calling an API function's real Lambda handler with HTTP API v2 events."""

import json
from dataclasses import dataclass
from typing import Any

from kestrel_local.lambda_context import LocalLambdaContext
from tests.support.http_events import ALL_PERMISSIONS, claims, http_event


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    raw: str

    @property
    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None


class ApiClient:
    def __init__(self, handler: Any, function_name: str, tenant_id: str, *, subject: str = "auth0|user-1") -> None:
        self.handler = handler
        self.function_name = function_name
        self.tenant_id = tenant_id
        self.subject = subject

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: dict[str, str] | None = None,
        permissions: tuple[str, ...] = ALL_PERMISSIONS,
        tenant_id: str | None = None,
        authenticated: bool = True,
        raw_body: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        jwt = (
            claims(tenant_id or self.tenant_id, subject=self.subject, permissions=permissions)
            if authenticated
            else None
        )
        event = http_event(method, path, body=body, query=query, jwt_claims=jwt, raw_body=raw_body, headers=headers)
        response = self.handler(event, LocalLambdaContext(function_name=self.function_name, timeout_seconds=29))
        return Reply(status=response["statusCode"], headers=response.get("headers", {}), raw=response.get("body", ""))

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.call("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.call("PATCH", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return self.call("DELETE", path, **kwargs)
