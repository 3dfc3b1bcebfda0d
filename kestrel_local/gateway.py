"""The local API Gateway HTTP API: routes, JWT authorizers, payload format 2.0, CORS.

``Gateway`` serves the stack's ``RouteSpec``s over HTTP (stdlib server, daemon
thread) and invokes the functions through an ``Invoker`` (the local Lambda
service), behaving as an HTTP API with a ``$default`` stage does:

- **Routing**: exact method or ``ANY``; path templates with ``{param}`` and a
  trailing greedy ``{proxy+}``; the most specific route wins (per segment,
  literal over ``{param}`` over ``{proxy+}``, then an exact method over
  ``ANY``); no route, or a method no route declares (``TRACE`` too), is
  ``404 {"message":"Not Found"}``.
- **Authorization**: routes with a JWT authorizer are verified before the
  function runs (``JwtVerifier``): ``401 {"message":"Unauthorized"}`` with a
  ``www-authenticate`` challenge, ``403 {"message":"Forbidden"}`` for a
  missing scope.
- **Event**: payload format 2.0 as API Gateway builds it (``build_event``),
  claims stringified as API Gateway hands them over (``stringify_claim``).
- **Response**: both 2.0 formats (``map_response``): a ``statusCode`` object,
  or any other JSON value inferred as a 200 ``application/json`` body. A
  function error is 500, a throttle 429, a malformed response 502, an
  integration running past 30 s 503.
- **CORS** (``CorsConfig``): preflights are answered by the gateway itself,
  and the configured headers are added to (and the function's own CORS headers
  dropped from) responses to allowed origins.
"""

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from kestrel_local.gateway_payload import (
    HttpResponse,
    build_event,
    error_response,
    map_response,
    new_request_id,
)
from kestrel_local.gateway_routes import CorsConfig, Router, RouteStats
from kestrel_local.http_server import BackgroundHttpServer
from kestrel_local.jwt_verifier import AuthorizationError, JwtVerifier
from kestrel_local.model import InvocationResult, Invoker, JwtAuthorizerSpec, RouteSpec

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # HTTP API payload limit
INTEGRATION_TIMEOUT_SECONDS = 30.0  # HTTP API maximum integration timeout
UNMATCHED = "$unmatched"  # stats key for requests no route matched
PREFLIGHT = "$preflight"  # stats key for CORS preflights the gateway answered

# Request headers API Gateway sets itself (x-forwarded-for is extended with the client's address).
_FORWARDED = frozenset({"x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"})


# -- the server -----------------------------------------------------------------------------------


