from typing import cast

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from shared.db import TenantSession
from shared.errors import UnknownTenant
from shared.tenancy.plans import Plan
from shared.tenancy.tables import Tenant, User


def exists(session: TenantSession) -> bool:
    """Whether the session's tenant is provisioned (RLS shows a tenant only its own row)."""
    return session.scalar(select(Tenant.tenant_id).where(Tenant.tenant_id == session.tenant_id)) is not None


def require(session: TenantSession) -> None:
    """The one check that the session's tenant exists, for requests and messages alike."""
    if not exists(session):
        raise UnknownTenant(f"Unknown tenant {session.tenant_id!r}: the organization has no Kestrel account.")


def touch_user(session: TenantSession, subject: str) -> None:
    """Record the user (Auth0 subject) the first time they act, and when they were last seen."""
    stmt = insert(User).values(tenant_id=session.tenant_id, subject=subject)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[User.tenant_id, User.subject], set_={"last_seen_at": stmt.excluded.last_seen_at}
        )
    )


def plan_of(session: TenantSession) -> Plan:
    """The session's tenant's plan."""
    plan = session.scalar(select(Tenant.plan).where(Tenant.tenant_id == session.tenant_id))
    if plan is None:
        raise UnknownTenant(f"Unknown tenant {session.tenant_id!r}: the organization has no Kestrel account.")
    return cast(Plan, plan)
