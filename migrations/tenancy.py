"""Row-level security and grants for tenant tables, shared by the migrations.

Policies read the transaction-local setting ``app.tenant_id`` (set by
``shared.db.tenant_transaction``). With no tenant context the setting is
empty or NULL, so nothing is visible and nothing can be written. RLS is also
FORCEd, so the owner is subject to it too; only a superuser is not.
"""

import sqlalchemy as sa
from alembic import op

APP_ROLE = "kestrel_app"  # the same name as shared.db.APP_ROLE; kept literal so migrations stay frozen


def ensure_app_role() -> None:
    op.execute(
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            CREATE ROLE {APP_ROLE} NOLOGIN NOBYPASSRLS;
          END IF;
        END $$;
        """
    )


def protect_tenant_table(table: str, *, privileges: str = "SELECT, INSERT, UPDATE, DELETE") -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table}"
        " USING (tenant_id = current_setting('app.tenant_id', true))"
        " WITH CHECK (tenant_id = current_setting('app.tenant_id', true))"
    )
    op.execute(f"GRANT {privileges} ON {table} TO {APP_ROLE}")


def unprotect_tenant_table(table: str) -> None:
    op.execute(f"REVOKE ALL ON {table} FROM {APP_ROLE}")
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")


def create_hash_partitions(table: str, count: int) -> None:
    """``count`` hash partitions of ``table``, each with the forced tenant policy and no grants.

    A partition queried directly is subject only to its own policies, so each carries the parent's; the
    application role reaches the rows only through the parent.
    """
    for remainder in range(count):
        partition = f"{table}_p{remainder:02d}"
        op.execute(
            f"CREATE TABLE {partition} PARTITION OF {table} FOR VALUES WITH (MODULUS {count}, REMAINDER {remainder})"
        )
        op.execute(f"ALTER TABLE {partition} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {partition} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {partition}"
            " USING (tenant_id = current_setting('app.tenant_id', true))"
            " WITH CHECK (tenant_id = current_setting('app.tenant_id', true))"
        )
        op.execute(f"REVOKE ALL ON {partition} FROM PUBLIC, {APP_ROLE}")


def property_fk(table: str) -> sa.ForeignKeyConstraint:
    """A Search Console table's reference to its property, through ``(tenant_id, id)``, deleted with it."""
    return sa.ForeignKeyConstraint(
        ["tenant_id", "property_id"],
        ["properties.tenant_id", "properties.id"],
        name=op.f(f"fk_{table}_tenant_id_property_id_properties"),
        ondelete="CASCADE",
    )
