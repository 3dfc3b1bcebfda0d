"""PostgreSQL for the local stack and the tests.

The embedded PostgreSQL 16 from the ``pgserver`` wheel in a project-local data
directory, unless ``DATABASE_URL`` names a server (a superuser URL) to use
instead. Either way Kestrel gets its own database with the two roles
production has: an owner that runs migrations, and ``kestrel_app``, which the
application uses and which cannot bypass row-level security.
"""

from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from shared.db import APP_ROLE

OWNER_ROLE = "kestrel_owner"


@dataclass(frozen=True)
class LocalDatabase:
    admin_url: str
    owner_url: str
    app_url: str
    name: str


def start_embedded(data_dir: Path) -> str:
    """Start (or attach to) the embedded server and return its superuser URL."""
    import pgserver  # imported here: only the local stack and tests need the wheel

    data_dir.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process, so a second `make up`
    # or test run attaches to it instead of paying for a start.
    server = pgserver.get_server(data_dir, cleanup_mode=None)  # type: ignore[attr-defined]
    return str(server.get_uri())


def _with_database(url: str, database: str, user: str, password: str) -> str:
    parsed: URL = make_url(url).set(
        drivername="postgresql+psycopg", database=database, username=user, password=password
    )
    return parsed.render_as_string(hide_password=False)


def provision(
    admin_url: str,
    database: str,
    *,
    password: str = "kestrel-local",  # noqa: S107 - a local-only database
) -> LocalDatabase:
    """Create the roles and the database if missing (safe to run again)."""
    admin = make_url(admin_url).set(drivername="postgresql")
    conninfo = admin.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # As with Aurora's master user: the owner may manage the application role, without being it.
        for role, extra in ((OWNER_ROLE, sql.SQL(" CREATEROLE")), (APP_ROLE, sql.SQL(" NOBYPASSRLS"))):
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            verb = sql.SQL("ALTER") if exists else sql.SQL("CREATE")
            conn.execute(
                sql.SQL("{} ROLE {} LOGIN PASSWORD {}{}").format(
                    verb, sql.Identifier(role), sql.Literal(password), extra
                )
            )
        conn.execute(
            sql.SQL("GRANT {} TO {} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE").format(
                sql.Identifier(APP_ROLE), sql.Identifier(OWNER_ROLE)
            )
        )
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is None:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(OWNER_ROLE))
            )
    return LocalDatabase(
        admin_url=_with_database(admin_url, database, admin.username or "postgres", admin.password or ""),
        owner_url=_with_database(admin_url, database, OWNER_ROLE, password),
        app_url=_with_database(admin_url, database, APP_ROLE, password),
        name=database,
    )


def drop_database(admin_url: str, database: str) -> None:
    conninfo = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
