"""The caller, as the HTTP API JWT authorizer describes it.

API Gateway has already verified the token (signature, issuer, audience,
expiry, route scopes); the function reads the claims it passes on in
``requestContext.authorizer.jwt.claims``. Tokens come from Auth0 with
Organizations: ``org_id`` is the tenant, ``permissions`` (RBAC) and ``scope``
carry what the caller may do.
"""

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from shared.errors import Forbidden


def _claim_list(value: Any) -> set[str]:
    """A list claim. API Gateway hands claims over as strings: ``"[a b]"`` for arrays."""
    if value is None:
        return set()
    if isinstance(value, list | tuple):
        return {str(item) for item in value}
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1].replace(",", " ")
    return {part.strip().strip('"') for part in text.split() if part.strip()}


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str
    tenant_id: str
    permissions: frozenset[str]

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any] | None) -> "Principal":
        claims = claims or {}
        subject = claims.get("sub")
        tenant_id = claims.get("org_id")
        if not subject:
            raise Forbidden("The token has no subject (sub claim).")
        if not tenant_id:
            raise Forbidden("The token carries no organization (org_id claim): sign in through your organization.")
        permissions = _claim_list(claims.get("permissions")) | _claim_list(claims.get("scope"))
        return cls(subject=str(subject), tenant_id=str(tenant_id), permissions=frozenset(permissions))

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise Forbidden(f"This action needs the '{permission}' permission.")
