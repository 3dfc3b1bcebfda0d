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

import base64
import contextlib
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from kestrel_local.http_server import BackgroundHttpServer
from kestrel_local.jwt_verifier import AuthorizationError, JwtVerifier, matched_scopes
from kestrel_local.model import InvocationResult, Invoker, JwtAuthorizerSpec, RouteSpec

log = logging.getLogger(__name__)

ACCOUNT_ID = "123456789012"
STAGE = "$default"
MAX_REQUEST_BYTES = 10 * 1024 * 1024  # HTTP API payload limit
INTEGRATION_TIMEOUT_SECONDS = 30.0  # HTTP API maximum integration timeout
UNMATCHED = "$unmatched"  # stats key for requests no route matched
PREFLIGHT = "$preflight"  # stats key for CORS preflights the gateway answered

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
)
_TEXT_TYPES = frozenset({"application/json", "application/xml", "application/javascript", "application/ecmascript"})
# Request headers API Gateway sets itself (x-forwarded-for is extended with the client's address).
_FORWARDED = frozenset({"x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"})
# Headers the gateway computes itself; a function's values for them are ignored.
_RESPONSE_MANAGED = frozenset({"content-length", "connection", "transfer-encoding", "date", "apigw-requestid"})


# -- configuration and stats ----------------------------------------------------------------------


