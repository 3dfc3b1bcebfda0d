"""Connecting a property to Search Console: its credential, kept in Secrets Manager, and checking it works.

The credential is written to its own secret and never read back to a caller, nor logged: the API shows
only its kind and identity (service account e-mail or OAuth client id). Verifying calls Search Console
with it; a rejected credential is an outcome recorded on the property (``failed`` with Google's reason),
not an error of the request.
"""

import uuid

from shared.auth import Principal
from shared.errors import Conflict, PermanentError, ServiceUnavailable, TransientError
from shared.projects.data import projects
from shared.projects.tables import Property
from shared.search_console import client as gsc_client
from shared.search_console import credentials
from shared.search_console.data import connections
from shared.search_console.models import ConnectionIn, ConnectionOut
from shared.tenancy.scope import tenant_scope


class SearchConsoleUnavailable(ServiceUnavailable):
    """Search Console did not answer (throttled or down) even after retries: nothing was recorded."""

    title = "Search Console unavailable"


def connection_out(prop: Property) -> ConnectionOut:
    return ConnectionOut(
        property_id=prop.id,
        site_url=prop.site_url,
        connection_status=prop.connection_status,
        credential_type=prop.credential_type,
        credential_identity=prop.credential_identity,
        connection_checked_at=prop.connection_checked_at,
        connection_error=prop.connection_error,
    )


def connect(
    principal: Principal, project_id: uuid.UUID, property_id: uuid.UUID, data: ConnectionIn
) -> tuple[ConnectionOut, bool]:
    """Store (or replace) the property's credential. Returns the connection and whether it is new."""
    credential = data.credential
    with tenant_scope(principal) as session:
        prop = connections.lock_property(session, project_id, property_id)
        created = prop.credential_secret is None
        name = credentials.store(principal.tenant_id, property_id, credential)
        connections.set_credential(
            session, prop, kind=credential.type, secret_name=name, identity=credentials.identity(credential)
        )
        return connection_out(prop), created


def get_connection(principal: Principal, project_id: uuid.UUID, property_id: uuid.UUID) -> ConnectionOut:
    with tenant_scope(principal) as session:
        return connection_out(projects.get_property(session, project_id, property_id))


def disconnect(principal: Principal, project_id: uuid.UUID, property_id: uuid.UUID) -> None:
    """Delete the credential (at once: it must stop working) and forget it. Disconnecting twice is fine."""
    with tenant_scope(principal) as session:
        prop = connections.lock_property(session, project_id, property_id)
        # The secret goes first: if the commit failed after, syncs would find it gone, not keep using it.
        credentials.delete(prop.credential_secret or credentials.secret_name(principal.tenant_id, property_id))
        connections.clear_credential(session, prop)


def verify(principal: Principal, project_id: uuid.UUID, property_id: uuid.UUID) -> ConnectionOut:
    """Check the credential can read the property's Search Analytics; record ``verified`` or ``failed``."""
    with tenant_scope(principal) as session:
        prop = projects.get_property(session, project_id, property_id)
        if prop.credential_secret is None:
            raise Conflict(
                f"Property {prop.site_url} has no Search Console credential to verify; "
                "connect it first (PUT its connection with a credential)."
            )
        secret, site_url, identity = prop.credential_secret, prop.site_url, prop.credential_identity
    # No transaction is held while Search Console answers.
    error = _check_access(secret, site_url)
    with tenant_scope(principal) as session:
        prop = connections.lock_property(session, project_id, property_id)
        if (prop.credential_secret, prop.credential_identity) != (secret, identity):
            raise Conflict("The credential was replaced or removed while it was being verified; verify again.")
        connections.record_check(session, prop, error=error)
        return connection_out(prop)


def _check_access(secret: str, site_url: str) -> str | None:
    """None when the credential works for ``site_url``; otherwise why not, as Google (or the secret) says."""
    try:
        credential = credentials.load(secret)
        gsc_client.verify_access(credential, site_url)
    except TransientError as exc:
        raise SearchConsoleUnavailable(
            f"Search Console did not answer the check ({exc.detail}); try again in a minute."
        ) from exc
    except PermanentError as exc:  # CredentialRejected: revoked, invalid, or no access to the site
        return exc.detail
    return None