class Gateway(BackgroundHttpServer):
    """The local HTTP API. ``start()`` serves in a daemon thread; ``port=0`` picks a free port."""

    def __init__(
        self,
        routes: Sequence[RouteSpec],
        invoker: Invoker,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        cors: CorsConfig | None = None,
        api_id: str = "kestrelapi",
        integration_timeout_seconds: float = INTEGRATION_TIMEOUT_SECONDS,
        verifier_factory: Callable[[JwtAuthorizerSpec], JwtVerifier] = JwtVerifier,
        access_log: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.routes = tuple(routes)
        self.router = Router(self.routes)
        self.invoker = invoker
        self.cors = cors
        self.api_id = api_id
        self.integration_timeout_seconds = integration_timeout_seconds
        self.access_log = access_log
        self.verifiers: dict[JwtAuthorizerSpec, JwtVerifier] = {}
        for route in self.routes:
            if route.authorizer is not None and route.authorizer not in self.verifiers:
                self.verifiers[route.authorizer] = verifier_factory(route.authorizer)
        self.stats: dict[str, RouteStats] = {route.route_key: RouteStats() for route in self.routes}
        self.stats[UNMATCHED] = RouteStats()
        if cors is not None:
            self.stats[PREFLIGHT] = RouteStats()
        self._stats_lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                gateway._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve  # noqa: N815

            def __getattr__(self, name: str) -> Any:
                # Any other method (TRACE, CONNECT, PROPFIND, ...) is routed too, and so answers
                # 404 {"message":"Not Found"} as API Gateway does, not the stdlib's HTML 501.
                if name.startswith("do_"):
                    return self._serve
                raise AttributeError(name)

            def log_message(self, format: str, *args: Any) -> None:
                return

        super().__init__(host, port, Handler, name="gateway")

    # -- one request ------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        started = time.monotonic()
        epoch = time.time()
        req_id = new_request_id()
        method = request.command.upper()
        target = urlsplit(request.path) if request.path.startswith(("http://", "https://")) else None
        raw_path, _, raw_query = (target.path + "?" + target.query if target else request.path).partition("?")
        raw_path = raw_path.split("#", 1)[0] or "/"
        origin = request.headers.get("Origin")
        route: RouteSpec | None = None
        claims: dict[str, Any] | None = None
        error: str | None = None
        stats_key = UNMATCHED

        try:
            body, response = self._read_body(request)
        except ValueError:
            request.close_connection = True
            body, response = b"", error_response(400, "Bad Request")
        if response is None and self.cors and method == "OPTIONS" and origin:
            requested = request.headers.get("Access-Control-Request-Method")
            if requested:
                preflight = self.cors.preflight_headers(
                    origin, requested, request.headers.get("Access-Control-Request-Headers", "")
                )
                response = HttpResponse(204, preflight)
                stats_key = PREFLIGHT
        try:
            if response is None:
                response, route, claims, error = self._route(request, method, raw_path, raw_query, body, req_id, epoch)
                stats_key = route.route_key if route else UNMATCHED
        except Exception:
            log.exception("the gateway failed on %s %s", method, raw_path)
            response, error = error_response(500, "Internal Server Error"), "gateway error"
        if self.cors and stats_key != PREFLIGHT:
            response.headers = [h for h in response.headers if not h[0].startswith("access-control-")]
            response.headers.extend(self.cors.response_headers(origin))
        self._record(stats_key, response.status)  # before the client can see the response
        self._write(request, method, response, req_id)
        if self.access_log is not None:
            self.access_log(
                {
                    "requestId": req_id,
                    "routeKey": route.route_key if route else "-",
                    "method": method,
                    "path": raw_path,
                    "status": response.status,
                    "latency": round((time.monotonic() - started) * 1000),
                    "ip": request.client_address[0],
                    "userAgent": request.headers.get("User-Agent", ""),
                    "sub": (claims or {}).get("sub", "-"),
                    "error": error or "-",
                }
            )

    def _route(
        self,
        request: BaseHTTPRequestHandler,
        method: str,
        raw_path: str,
        raw_query: str,
        body: bytes,
        req_id: str,
        epoch: float,
    ) -> tuple[HttpResponse, RouteSpec | None, dict[str, Any] | None, str | None]:
        """Route, authorize and integrate one request: (response, route, claims, error)."""
        matched = self.router.match(method, raw_path)
        if matched is None:
            return error_response(404, "Not Found"), None, None, None
        route, params = matched
        claims: dict[str, Any] | None = None
        if route.authorizer is not None:
            query = dict(parse_qsl(raw_query, keep_blank_values=True))
            headers = {k.lower(): v for k, v in request.headers.items()}
            try:
                claims = self.verifiers[route.authorizer].verify(headers, route.scopes, query)
            except AuthorizationError as exc:
                challenge = [("www-authenticate", exc.www_authenticate)]
                return error_response(exc.status, exc.message, challenge), route, None, exc.description
        header_items = [(k, v) for k, v in request.headers.items() if k.lower() not in _FORWARDED]
        event = build_event(
            route=route,
            method=method,
            raw_path=raw_path,
            raw_query=raw_query,
            header_items=[*header_items, *self._forwarded(request)],
            body=body,
            path_parameters=params,
            source_ip=str(request.client_address[0]),
            protocol=request.request_version,
            api_id=self.api_id,
            request_id=req_id,
            epoch=epoch,
            claims=claims,
        )
        response, error = self._integrate(route, event)
        return response, route, claims, error

    def _forwarded(self, request: BaseHTTPRequestHandler) -> list[tuple[str, str]]:
        """The headers API Gateway adds: client address, port and scheme, and an X-Ray trace id."""
        ip = str(request.client_address[0])
        forwarded_for = request.headers.get("X-Forwarded-For")
        items = [
            ("x-forwarded-for", f"{forwarded_for}, {ip}" if forwarded_for else ip),
            ("x-forwarded-port", str(self.port)),
            ("x-forwarded-proto", "http"),
        ]
        if "X-Amzn-Trace-Id" not in request.headers:
            items.append(("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()}"))
        return items

    @staticmethod
    def _read_body(request: BaseHTTPRequestHandler) -> tuple[bytes, HttpResponse | None]:
        too_large = error_response(413, "Request Entity Too Large")
        if request.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            size = 0
            while True:
                length = int(request.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if length == 0:
                    while request.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks), None
                size += length
                if size > MAX_REQUEST_BYTES:
                    request.close_connection = True
                    return b"", too_large
                chunks.append(request.rfile.read(length))
                request.rfile.readline()
        length = int(request.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            request.close_connection = True
            return b"", too_large
        return (request.rfile.read(length) if length > 0 else b""), None

    def _integrate(self, route: RouteSpec, event: dict[str, Any]) -> tuple[HttpResponse, str | None]:
        """Invoke the function (giving up after the integration timeout) and map what it returned."""
        outcome: list[InvocationResult | BaseException] = []

        def invoke() -> None:
            try:
                outcome.append(self.invoker.invoke(route.function, event))
            except BaseException as exc:
                outcome.append(exc)

        worker = threading.Thread(target=invoke, name=f"invoke:{route.function}", daemon=True)
        worker.start()
        worker.join(self.integration_timeout_seconds)
        if not outcome:
            return error_response(503, "Service Unavailable"), "integration timeout"
        result = outcome[0]
        if isinstance(result, BaseException):
            log.error("invoking %s failed", route.function, exc_info=result)
            return error_response(500, "Internal Server Error"), f"{type(result).__name__}: {result}"
        error = None if result.ok else f"{result.error_type}: {result.error_message}"
        return map_response(result), error

    @staticmethod
    def _write(request: BaseHTTPRequestHandler, method: str, response: HttpResponse, req_id: str) -> None:
        request.send_response_only(response.status)
        request.send_header("Date", request.date_time_string())
        for name, value in response.headers:
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(response.body)))
        request.send_header("apigw-requestid", req_id)
        if request.close_connection:
            request.send_header("Connection", "close")
        request.end_headers()
        if method != "HEAD" and response.body:
            request.wfile.write(response.body)

    def _record(self, key: str, status: int) -> None:
        with self._stats_lock:
            stats = self.stats.setdefault(key, RouteStats())
            stats.requests += 1
            if 400 <= status < 500:
                stats.client_errors += 1
            elif status >= 500:
                stats.server_errors += 1
