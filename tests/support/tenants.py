import uuid

from kestrel_local.tenants import ensure_tenant, owner_connection

__all__ = ["new_tenant", "owner_connection"]


def new_tenant(owner_url: str, name: str = "Test tenant") -> str:
    tenant_id = f"org_{uuid.uuid4().hex[:16]}"
    ensure_tenant(owner_url, tenant_id, name)
    return tenant_id
