"""Provisioning tenants as an operator does: through the owner connection, under the tenant's own context."""

import uuid

import psycopg

from shared.db import _psycopg_url


def _conninfo(url: str) -> str:
    return _psycopg_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def new_tenant(owner_url: str, name: str = "Test tenant") -> str:
    tenant_id = f"org_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(_conninfo(owner_url)) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
        conn.execute("INSERT INTO tenants (tenant_id, name) VALUES (%s, %s)", (tenant_id, name))
    return tenant_id


def owner_connection(owner_url: str) -> psycopg.Connection:
    return psycopg.connect(_conninfo(owner_url))
