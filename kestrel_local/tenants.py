"""Provisioning tenants as an operator does: through the owner connection, under the tenant's own context."""

import psycopg
from sqlalchemy.engine import make_url


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def owner_connection(owner_url: str) -> psycopg.Connection:
    return psycopg.connect(_conninfo(owner_url))


def ensure_tenant(owner_url: str, tenant_id: str, name: str) -> bool:
    """Create the tenant if it does not exist; True when it was created."""
    with owner_connection(owner_url) as conn:
        # FORCEd row-level security applies to the owner too: act within the tenant's context.
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
        created = conn.execute(
            "INSERT INTO tenants (tenant_id, name) VALUES (%s, %s) ON CONFLICT (tenant_id) DO NOTHING RETURNING 1",
            (tenant_id, name),
        ).fetchone()
    return created is not None
