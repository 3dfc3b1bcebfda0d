"""The whole HTTP API behind the local gateway, its functions' real handlers called in this process.

Routes and scopes come from the handlers' apps (which tests/packaging proves equal to
serverless.yml's); tokens from a local identity issuer, verified by the gateway as
API Gateway's JWT authorizer does. Faster than ``kestrel up``, and the same HTTP.
"""

import importlib
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kestrel_local.gateway import Gateway
from kestrel_local.identity import LocalIdentity
from kestrel_local.lambda_context import LocalLambdaContext
from kestrel_local.model import InvocationResult, JwtAuthorizerSpec, RouteSpec
from shared.runtime import openapi

AUDIENCE = "https://api.kestrel.test"


class InProcessInvoker:
    """Calls each function's handler in this process (one request at a time, as a warm Lambda would)."""

    def __init__(self, functions: list[str]) -> None:
        self.handlers = {name: importlib.import_module(f"functions.{name}.handler").handler for name in functions}

    def invoke(self, function: str, event: dict[str, Any]) -> InvocationResult:
        request_id = str(uuid.uuid4())
        started = time.time()
        context = LocalLambdaContext(function_name=function, timeout_seconds=29)
        try:
            response = self.handlers[function](event, context)
        except Exception as exc:
            return InvocationResult(function, request_id, False, None, type(exc).__name__, str(exc), started_at=started)
        return InvocationResult(function, request_id, True, response, started_at=started)


def api_routes(authorizer: JwtAuthorizerSpec) -> list[RouteSpec]:
    routes = []
    for function, app in openapi.http_apps().items():
        for (method, path), scope in openapi.route_scopes(app).items():
            routes.append(RouteSpec(method, path, function, authorizer if scope else None, (scope,) if scope else ()))
    return routes


@dataclass
class RunningApi:
    url: str
    identity: LocalIdentity
    gateway: Gateway


@contextmanager
def running_api(key_dir: Path) -> Iterator[RunningApi]:
    with LocalIdentity(key_dir, audience=AUDIENCE) as identity:
        authorizer = JwtAuthorizerSpec(name="auth0", issuer=identity.issuer, audience=(AUDIENCE,))
        invoker = InProcessInvoker(openapi.http_function_names())
        with Gateway(api_routes(authorizer), invoker) as gateway:
            yield RunningApi(url=gateway.url, identity=identity, gateway=gateway)
