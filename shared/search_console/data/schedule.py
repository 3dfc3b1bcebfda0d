"""What the gsc_sync worker reads and writes about properties.

``syncable_properties`` is the one cross-tenant read: the SECURITY DEFINER
function ``kestrel_syncable_properties()`` returns identifiers only (tenant,
property) of active, connected properties, so the 05:00 UTC schedule can fan
out without the application role ever seeing another tenant's rows. Everything
else here runs inside the tenant's own transaction.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, text, update

from shared.db import SystemSession, TenantSession
from shared.jobs.tables import Job
from shared.projects.tables import Property
from shared.search_console.models import SYNCABLE_CONNECTIONS


@dataclass(frozen=True)
class SyncableProperty:
    tenant_id: str
    property_id: uuid.UUID


def syncable_properties(session: SystemSession) -> list[SyncableProperty]:
    """Every active, connected property of every tenant (identifiers only), in a stable order."""
    rows = session.execute(text("SELECT tenant_id, property_id FROM kestrel_syncable_properties()")).all()
    return [SyncableProperty(tenant_id=row.tenant_id, property_id=row.property_id) for row in rows]


def get_property(session: TenantSession, property_id: uuid.UUID) -> Property | None:
    return session.scalar(select(Property).where(Property.tenant_id == session.tenant_id, Property.id == property_id))


def is_syncable(prop: Property) -> bool:
    """What ``kestrel_syncable_properties()`` selects, plus a credential to sync with."""
    return (
        prop.status == "active"
        and prop.connection_status in SYNCABLE_CONNECTIONS
        and prop.credential_secret is not None
    )


def mark_connection_failed(session: TenantSession, property_id: uuid.UUID, *, identity: str, reason: str) -> bool:
    """Record that Google refused the property's credential, unless it was replaced meanwhile by another one."""
    changed = session.execute(
        update(Property)
        .where(
            Property.tenant_id == session.tenant_id,
            Property.id == property_id,
            Property.credential_identity.is_not_distinct_from(identity),
        )
        .values(connection_status="failed", connection_error=reason, connection_checked_at=func.now())
        .returning(Property.id)
    ).first()
    return changed is not None


def scheduled_job(session: TenantSession, project_id: uuid.UUID, kind: str, schedule_key: str) -> Job | None:
    """The job an earlier attempt of a scheduled sync created (its enqueue may not have happened)."""
    return session.scalar(
        select(Job).where(
            Job.tenant_id == session.tenant_id,
            Job.project_id == project_id,
            Job.kind == kind,
            Job.input["schedule_key"].astext == schedule_key,
        )
    )
