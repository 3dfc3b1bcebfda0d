"""Unit tests: pure code only, in seconds. No PostgreSQL, no AWS emulator, no Sentry.

None of the service fixtures (tests/support/services.py, tests/integration/conftest.py) is available
here: a test that needs one belongs in tests/integration or tests/local_stack. ``AWS_ENDPOINT_URL`` is
pointed at a closed port so that an AWS call slipping into a unit test fails at once instead of
reaching AWS or waiting on a real endpoint. The functions' settings, which their handlers check at
cold start, name no real resource either: a database on a closed port, queues and buckets that do not
exist.
"""

from collections.abc import Iterator

import pytest

from shared.settings import forget_settings

UNREACHABLE_SETTINGS = {
    "KESTREL_STAGE": "test",
    "KESTREL_DATABASE_URL": "postgresql://unit@127.0.0.1:9/none",
    "KESTREL_AUTH_ISSUER": "https://auth.unit.kestrel.example/",
    "KESTREL_UPLOADS_BUCKET": "unit-no-uploads",
    "KESTREL_CHUNKS_BUCKET": "unit-no-chunks",
    "KESTREL_GSC_SYNC_QUEUE_URL": "http://127.0.0.1:9/000000000000/unit-no-sync",
    "KESTREL_GSC_INGEST_QUEUE_URL": "http://127.0.0.1:9/000000000000/unit-no-ingest",
    "KESTREL_ROLLUP_QUEUE_URL": "http://127.0.0.1:9/000000000000/unit-no-rollup",
    "KESTREL_DLQ_URL": "http://127.0.0.1:9/000000000000/unit-no-dlq",
    "KESTREL_GSC_SECRET_PREFIX": "kestrel/unit/gsc/",
}


@pytest.fixture(scope="session", autouse=True)
def unreachable_settings() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in UNREACHABLE_SETTINGS.items():
            patch.setenv(name, value)
        forget_settings()
        yield
    forget_settings()


@pytest.fixture(autouse=True)
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unit-tests-reach-no-aws")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit-tests-reach-no-aws")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
