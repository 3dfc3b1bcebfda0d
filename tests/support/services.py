"""Session fixtures for the services more than one suite starts: PostgreSQL and the AWS emulator.

Suites import the ones they need into their conftest (tests/unit imports none). PostgreSQL is the
embedded server from the ``pgserver`` wheel in ``.state/`` unless ``DATABASE_URL`` names a server
(superuser URL) to use instead. moto runs as a separate server process on a free 127.0.0.1 port,
and the code reaches it through ``AWS_ENDPOINT_URL`` exactly as production code reaches AWS.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kestrel_local.moto_server import MotoServer, start_moto
from kestrel_local.postgres import start_embedded

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"


@pytest.fixture(scope="session")
def admin_url() -> str:
    external = os.environ.get("DATABASE_URL")
    return external or start_embedded(ROOT / ".state" / "test-postgres")


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    server = start_moto()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def aws_emulator(moto: MotoServer) -> Iterator[MotoServer]:
    """The process's AWS SDK pointed at the emulator, with dummy credentials and none of the developer's."""
    env = {
        "AWS_ENDPOINT_URL": moto.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            patch.delenv(name, raising=False)
        yield moto
