"""The Search Console client's back-off arithmetic and its check of a credential before any call.

The client against the local Search Console API over HTTP is tests/integration/test_gsc_client.py.
"""

import datetime as dt

import pytest
from pydantic import TypeAdapter

from shared.search_console.client import (
    MAX_BACKOFF_SECONDS,
    CredentialRejected,
    SearchConsoleClient,
    backoff_seconds,
    retry_after_seconds,
)
from shared.search_console.models import GscCredential

CREDENTIAL: TypeAdapter[GscCredential] = TypeAdapter(GscCredential)


def test_an_unusable_service_account_key_is_rejected() -> None:
    key = {"type": "service_account", "client_email": "x@y.iam.gserviceaccount.com", "private_key": "k" * 80}
    with pytest.raises(CredentialRejected, match="service account key is unusable"):
        SearchConsoleClient.from_credential(CREDENTIAL.validate_python(key))


def test_retry_after_header_values() -> None:
    now = dt.datetime(2026, 11, 22, 5, 0, tzinfo=dt.UTC)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Sun, 22 Nov 2026 05:00:12 GMT", now=now) == 12.0
    assert retry_after_seconds("Sun, 22 Nov 2026 04:59:00 GMT", now=now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_backoff_grows_with_jitter_honours_retry_after_and_is_capped() -> None:
    for attempt, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0)):
        delays = {backoff_seconds(attempt, 1.0) for _ in range(20)}
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(delays) > 1  # jittered
    assert backoff_seconds(1, 1.0, retry_after=9.0) == 9.0
    assert backoff_seconds(10, 1.0) == MAX_BACKOFF_SECONDS
