from collections.abc import Iterator
from contextlib import contextmanager

from shared.auth import Principal
from shared.db import TenantSession, tenant_transaction
from shared.tenancy.data import tenants


@contextmanager
def tenant_scope(principal: Principal) -> Iterator[TenantSession]:
    """The caller's tenant transaction; a token for an unprovisioned organization gets nothing."""
    with tenant_transaction(principal.tenant_id) as session:
        tenants.require(session)
        yield session
