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

from tests.support.settings import unreachable_settings


@pytest.fixture(scope="session", autouse=True)
def settings_of_no_real_resource() -> Iterator[None]:
    with unreachable_settings():
        yield


@pytest.fixture(autouse=True)
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unit-tests-reach-no-aws")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit-tests-reach-no-aws")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
