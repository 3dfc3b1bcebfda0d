from collections.abc import Iterator
from contextlib import contextmanager

from shared.auth import Principal
from shared.db import TenantSession, tenant_transaction
from shared.errors import Forbidden
from shared.tenancy.data import tenants


@contextmanager
def tenant_scope(principal: Principal) -> Iterator[TenantSession]:
    """The caller's tenant transaction; a token for an unprovisioned organization gets nothing."""
    with tenant_transaction(principal.tenant_id) as session:
        if not tenants.exists(session):
            raise Forbidden(f"Organization {principal.tenant_id} has no Kestrel account.")
        yield session
