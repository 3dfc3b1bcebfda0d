"""Alembic environment: migrations run as the schema owner, never as the application role."""

from alembic import context
from sqlalchemy import Connection

from shared.db import make_engine, owner_url
from shared.schema import include_name, metadata
from shared.settings import MigrationDatabase, settings_of

target_metadata = metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        transaction_per_migration=True,
        include_name=include_name,  # table partitions are not models
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    engine = make_engine(owner_url(settings_of(MigrationDatabase)), pool_size=1)
    with engine.connect() as conn:
        run_migrations(conn)
    engine.dispose()
