"""API Gateway HTTP API payload format 2.0: the event a function receives, and the response made of its answer.

``build_event`` builds the event as API Gateway does (claims stringified as it hands them over,
``stringify_claim``); ``map_response`` turns both 2.0 response formats into HTTP: a ``statusCode``
object, or any other JSON value inferred as a 200 ``application/json`` body. A function error is
500, a throttle 429, a malformed response 502.
"""

import base64
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from kestrel_local.jwt_verifier import matched_scopes
from kestrel_local.model import InvocationResult, RouteSpec

log = logging.getLogger(__name__)

ACCOUNT_ID = "123456789012"
STAGE = "$default"

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
)
_TEXT_TYPES = frozenset({"application/json", "application/xml", "application/javascript", "application/ecmascript"})
# Headers the gateway computes itself; a function's values for them are ignored.
_RESPONSE_MANAGED = frozenset({"content-length", "connection", "transfer-encoding", "date", "apigw-requestid"})


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
