"""Fetching one page: redirects followed by hand, the body capped, and every failure an answer, not an exception.

httpx would follow redirects itself, but then a hop to another host, a ``file://`` URL or a path
robots.txt disallows would be fetched before anyone could refuse it. Here each hop's URL goes through
``check_url`` and the caller's ``may_follow`` (robots, scope) before it is requested, and the guarded
client checks the address it connects to. A crawl fetches thousands of pages of a site it does not
control, so a page that times out, loops or lies about its encoding is recorded as a ``FetchError``
with a code from a closed set, for the audit to report, and the crawl goes on.
"""

import ssl
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal, get_args

import httpx

from shared.crawl.ssrf import BlockedAddress, HostNotFound, check_url
from shared.crawl.urls import normalize

FetchErrorCode = Literal[
    "timeout",
    "tls",
    "connect",
    "dns",
    "blocked_address",
    "redirect_loop",
    "too_many_redirects",
    "redirect_refused",
    "invalid_url",
    "protocol",
    "host_busy",
]
FETCH_ERROR_CODES: tuple[FetchErrorCode, ...] = get_args(FetchErrorCode)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})  # the answers that are pages to read
# Retry-After is a promise only on these (RFC 9110 10.2.3); elsewhere it is ignored.
RETRY_AFTER_STATUSES = frozenset({429, 503})


class HostBusy(Exception):
    """The host's turn did not come in time (other crawls are pacing it): the URL is tried again later."""


def unpaced(url: str) -> AbstractContextManager[object]:
    return nullcontext()


@dataclass(frozen=True)
class Hop:
    """A redirecting answer: the URL that answered and its status."""

    url: str
    status: int


@dataclass(frozen=True)
class FetchError:
    code: FetchErrorCode
    message: str


@dataclass(frozen=True)
class FetchResult:
    """What fetching ``requested_url`` gave. ``status``, ``headers`` and ``body`` are the last answer's.

    When a redirect is refused or cannot be reached, the last answer is the redirect itself: ``final_url``
    is the URL that answered it and ``error`` says why the crawl went no further. ``response_ms`` runs from
    the first request to the last byte read (redirects included: it is what a visitor waits).
    """

    requested_url: str
    final_url: str
    redirects: tuple[Hop, ...]
    status: int | None
    content_type: str | None
    charset: str | None
    headers: Mapping[str, str]
    body: bytes
    truncated: bool
    response_ms: float
    retry_after: float | None
    error: FetchError | None


def never_refuse(url: str) -> str | None:
    """A ``may_follow`` that lets every redirect through (the SSRF checks still apply)."""
    return None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value: delta-seconds or an HTTP-date (never negative)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        # An HTTP-date is always GMT (RFC 9110 5.6.7); "-0000" parses as naive.
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def media_type(content_type: str | None) -> tuple[str | None, str | None]:
    """``(media type, charset)`` of a Content-Type: ``text/html; charset="UTF-8"`` → ``("text/html", "utf-8")``."""
    if not content_type:
        return None, None
    kind, *parameters = content_type.split(";")
    charset = None
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip("\"'"):
            charset = value.strip().strip("\"'").lower()
    return kind.strip().lower() or None, charset


def _error_code(exc: Exception) -> FetchErrorCode:
    """The code of a failed request, judged by the exception and what caused it."""
    causes: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and len(causes) < 10:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    if any(isinstance(c, BlockedAddress) for c in causes):
        return "blocked_address"
    if isinstance(exc, HostBusy):
        return "host_busy"
    if any(isinstance(c, HostNotFound) for c in causes):
        return "dns"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if any(isinstance(c, ssl.SSLError | ssl.CertificateError) for c in causes):
        return "tls"
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return "invalid_url"
    if isinstance(exc, httpx.NetworkError):
        return "connect"
    return "protocol"


@dataclass
class _Answer:
    """The last answer received, while the fetch is under way."""

    url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    truncated: bool = False


def _joined_headers(response: httpx.Response) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in response.headers.multi_items():
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _read_capped(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    """The decoded body up to ``max_bytes``, and whether there was more (the rest is not downloaded)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        if size + len(chunk) > max_bytes:
            chunks.append(chunk[: max_bytes - size])
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), False


def fetch(
    client: httpx.Client,
    url: str,
    *,
    max_bytes: int,
    max_redirects: int = 10,
    may_follow: Callable[[str], str | None] = never_refuse,
    pace: Callable[[str], AbstractContextManager[object]] = unpaced,
) -> FetchResult:
    """GET ``url`` with ``client`` (a ``guarded_client``), following at most ``max_redirects`` redirects.

    ``may_follow(target)`` is asked before each redirect is followed and returns why not (robots, scope)
    or None. Every request, each redirect hop included, is made inside ``pace(its URL)``: the crawl's turn
    at that host (which raises ``HostBusy`` when the turn does not come in time). Never raises for a
    problem of the page: the result's ``error`` says what went wrong.
    """
    started = time.perf_counter()
    answer = _Answer(url)
    redirects: list[Hop] = []
    error: FetchError | None = None
    seen: set[str] = set()
    target: str | None = url
    try:
        check_url(url)
        seen.add(normalize(url))
    except (BlockedAddress, ValueError) as exc:
        error, target = FetchError("invalid_url", f"{url}: {exc}"), None
    while target is not None:
        next_target: str | None = None
        try:
            with pace(target), client.stream("GET", target) as response:
                answer = _Answer(target, response.status_code, _joined_headers(response))
                location = response.headers.get("location")
                if response.status_code in REDIRECT_STATUSES and location:
                    redirects.append(Hop(target, response.status_code))
                    next_target = _location_url(target, location)
                else:
                    answer.body, answer.truncated = _read_capped(response, max_bytes)
        # Whatever one page does (a reset, a lying header, a bad certificate) is recorded, never raised.
        except Exception as exc:
            error = FetchError(_error_code(exc), f"{target}: {exc}")
            break
        if next_target is None:
            break
        error = _redirect_refusal(next_target, seen, len(redirects), max_redirects, may_follow)
        if error is not None:
            break
        seen.add(next_target)
        target = next_target
    content_type, charset = media_type(answer.headers.get("content-type"))
    retry_after = (
        parse_retry_after(answer.headers.get("retry-after")) if answer.status in RETRY_AFTER_STATUSES else None
    )
    return FetchResult(
        requested_url=url,
        final_url=answer.url,
        redirects=tuple(redirects),
        status=answer.status,
        content_type=content_type,
        charset=charset,
        headers=answer.headers,
        body=answer.body,
        truncated=answer.truncated,
        response_ms=(time.perf_counter() - started) * 1000,
        retry_after=retry_after,
        error=error,
    )


def _location_url(base: str, location: str) -> str:
    """The normalized URL a Location header points to, or the header as sent when it is no URL at all."""
    try:
        return normalize(location, base=base)
    except ValueError:
        return location  # check_url refuses it, naming what the server sent.


def _redirect_refusal(
    target: str, seen: set[str], hops: int, max_redirects: int, may_follow: Callable[[str], str | None]
) -> FetchError | None:
    """Why the redirect to ``target`` (normalized) is not followed, if it is not."""
    try:
        check_url(target)
    except (BlockedAddress, ValueError) as exc:
        return FetchError("redirect_refused", f"{target}: {exc}")
    if target in seen:
        return FetchError("redirect_loop", f"{target}: redirects back to a URL already requested")
    if hops > max_redirects:
        return FetchError("too_many_redirects", f"{target}: more than {max_redirects} redirects")
    reason = may_follow(target)
    if reason is not None:
        return FetchError("redirect_refused", f"{target}: {reason}")
    return None
