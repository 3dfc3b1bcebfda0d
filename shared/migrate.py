"""Bring the schema to the code's migration head, as the owner, and let the application role log in."""

from alembic import command
from alembic.config import Config
from psycopg import sql
from sqlalchemy import Engine

from shared import aws
from shared.db import APP_ROLE, make_engine, owner_url
from shared.health import MIGRATIONS_DIR
from shared.settings import Database, MigrationDatabase, settings_of


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    with engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def set_app_role_password(engine: Engine, settings: Database) -> None:
    """In AWS the application role's password lives in Secrets Manager; give the role that password."""
    if settings.db_secret_arn is None:
        return
    password = aws.secret_json(settings.db_secret_arn)["password"]
    with engine.begin() as conn:
        statement = sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(APP_ROLE), sql.Literal(password))
        conn.exec_driver_sql(statement.as_string())


def migrate_to_head() -> None:
    engine = make_engine(owner_url(settings_of(MigrationDatabase)), pool_size=1)
    try:
        upgrade(engine)
        set_app_role_password(engine, settings_of(Database))
    finally:
        engine.dispose()