@dataclass(frozen=True)
class CorsConfig:
    """The HTTP API's CORS configuration (``provider.httpApi.cors`` in serverless.yml)."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    def allows_origin(self, origin: str) -> bool:
        return "*" in self.allow_origins or origin in self.allow_origins

    def _origin_header(self, origin: str) -> str:
        return "*" if "*" in self.allow_origins and not self.allow_credentials else origin

    def response_headers(self, origin: str | None) -> list[tuple[str, str]]:
        """Headers added to an actual (non-preflight) response."""
        if not origin or not self.allows_origin(origin):
            return []
        headers = [("access-control-allow-origin", self._origin_header(origin))]
        if self.allow_credentials:
            headers.append(("access-control-allow-credentials", "true"))
        if self.expose_headers:
            headers.append(("access-control-expose-headers", ",".join(self.expose_headers)))
        return headers

    def preflight_headers(self, origin: str, method: str, request_headers: str) -> list[tuple[str, str]]:
        """Headers of the preflight answer; none when the origin, method or a header is not allowed."""
        methods = {m.upper() for m in self.allow_methods}
        allowed = {h.lower() for h in self.allow_headers}
        requested = [h.strip().lower() for h in request_headers.split(",") if h.strip()]
        if (
            not self.allows_origin(origin)
            or ("*" not in methods and method.upper() not in methods)
            or ("*" not in allowed and any(h not in allowed for h in requested))
        ):
            return []
        headers = [("access-control-allow-origin", self._origin_header(origin))]
        headers.append(("access-control-allow-methods", ",".join(self.allow_methods) if methods else method))
        if requested:
            headers.append(("access-control-allow-headers", ",".join(requested)))
        if self.allow_credentials:
            headers.append(("access-control-allow-credentials", "true"))
        if self.max_age is not None:
            headers.append(("access-control-max-age", str(self.max_age)))
        return headers


@dataclass
class RouteStats:
    requests: int = 0
    client_errors: int = 0  # 4xx, authorizer rejections included
    server_errors: int = 0  # 5xx


# -- routing --------------------------------------------------------------------------------------

_LITERAL, _PARAM, _GREEDY = 2, 1, 0


@dataclass(frozen=True)
class _Route:
    spec: RouteSpec
    segments: tuple[tuple[int, str], ...]

    @classmethod
    def compile(cls, spec: RouteSpec) -> "_Route":
        segments: list[tuple[int, str]] = []
        parts = spec.path.lstrip("/").split("/")
        for index, part in enumerate(parts):
            if part.startswith("{") and part.endswith("+}"):
                if index != len(parts) - 1:
                    raise ValueError(f"{spec.route_key}: a greedy path variable must be the last segment")
                segments.append((_GREEDY, part[1:-2]))
            elif part.startswith("{") and part.endswith("}"):
                segments.append((_PARAM, part[1:-1]))
            else:
                segments.append((_LITERAL, part))
        return cls(spec, tuple(segments))

    @property
    def rank(self) -> tuple[tuple[int, ...], int]:
        return tuple(kind for kind, _ in self.segments), int(self.spec.method != "ANY")

    def match(self, method: str, parts: Sequence[str]) -> dict[str, str] | None:
        if self.spec.method not in ("ANY", method):
            return None
        params: dict[str, str] = {}
        for index, (kind, value) in enumerate(self.segments):
            if kind == _GREEDY:
                rest = "/".join(parts[index:])
                if not rest:
                    return None
                params[value] = unquote(rest)
                return params
            if index >= len(parts):
                return None
            if kind == _LITERAL:
                if unquote(parts[index]) != value:
                    return None
            elif not parts[index]:
                return None
            else:
                params[value] = unquote(parts[index])
        return params if len(parts) == len(self.segments) else None


class Router:
    """HTTP API route selection: the most specific matching route."""

    def __init__(self, routes: Iterable[RouteSpec]) -> None:
        self.routes = [_Route.compile(route) for route in routes]

    def match(self, method: str, path: str) -> tuple[RouteSpec, dict[str, str]] | None:
        parts = path.lstrip("/").split("/")
        best: tuple[_Route, dict[str, str]] | None = None
        for route in self.routes:
            params = route.match(method, parts)
            if params is not None and (best is None or route.rank > best[0].rank):
                best = (route, params)
        return (best[0].spec, best[1]) if best else None


# -- the event ------------------------------------------------------------------------------------


def stringify_claim(value: Any) -> str:
    """A claim as API Gateway hands it to the function: always a string.

    Numbers keep their JSON text, arrays become ``[a b c]`` and objects
    ``map[k:v ...]`` (the authorizer formats values as Go does).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if value is None:
        return "<nil>"
    if isinstance(value, list):
        return "[" + " ".join(stringify_claim(item) for item in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{stringify_claim(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)


def is_text_content_type(content_type: str | None) -> bool:
    """Bodies of these types reach the function as text; anything else (or no type) base64-encoded."""
    if not content_type:
        return False
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime.startswith("text/") or mime in _TEXT_TYPES or mime.endswith(("+json", "+xml"))


def new_request_id() -> str:
    """An HTTP API request id: ``Mc7UVioPPHcEKPA=``."""
    return base64.b64encode(secrets.token_bytes(11)).decode("ascii")


def request_time(epoch: float) -> str:
    """``22/Nov/2026:06:12:34 +0000``, independent of the locale."""
    t = time.gmtime(epoch)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


def build_event(
    *,
    route: RouteSpec,
    method: str,
    raw_path: str,
    raw_query: str,
    header_items: Iterable[tuple[str, str]],
    body: bytes,
    path_parameters: Mapping[str, str],
    source_ip: str,
    protocol: str = "HTTP/1.1",
    api_id: str = "kestrelapi",
    request_id: str | None = None,
    epoch: float | None = None,
    claims: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway sends for one request."""
    epoch = time.time() if epoch is None else epoch
    request_id = request_id or new_request_id()
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in header_items:
        name = name.lower()
        if name in _HOP_BY_HOP:
            continue
        if name == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    domain = headers.get("host", "")
    query: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value

    event: dict[str, Any] = {"version": "2.0", "routeKey": route.route_key, "rawPath": raw_path}
    event["rawQueryString"] = raw_query
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": api_id,
        "domainName": domain,
        "domainPrefix": domain.split(":", 1)[0].split(".", 1)[0],
        "http": {
            "method": method,
            "path": raw_path,
            "protocol": protocol,
            "sourceIp": source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route.route_key,
        "stage": STAGE,
        "time": request_time(epoch),
        "timeEpoch": int(epoch * 1000),
    }
    if claims is not None:
        context["authorizer"] = {
            "jwt": {
                "claims": {name: stringify_claim(value) for name, value in claims.items()},
                "scopes": matched_scopes(claims, route.scopes),
            }
        }
    event["requestContext"] = context
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    encoded = False
    if body:
        text = None
        if is_text_content_type(headers.get("content-type")):
            with contextlib.suppress(UnicodeDecodeError):  # not really text: sent base64-encoded
                text = body.decode("utf-8")
        encoded = text is None
        event["body"] = base64.b64encode(body).decode("ascii") if text is None else text
    event["isBase64Encoded"] = encoded
    return event


# -- the response ---------------------------------------------------------------------------------


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def error_response(status: int, message: str, headers: Iterable[tuple[str, str]] = ()) -> HttpResponse:
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    return HttpResponse(status, [("content-type", "application/json"), *headers], body)


class MalformedResponse(ValueError):
    pass


def _structured_response(response: Mapping[str, Any]) -> HttpResponse:
    status = response.get("statusCode")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode {status!r} is not an HTTP status")
    headers = response.get("headers") or {}
    cookies = response.get("cookies") or []
    body = response.get("body")
    encoded = response.get("isBase64Encoded") or False
    if not isinstance(headers, dict) or not all(isinstance(v, str | int | float | bool) for v in headers.values()):
        raise MalformedResponse("headers must be an object of strings")
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        raise MalformedResponse("cookies must be a list of strings")
    if body is not None and not isinstance(body, str):
        raise MalformedResponse("body must be a string")
    if not isinstance(encoded, bool):
        raise MalformedResponse("isBase64Encoded must be a boolean")
    try:
        payload = base64.b64decode(body or "", validate=True) if encoded else (body or "").encode("utf-8")
    except ValueError as exc:
        raise MalformedResponse(f"body is not base64: {exc}") from None
    items: list[tuple[str, str]] = []
    for name, value in headers.items():
        if str(name).lower() in _RESPONSE_MANAGED:
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        items.append((str(name).lower(), text))
    items.extend(("set-cookie", cookie) for cookie in cookies)
    return HttpResponse(status, items, payload)


def map_response(result: InvocationResult) -> HttpResponse:
    """The HTTP response API Gateway makes of an invocation's result (payload format 2.0)."""
    if not result.ok:
        if result.error_type == "TooManyRequestsException":
            return error_response(429, "Too Many Requests")
        return error_response(500, "Internal Server Error")
    response = result.response
    if isinstance(response, dict) and "statusCode" in response:
        try:
            return _structured_response(response)
        except MalformedResponse as exc:
            log.warning("%s returned a malformed response: %s", result.function, exc)
            return error_response(502, "Bad Gateway")
    try:
        body = json.dumps(response).encode()
    except (TypeError, ValueError):
        return error_response(502, "Bad Gateway")
    return HttpResponse(200, [("content-type", "application/json")], body)


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
