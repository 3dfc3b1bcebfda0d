"""The Search Console stand-in's HTTP server: the API and the token endpoint on one port, with quotas and faults.

``POST /webmasters/v3/sites/{siteUrl}/searchAnalytics/query`` (and the same under
``/v1/``) with the site URL URL-encoded (``sc-domain%3Aexample.com``,
``https%3A%2F%2Fwww.example.com%2F``) checks the bearer token (``oauth``), the
site's per-minute quota and injected failures (``fail_next``), then answers with
``query``; ``POST /token`` is the ``oauth`` token endpoint.
"""

import datetime as dt
import json
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

from kestrel_local.http_server import BackgroundHttpServer
from kestrel_local.search_console.oauth import SCOPE_FULL, SCOPE_READONLY, TokenEndpoint
from kestrel_local.search_console.query import ApiError, parse_request, run_query
from kestrel_local.search_console.synthetic import SyntheticConfig


@dataclass
class _Failures:
    remaining: int = 0
    status: int = 503


_PATH = re.compile(r"^/(?:webmasters/v3|v1)/sites/([^/]+)/searchAnalytics/query$")


class SearchConsoleServer(BackgroundHttpServer):
    """A local Search Console API and OAuth2 token endpoint; ``port=0`` picks a free port.

    ``today`` fixes the date the data end at (the last day with data is the day before; the last two
    days are fresh); ``clock`` (seconds) drives token expiry and the per-minute quota.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        config: SyntheticConfig | None = None,
        queries_per_minute: int = 1_200,
        today: dt.date | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config or SyntheticConfig()
        self.queries_per_minute = queries_per_minute
        self._today = today
        self._clock = clock
        self._lock = threading.Lock()
        self._recent: dict[str, deque[float]] = {}
        self._failures = _Failures()
        self.requests: Counter[str] = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                if path == "/token":
                    status, document = server._token(raw, self.headers.get("Content-Type", ""))
                else:
                    status, document = server._api(path, raw, self.headers.get("Authorization", ""))
                self._reply(status, document)

            def do_GET(self) -> None:
                server._count("other", 404)
                self._reply(404, ApiError(404, "Not Found").body())

            def _reply(self, status: int, document: Mapping[str, Any]) -> None:
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Bearer realm="https://accounts.google.com/"')
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        super().__init__(host, port, Handler, name="search-console")
        self.oauth = TokenEndpoint(self.token_uri, clock=clock)

    # -- configuration ----------------------------------------------------------------------------

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    @property
    def today(self) -> dt.date:
        return self._today or dt.datetime.now(dt.UTC).date()

    def register_service_account(
        self, sites: Iterable[str], *, name: str = "kestrel-gsc", project_id: str = "kestrel-local"
    ) -> dict[str, str]:
        """A new service account with access to ``sites``: the JSON key file's content, as Google issues it."""
        return self.oauth.register_service_account(sites, name=name, project_id=project_id)

    def register_refresh_token(
        self, sites: Iterable[str], *, scopes: Iterable[str] = (SCOPE_READONLY,)
    ) -> dict[str, str]:
        """A user's OAuth grant on ``sites``: Google's ``authorized_user`` file (client id/secret, refresh token)."""
        return self.oauth.register_refresh_token(sites, scopes=scopes)

    def revoke(self, credential: Mapping[str, str] | str) -> None:
        """Revoke a credential (its key file/authorized-user dict, client_email or refresh token) and its tokens."""
        self.oauth.revoke(credential)

    def fail_next(self, count: int, status: int = 503) -> None:
        """Make the next ``count`` API calls (not token requests) answer ``status`` (500 or 503)."""
        with self._lock:
            self._failures = _Failures(count, status)

    def _count(self, endpoint: str, status: int) -> None:
        with self._lock:
            self.requests[endpoint] += 1
            self.requests[f"{endpoint}.{status}"] += 1

    # -- token endpoint ---------------------------------------------------------------------------

    def _token(self, raw: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
        status, document = self.oauth.token(raw, content_type)
        self._count("token", status)
        return status, document

    # -- API --------------------------------------------------------------------------------------

    def _api(self, path: str, raw: bytes, authorization: str) -> tuple[int, dict[str, Any]]:
        try:
            document = self._api_inner(path, raw, authorization)
        except ApiError as error:
            self._count("searchAnalytics.query", error.code)
            return error.code, error.body()
        self._count("searchAnalytics.query", 200)
        return 200, document

    def _api_inner(self, path: str, raw: bytes, authorization: str) -> dict[str, Any]:
        match = _PATH.match(path)
        if match is None:
            raise ApiError(404, f"The requested URL {path} was not found on this server.")
        site_url = unquote(match.group(1))
        now = self._clock()
        access = self.oauth.access(authorization, now)
        if access is None:
            raise ApiError(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
                "other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
                location="Authorization",
                locationType="header",
            )
        if not access.scopes & {SCOPE_READONLY, SCOPE_FULL}:
            raise ApiError(403, "Request had insufficient authentication scopes.", reason="insufficientPermissions")
        if site_url not in access.sites:
            raise ApiError(
                403,
                f"User does not have sufficient permission for site '{site_url}'. "
                "See also: https://support.google.com/webmasters/answer/2451999.",
            )
        with self._lock:
            if self._failures.remaining > 0:
                self._failures.remaining -= 1
                status = self._failures.status
                raise ApiError(
                    status, "Internal error encountered." if status == 500 else "The service is currently unavailable."
                )
            recent = self._recent.setdefault(site_url, deque())
            while recent and recent[0] <= now - 60:
                recent.popleft()
            if len(recent) >= self.queries_per_minute:
                raise ApiError(
                    429,
                    "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per site' of service "
                    "'searchconsole.googleapis.com'.",
                )
            recent.append(now)
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            raise ApiError(400, "Invalid JSON payload received.") from None
        request = parse_request(body)
        return run_query(site_url, request, today=self.today, config=self.config)
