"""A property's Search Console connection: where its credential is and what the last check found.

The credential itself is in Secrets Manager (shared.search_console.credentials); these columns hold only
the secret's name, the credential's kind and its non-secret identity.
"""

import uuid
from typing import Any

from sqlalchemy import func, select, update

from shared.db import TenantSession
from shared.errors import NotFound
from shared.projects.tables import Property


def lock_property(session: TenantSession, project_id: uuid.UUID, property_id: uuid.UUID) -> Property:
    """The property, locked so concurrent connects/disconnects of it apply one after the other."""
    prop = session.scalar(
        select(Property)
        .where(Property.tenant_id == session.tenant_id, Property.project_id == project_id, Property.id == property_id)
        .with_for_update()
    )
    if prop is None:
        raise NotFound(f"Property {property_id} does not exist in project {project_id}.")
    return prop


def set_credential(session: TenantSession, prop: Property, *, kind: str, secret_name: str, identity: str) -> None:
    """A new (or replaced) credential: connected, not yet verified."""
    _set(
        session,
        prop,
        credential_type=kind,
        credential_secret=secret_name,
        credential_identity=identity,
        connection_status="connected",
        connection_checked_at=None,
        connection_error=None,
    )


def clear_credential(session: TenantSession, prop: Property) -> None:
    _set(
        session,
        prop,
        credential_type=None,
        credential_secret=None,
        credential_identity=None,
        connection_status="unconnected",
        connection_checked_at=None,
        connection_error=None,
    )


def record_check(session: TenantSession, prop: Property, *, error: str | None) -> None:
    """The outcome of checking the credential against Search Console: verified, or failed with Google's reason."""
    _set(
        session,
        prop,
        connection_status="failed" if error else "verified",
        connection_error=error,
        connection_checked_at=func.now(),
    )


def _set(session: TenantSession, prop: Property, **values: Any) -> None:
    session.execute(
        update(Property)
        .where(Property.tenant_id == session.tenant_id, Property.id == prop.id)
        .values(updated_at=func.now(), **values)
    )
    session.refresh(prop)
