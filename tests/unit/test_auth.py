import pytest

from shared.auth import Principal
from shared.errors import Forbidden


def test_claims_as_api_gateway_passes_them():
    principal = Principal.from_claims(
        {"sub": "auth0|1", "org_id": "org_1", "permissions": "[read:projects write:projects]", "scope": "openid"}
    )
    assert principal.tenant_id == "org_1"
    assert principal.permissions == {"read:projects", "write:projects", "openid"}


def test_claims_as_json_lists():
    principal = Principal.from_claims({"sub": "s", "org_id": "o", "permissions": ["read:projects"]})
    assert principal.permissions == {"read:projects"}


@pytest.mark.parametrize("claims", [{}, {"sub": "s"}, {"org_id": "o"}, None])
def test_missing_subject_or_organization_is_forbidden(claims):
    with pytest.raises(Forbidden):
        Principal.from_claims(claims)


def test_require_names_the_missing_permission():
    principal = Principal(subject="s", tenant_id="o", permissions=frozenset({"read:projects"}))
    principal.require("read:projects")
    with pytest.raises(Forbidden, match="write:projects"):
        principal.require("write:projects")
