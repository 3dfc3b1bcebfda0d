"""The Google Search Console API client: ``searchanalytics.query`` with retries and clear credential errors.

Throttling (429), server errors (5xx) and network failures are retried inside
the invocation with exponential back-off and jitter, honouring ``Retry-After``;
when the attempts run out a ``TransientError`` hands the message back to SQS,
which retries it later. A credential Google refuses (revoked, ``invalid_grant``,
no access to the site) raises ``CredentialRejected`` with Google's own words,
so the job fails with a reason a user can act on instead of retrying forever.
"""

import datetime as dt
import email.utils
import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import requests
from google.auth import credentials as google_credentials
from google.auth.exceptions import RefreshError, TransportError
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import credentials as oauth2_credentials
from google.oauth2 import service_account

from shared.errors import PermanentError, TransientError
from shared.observability import logger
from shared.search_console.models import GscCredential, ServiceAccountCredential
from shared.settings import SearchConsoleApi, settings_of

SCOPE_READONLY = "https://www.googleapis.com/auth/webmasters.readonly"
# One back-off never waits longer than this; a Retry-After beyond it is left to SQS's redelivery.
MAX_BACKOFF_SECONDS = 30.0
# The user-facing verification runs inside an HTTP request: fewer attempts.
VERIFY_MAX_ATTEMPTS = 2
VERIFY_DAYS = 7
_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
# Older quota errors came as 403 with these reasons; they clear with time like a 429.
_RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})
_NETWORK_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


class CredentialRejected(PermanentError):
    """Google refused the credential (revoked, invalid, or without access to the site)."""


def google_credentials_for(credential: GscCredential) -> google_credentials.Credentials:
    """google-auth credentials for a stored service account key or ``authorized_user`` refresh token."""
    token_uri = credential.token_uri or settings_of(SearchConsoleApi).gsc_token_uri
    if isinstance(credential, ServiceAccountCredential):
        info = credential.model_dump(exclude_none=True) | {"token_uri": token_uri}
        try:
            return service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call,no-any-return]
                info, scopes=[SCOPE_READONLY]
            )
        except ValueError as exc:
            raise CredentialRejected(f"The service account key is unusable: {exc}") from exc
    # No scopes asked: a refresh keeps the scopes the user granted (asking for others can be refused).
    return oauth2_credentials.Credentials(  # type: ignore[no-untyped-call]
        token=None,
        refresh_token=credential.refresh_token,
        client_id=credential.client_id,
        client_secret=credential.client_secret,
        token_uri=token_uri,
    )


def google_error(response: requests.Response) -> tuple[str, str]:
    """Google's error message and first reason from an error body (``{"error": {"message", "errors"}}``)."""
    try:
        error = response.json().get("error")
    except ValueError:
        error = None
    if not isinstance(error, dict):
        return (response.text.strip()[:500] or response.reason or f"HTTP {response.status_code}"), ""
    details = error.get("errors") or [{}]
    reason = details[0].get("reason", "") if isinstance(details[0], dict) else ""
    return str(error.get("message") or response.reason or f"HTTP {response.status_code}"), str(reason)


def _auth_error(exc: Exception) -> str:
    """google-auth's own message ("invalid_grant: Token has been expired or revoked."), without the raw body."""
    return str(exc.args[0]) if exc.args else type(exc).__name__


def retry_after_seconds(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date. None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def backoff_seconds(attempt: int, base: float, retry_after: float | None = None) -> float:
    """The wait before retry ``attempt + 1``: exponential with jitter, at least what Retry-After asks."""
    exponential = base * 2.0 ** (attempt - 1)
    delay = random.uniform(0.5, 1.0) * exponential  # noqa: S311 -- jitter, not cryptography
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, MAX_BACKOFF_SECONDS)


class SearchConsoleClient:
    """``searchanalytics.query`` for one credential; ``from_credential`` builds it from a stored credential."""

    def __init__(
        self,
        credentials: google_credentials.Credentials,
        *,
        max_attempts: int | None = None,
        backoff_base: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        settings = settings_of(SearchConsoleApi)
        self._base_url = settings.gsc_api_base_url.rstrip("/")
        self._timeout = settings.gsc_timeout_seconds
        self._max_attempts = max(1, max_attempts or settings.gsc_max_attempts)
        self._backoff = settings.gsc_backoff_seconds if backoff_base is None else backoff_base
        self._sleep = sleep
        self._session = AuthorizedSession(credentials, refresh_timeout=self._timeout)  # type: ignore[no-untyped-call]

    @classmethod
    def from_credential(cls, credential: GscCredential) -> "SearchConsoleClient":
        return cls(google_credentials_for(credential))

    def query(self, site_url: str, body: dict[str, Any]) -> dict[str, Any]:
        """One ``searchanalytics.query`` call, retried on throttling, server and network errors."""
        url = f"{self._base_url}/sites/{quote(site_url, safe='')}/searchAnalytics/query"
        for attempt in range(1, self._max_attempts + 1):
            retry_after: float | None = None
            try:
                response = self._session.post(url, json=body, timeout=self._timeout)
            except RefreshError as exc:
                if not exc.retryable:
                    raise CredentialRejected(
                        f"Google refused the Search Console credential ({_auth_error(exc)}); "
                        "reconnect the property with a valid credential."
                    ) from exc
                problem = f"the token endpoint failed ({_auth_error(exc)})"
            except (TransportError, *_NETWORK_ERRORS) as exc:
                problem = f"a network error ({type(exc).__name__}: {_auth_error(exc)})"
            else:
                if response.status_code == 200:
                    result: dict[str, Any] = response.json()
                    return result
                message, reason = google_error(response)
                status = response.status_code
                if status in _RETRYABLE_STATUS or (status == 403 and reason in _RATE_LIMIT_REASONS):
                    problem = f"HTTP {status} ({message})"
                    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                elif status in (401, 403):
                    raise CredentialRejected(
                        f"Search Console refused access to {site_url} (HTTP {status}: {message}); "
                        "check that the credential has access to the property, or reconnect it."
                    )
                else:
                    raise PermanentError(f"Search Console rejected the query for {site_url} (HTTP {status}: {message})")
            if attempt == self._max_attempts or (retry_after is not None and retry_after > MAX_BACKOFF_SECONDS):
                raise TransientError(
                    f"Search Console query for {site_url} failed after {attempt} attempt(s): {problem}; will retry."
                )
            delay = backoff_seconds(attempt, self._backoff, retry_after)
            logger.warning(
                "Search Console query failed; backing off",
                extra={"site_url": site_url, "attempt": attempt, "delay_seconds": round(delay, 3), "problem": problem},
            )
            self._sleep(delay)
        raise AssertionError("unreachable")  # the loop returns or raises

    def close(self) -> None:
        self._session.close()  # type: ignore[no-untyped-call]


def verify_access(credential: GscCredential, site_url: str) -> None:
    """Prove the credential can read the site: a one-row query over the last few days (an empty answer is fine)."""
    client = SearchConsoleClient(google_credentials_for(credential), max_attempts=VERIFY_MAX_ATTEMPTS)
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    try:
        client.query(
            site_url,
            {
                "startDate": (yesterday - dt.timedelta(days=VERIFY_DAYS - 1)).isoformat(),
                "endDate": yesterday.isoformat(),
                "rowLimit": 1,
                "dataState": "all",
            },
        )
    finally:
        client.close()
