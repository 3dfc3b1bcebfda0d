"""Is this deployment able to serve: database reachable, schema at the code's migration head."""

from functools import cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from pydantic import BaseModel
from sqlalchemy import text

from shared.db import app_engine
from shared.observability import logger

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


class DatabaseHealth(BaseModel):
    reachable: bool
    revision: str | None
    head: str | None
    at_head: bool


class Health(BaseModel):
    status: str
    database: DatabaseHealth


@cache
def migration_head() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def check() -> Health:
    head = migration_head()
    revision: str | None = None
    reachable = False
    try:
        with app_engine().connect() as conn:
            revision = conn.scalar(text("SELECT version_num FROM alembic_version"))
        reachable = True
    except Exception:  # an unreachable database is what this endpoint reports, not an error of its own
        logger.warning("Health check: database unavailable", exc_info=True)
    at_head = reachable and revision == head
    return Health(
        status="ok" if at_head else "degraded",
        database=DatabaseHealth(reachable=reachable, revision=revision, head=head, at_head=at_head),
    )
