"""The DataForSEO stand-in for the suites that call DataForSEO: a server, its login secret, and the settings.

``dataforseo_stand_in()`` starts ``kestrel_local.dataforseo.DataForSeoServer`` on a free port over the demo
property, stores its login as the Secrets Manager secret ``SECRET_NAME`` (the suite's moto) and points
``KESTREL_DATAFORSEO_API_BASE_URL`` and ``KESTREL_DATAFORSEO_SECRET_NAME`` at them. ``StandInClock`` is the
server's clock: tests move it to make tasks ready, or three days old.
"""

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import pytest
from botocore.exceptions import ClientError

from kestrel_local.dataforseo import LOCAL_LOGIN, LOCAL_PASSWORD, DataForSeoServer
from kestrel_local.demo import DEMO_SITE_URL
from shared.ranks.dataforseo import forget_client
from shared.settings import forget_settings
from tests.support.services import REGION

SECRET_NAME = "kestrel/test/dataforseo"


class StandInClock:
    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2026, 12, 5, 6, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def store_login(login: str, password: str, name: str = SECRET_NAME) -> None:
    secrets = boto3.client("secretsmanager", region_name=REGION)
    value = json.dumps({"login": login, "password": password})
    try:
        secrets.put_secret_value(SecretId=name, SecretString=value)
    except ClientError:
        secrets.create_secret(Name=name, SecretString=value)


@contextmanager
def dataforseo_stand_in(
    *, ready_delay_seconds: float = 0.0, clock: StandInClock | None = None
) -> Iterator[DataForSeoServer]:
    server = DataForSeoServer(
        sites=[DEMO_SITE_URL], ready_delay_seconds=ready_delay_seconds, now=clock or StandInClock()
    ).start()
    store_login(LOCAL_LOGIN, LOCAL_PASSWORD)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KESTREL_DATAFORSEO_API_BASE_URL", server.url)
        patch.setenv("KESTREL_DATAFORSEO_SECRET_NAME", SECRET_NAME)
        patch.setenv("KESTREL_DATAFORSEO_BACKOFF_SECONDS", "0")
        forget_settings()
        forget_client()
        try:
            yield server
        finally:
            server.stop()
    forget_settings()
    forget_client()
