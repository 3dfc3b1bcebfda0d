"""The Search Console client against the local Search Console API: credentials, retries, quota, errors."""

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import TypeAdapter

from kestrel_local.search_console import SearchConsoleServer, parse_request, run_query
from shared.errors import PermanentError, TransientError
from shared.runtime.cache import reset_cached_runtime
from shared.runtime.error_classes import classify
from shared.search_console.client import (
    MAX_BACKOFF_SECONDS,
    CredentialRejected,
    SearchConsoleClient,
    google_credentials_for,
    verify_access,
)
from shared.search_console.models import GscCredential
from shared.settings import SearchConsoleApi, forget_settings, settings_of

TODAY = dt.date(2026, 11, 22)
SITE = "sc-domain:client.example"
URL_PREFIX_SITE = "https://www.acme-tools.io/"
QUOTA_SITE = "sc-domain:quota.example"
OTHER_SITE = "sc-domain:not-granted.example"
WEEK = {"startDate": "2026-11-09", "endDate": "2026-11-15", "dimensions": ["date"]}
CREDENTIAL: TypeAdapter[GscCredential] = TypeAdapter(GscCredential)


class Clock:
    """The server's clock: real time plus whatever the client's back-off 'slept'."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.offset += seconds

    def record_only(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def server(platform: Any, clock: Clock) -> Iterator[SearchConsoleServer]:
    running = SearchConsoleServer(today=TODAY, clock=clock).start()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KESTREL_GSC_API_BASE_URL", running.url + "/webmasters/v3")
        patch.setenv("KESTREL_GSC_TOKEN_URI", running.token_uri)
        patch.setenv("KESTREL_GSC_MAX_ATTEMPTS", "3")
        patch.setenv("KESTREL_GSC_BACKOFF_SECONDS", "0.01")
        reset_cached_runtime()
        yield running
    running.stop()
    reset_cached_runtime()


@pytest.fixture(scope="module")
def service_account(server: SearchConsoleServer) -> GscCredential:
    return CREDENTIAL.validate_python(server.register_service_account([SITE, URL_PREFIX_SITE, QUOTA_SITE]))


def expected_rows(site: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(run_query(site, parse_request(body), today=TODAY).get("rows", []))


def test_service_account_reads_search_analytics(server: SearchConsoleServer, service_account: GscCredential) -> None:
    client = SearchConsoleClient.from_credential(service_account)
    tokens = server.requests["token.200"]
    assert client.query(SITE, WEEK)["rows"] == expected_rows(SITE, WEEK)
    # a URL-prefix property travels URL-encoded in the path
    assert client.query(URL_PREFIX_SITE, WEEK)["rows"] == expected_rows(URL_PREFIX_SITE, WEEK)
    assert server.requests["token.200"] == tokens + 1  # one access token, reused


@pytest.mark.parametrize("with_token_uri", [True, False], ids=["own-token-uri", "settings-token-uri"])
def test_authorized_user_reads_search_analytics(server: SearchConsoleServer, with_token_uri: bool) -> None:
    user = server.register_refresh_token([SITE])
    if not with_token_uri:
        del user["token_uri"]  # then KESTREL_GSC_TOKEN_URI is the token endpoint
    client = SearchConsoleClient.from_credential(CREDENTIAL.validate_python(user))
    assert client.query(SITE, WEEK)["rows"] == expected_rows(SITE, WEEK)


def test_server_errors_are_retried_within_the_call(server: SearchConsoleServer, service_account: GscCredential) -> None:
    clock = Clock()
    client = SearchConsoleClient(google_credentials_for(service_account), sleep=clock.record_only)
    before = server.requests["searchAnalytics.query.503"]
    server.fail_next(2, 503)
    assert client.query(SITE, WEEK)["rows"] == expected_rows(SITE, WEEK)
    assert server.requests["searchAnalytics.query.503"] == before + 2
    assert len(clock.slept) == 2


def test_server_errors_past_the_attempts_are_transient(
    server: SearchConsoleServer, service_account: GscCredential
) -> None:
    client = SearchConsoleClient(google_credentials_for(service_account), max_attempts=3, sleep=Clock().record_only)
    server.fail_next(3, 500)
    with pytest.raises(TransientError, match=r"after 3 attempt\(s\): HTTP 500 \(Internal error encountered.\)"):
        client.query(SITE, WEEK)
    assert client.query(SITE, WEEK)["rows"]  # the failures are used up


def test_quota_429_backs_off_until_the_window_passes(
    server: SearchConsoleServer, service_account: GscCredential, clock: Clock
) -> None:
    # Two queries a minute; the back-off "sleeps" by advancing the server's clock.
    client = SearchConsoleClient(
        google_credentials_for(service_account), max_attempts=4, backoff_base=40.0, sleep=clock.sleep
    )
    throttled = server.requests["searchAnalytics.query.429"]
    server.queries_per_minute = 2
    try:
        clock.slept.clear()
        for _ in range(3):
            assert client.query(QUOTA_SITE, WEEK)["rows"] == expected_rows(QUOTA_SITE, WEEK)
    finally:
        server.queries_per_minute = 1_200
    assert server.requests["searchAnalytics.query.429"] > throttled
    assert clock.slept, "the third query was throttled and retried"
    assert all(0 < delay <= MAX_BACKOFF_SECONDS for delay in clock.slept)
    assert sum(clock.slept) >= 59  # it waited (in server time) for the per-minute window to move on


def test_quota_exhausted_is_transient(server: SearchConsoleServer, service_account: GscCredential) -> None:
    waits = Clock()
    client = SearchConsoleClient(google_credentials_for(service_account), max_attempts=3, sleep=waits.record_only)
    server.queries_per_minute = 0
    try:
        with pytest.raises(TransientError, match="HTTP 429") as info:
            client.query(QUOTA_SITE, WEEK)
    finally:
        server.queries_per_minute = 1_200
    assert len(waits.slept) == 2
    assert waits.slept[1] >= waits.slept[0]  # exponential (with jitter)
    assert classify(info.value) == "transient"


def test_revoked_service_account_is_rejected_with_googles_reason(server: SearchConsoleServer) -> None:
    key = server.register_service_account([SITE])
    client = SearchConsoleClient.from_credential(CREDENTIAL.validate_python(key))
    assert client.query(SITE, WEEK)["rows"]
    server.revoke(key)
    # The cached access token now answers 401; the refresh is refused with invalid_grant.
    with pytest.raises(CredentialRejected, match="invalid_grant: Invalid JWT Signature") as info:
        client.query(SITE, WEEK)
    assert "reconnect the property" in info.value.detail
    assert classify(info.value) == "permanent"
    fresh = SearchConsoleClient.from_credential(CREDENTIAL.validate_python(key))
    with pytest.raises(CredentialRejected, match="invalid_grant"):
        fresh.query(SITE, WEEK)


def test_revoked_refresh_token_is_rejected(server: SearchConsoleServer) -> None:
    user = server.register_refresh_token([SITE])
    server.revoke(user)
    client = SearchConsoleClient.from_credential(CREDENTIAL.validate_python(user))
    with pytest.raises(CredentialRejected, match="Token has been expired or revoked"):
        client.query(SITE, WEEK)


def test_wrong_client_secret_is_rejected(server: SearchConsoleServer) -> None:
    user = server.register_refresh_token([SITE]) | {"client_secret": "GOCSPX-wrong"}
    with pytest.raises(CredentialRejected, match="invalid_client"):
        SearchConsoleClient.from_credential(CREDENTIAL.validate_python(user)).query(SITE, WEEK)


def test_a_site_the_credential_cannot_read_is_rejected(
    server: SearchConsoleServer, service_account: GscCredential
) -> None:
    client = SearchConsoleClient.from_credential(service_account)
    with pytest.raises(CredentialRejected, match="HTTP 403: User does not have sufficient permission for site") as info:
        client.query(OTHER_SITE, WEEK)
    assert OTHER_SITE in info.value.detail


def test_other_client_errors_are_permanent_with_googles_message(
    server: SearchConsoleServer, service_account: GscCredential
) -> None:
    client = SearchConsoleClient.from_credential(service_account)
    with pytest.raises(PermanentError, match=r"HTTP 400: rowLimit must be between 1 and 25000") as info:
        client.query(SITE, WEEK | {"rowLimit": 30_000})
    assert not isinstance(info.value, CredentialRejected)


def test_network_errors_are_retried_then_transient(
    server: SearchConsoleServer, service_account: GscCredential, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KESTREL_GSC_API_BASE_URL", "http://127.0.0.1:9/webmasters/v3")  # discard: nothing listens
    forget_settings()
    try:
        waits = Clock()
        client = SearchConsoleClient(google_credentials_for(service_account), sleep=waits.record_only)
        with pytest.raises(TransientError, match="network error"):
            client.query(SITE, WEEK)
        assert len(waits.slept) == settings_of(SearchConsoleApi).gsc_max_attempts - 1
    finally:
        monkeypatch.undo()
        forget_settings()


def test_verify_access(server: SearchConsoleServer, service_account: GscCredential) -> None:
    before = server.requests["searchAnalytics.query.200"]
    verify_access(service_account, SITE)
    assert server.requests["searchAnalytics.query.200"] == before + 1
    with pytest.raises(CredentialRejected, match="sufficient permission"):
        verify_access(service_account, OTHER_SITE)
    user = server.register_refresh_token([SITE])
    server.revoke(user)
    with pytest.raises(CredentialRejected, match="Token has been expired or revoked"):
        verify_access(CREDENTIAL.validate_python(user), SITE)
