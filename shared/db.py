"""Database access: engines, and the tenant-scoped transaction every tenant query runs in.

The application connects as ``kestrel_app``: a role that owns no table and
cannot bypass row-level security. Each tenant transaction sets
``app.tenant_id`` with ``set_config(..., true)`` (transaction-local), which the
RLS policies read; nothing outlives the transaction, so connections are safe to
share behind RDS Proxy without pinning. Server-side prepared statements are
disabled for the same reason.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from shared import aws
from shared.settings import Database, MigrationDatabase, settings_of

APP_ROLE = "kestrel_app"
UNIQUE_VIOLATION = "23505"


class TenantSession(Session):
    """A session inside a transaction bound to one tenant. Data-access functions require it."""

    tenant_id: str


def _psycopg_url(raw: str) -> URL:
    url = make_url(raw)
    return url.set(drivername="postgresql+psycopg")


def _url_from_secret(secret_id: str, settings: Database) -> URL:
    creds = aws.secret_json(secret_id)
    return URL.create(
        "postgresql+psycopg",
        username=creds["username"],
        password=creds["password"],
        host=settings.db_host or creds.get("host"),
        port=settings.db_port,
        database=settings.db_name,
        query={"sslmode": settings.db_sslmode},
    )


def app_url(settings: Database) -> URL:
    if settings.database_url is not None:
        return _psycopg_url(settings.database_url.get_secret_value())
    if settings.db_secret_arn is None:  # Database's validator rules this out; mypy needs the narrowing
        raise RuntimeError(
            "No database configured: set KESTREL_DATABASE_URL, or KESTREL_DB_HOST and KESTREL_DB_SECRET_ARN"
        )
    return _url_from_secret(settings.db_secret_arn, settings)


def owner_url(settings: MigrationDatabase) -> URL:
    """The schema owner's URL: for migrations only."""
    if settings.migration_database_url is not None:
        return _psycopg_url(settings.migration_database_url.get_secret_value())
    if settings.db_owner_secret_arn is None:
        raise RuntimeError(
            "No owner database configured: set KESTREL_MIGRATION_DATABASE_URL or KESTREL_DB_OWNER_SECRET_ARN"
        )
    return _url_from_secret(settings.db_owner_secret_arn, settings_of(Database))


def make_engine(url: URL, *, pool_size: int = 2) -> Engine:
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=2,
        pool_pre_ping=True,  # RDS Proxy and frozen Lambdas close idle connections
        pool_recycle=300,
        connect_args={"prepare_threshold": None, "application_name": "kestrel"},
    )


@cache
def app_engine() -> Engine:
    """One engine per execution environment: connections are reused across warm invocations."""
    return make_engine(app_url(settings_of(Database)))


@cache
def _tenant_sessions() -> sessionmaker[TenantSession]:
    return sessionmaker(app_engine(), class_=TenantSession, expire_on_commit=False)


@contextmanager
def tenant_transaction(tenant_id: str) -> Iterator[TenantSession]:
    """A transaction in which only ``tenant_id``'s rows are visible or writable.

    Commits when the block ends, rolls back on an exception.
    """
    settings = settings_of(Database)
    with _tenant_sessions()() as session, session.begin():
        session.tenant_id = tenant_id
        session.execute(
            text(
                "SELECT set_config('app.tenant_id', :tenant_id, true),"
                " set_config('lock_timeout', :lock_timeout, true),"
                " set_config('statement_timeout', :statement_timeout, true)"
            ),
            {
                "tenant_id": tenant_id,
                "lock_timeout": f"{settings.db_lock_timeout_ms}ms",
                "statement_timeout": f"{settings.db_statement_timeout_ms}ms",
            },
        )
        yield session


class SystemSession(Session):
    """A transaction bound to no tenant: row-level security shows it no tenant's rows.

    Only cross-tenant reads take it (the schedules' fan-outs), and they read through SECURITY DEFINER
    functions that return identifiers alone (``kestrel_syncable_properties()``, ``kestrel_rollup_backlog()``).
    """


@cache
def _system_sessions() -> sessionmaker[SystemSession]:
    return sessionmaker(app_engine(), class_=SystemSession, expire_on_commit=False)


@contextmanager
def system_transaction() -> Iterator[SystemSession]:
    """The one explicit way to read across tenants: no tenant set, so no tenant table is visible."""
    with _system_sessions()() as session, session.begin():
        session.execute(text("SELECT set_config('app.tenant_id', '', true)"))
        yield session


def is_unique_violation(exc: Exception) -> bool:
    return getattr(getattr(exc, "orig", None), "sqlstate", None) == UNIQUE_VIOLATION
