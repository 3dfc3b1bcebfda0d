import uuid

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from kestrel_local.postgres import drop_database, provision
from shared.db import make_engine
from shared.health import migration_head
from shared.migrate import downgrade, upgrade
from shared.schema import TENANT_TABLES, include_name, metadata


def test_upgrade_from_empty_and_downgrade_to_base(admin_url):
    name = f"kestrel_mig_{uuid.uuid4().hex[:8]}"
    db = provision(admin_url, name)
    engine = make_engine(make_url(db.owner_url), pool_size=1)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            assert set(TENANT_TABLES) <= set(inspect(conn).get_table_names())
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == migration_head()
        downgrade(engine, "base")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) == {"alembic_version"}
            assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == 0
        upgrade(engine)  # and back up again: the downgrade left nothing behind that blocks it
    finally:
        engine.dispose()
        drop_database(admin_url, name)


def test_models_agree_with_migrations(platform):
    engine = make_engine(make_url(platform.owner_url), pool_size=1)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(
                MigrationContext.configure(conn, opts={"include_name": include_name}), metadata
            )
        assert differences == []
    finally:
        engine.dispose()
