"""Bringing the local platform up: PostgreSQL, the AWS emulator, the schema and demo data."""

import os
import signal
import threading
from dataclasses import dataclass

from kestrel_local.config import LocalSettings
from kestrel_local.moto_server import MotoServer, start_moto
from kestrel_local.postgres import LocalDatabase, provision, start_embedded


@dataclass
class RunningStack:
    database: LocalDatabase
    aws_endpoint: str
    moto: MotoServer | None

    def stop(self) -> None:
        if self.moto is not None:
            self.moto.stop()


def configure_runtime(database: LocalDatabase, aws_endpoint: str, settings: LocalSettings) -> None:
    """Give this process the environment a Lambda of the local stage gets."""
    os.environ.update(
        {
            "KESTREL_STAGE": "local",
            "KESTREL_DATABASE_URL": database.app_url,
            "KESTREL_MIGRATION_DATABASE_URL": database.owner_url,
            "AWS_ENDPOINT_URL": aws_endpoint,
            "AWS_REGION": settings.region,
            "AWS_DEFAULT_REGION": settings.region,
        }
    )
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
    from shared import aws, db
    from shared import settings as shared_settings

    shared_settings.get_settings.cache_clear()
    aws.client.cache_clear()
    db.app_engine.cache_clear()
    db._tenant_sessions.cache_clear()


def start(settings: LocalSettings) -> RunningStack:
    admin_url = settings.database_url or start_embedded(settings.state_dir / "postgres")
    database = provision(admin_url, settings.database_name)
    moto = None if settings.aws_endpoint_url else start_moto(settings.aws_port)
    endpoint = settings.aws_endpoint_url or (moto.endpoint if moto else "")
    configure_runtime(database, endpoint, settings)
    from shared.migrate import migrate_to_head

    migrate_to_head()
    return RunningStack(database=database, aws_endpoint=endpoint, moto=moto)


def wait_for_interrupt() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
