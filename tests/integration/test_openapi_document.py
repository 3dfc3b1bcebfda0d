"""The one OpenAPI document (every HTTP function's routes) and the reference served beside it.

Served by api_projects: ``/v1/openapi.json``, ``/v1/docs`` and its assets. That
the document lists exactly serverless.yml's routes with their scopes is
tests/packaging/test_openapi_routes.py; that the API answers as it says is
tests/test_openapi_conformance.py.
"""

import base64
import gzip
import json
import re
from typing import Any

import pytest

from kestrel_local.lambda_context import LocalLambdaContext
from shared.runtime import openapi
from tests.support.api import ApiClient
from tests.support.http_events import claims, http_event
from tests.support.tenants import new_tenant

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def public(projects_handler: Any) -> ApiClient:
    return ApiClient(projects_handler, "api_projects", "unused")


@pytest.fixture(scope="module")
def document(public: ApiClient) -> dict[str, Any]:
    reply = public.get("/v1/openapi.json", authenticated=False)
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    served: dict[str, Any] = reply.json
    return served


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in document["paths"].items() for method, op in item.items()]


def test_the_document_covers_every_http_function(document):
    served = {(method.upper(), path) for method, path, _ in operations(document)}
    for function, app in openapi.http_apps().items():
        assert set(openapi.route_scopes(app)) <= served, function
    assert "/v1/projects/{project_id}/properties/{property_id}/reports/performance" in document["paths"]
    assert "/v1/projects/{project_id}/jobs/{job_id}/cancel" in document["paths"]
    assert document["openapi"].startswith("3.1")


def test_the_jwt_scheme_is_the_issuers_openid_connect_discovery(document):
    issuer = "https://kestrel.eu.auth0.com/"
    built = openapi.build_document(openapi.http_apps(), issuer=issuer)
    assert built["components"]["securitySchemes"] == {
        "auth0": {"type": "openIdConnect", "openIdConnectUrl": f"{issuer}.well-known/openid-configuration"}
    }
    assert document["paths"]["/v1/projects"]["post"]["security"] == [{"auth0": ["write:projects"]}]


def test_every_protected_route_lists_the_problems_it_can_answer(document):
    for method, path, op in operations(document):
        responses = op["responses"]
        label = f"{method.upper()} {path}"
        assert responses["422"]["content"] == {
            PROBLEM: {"schema": {"$ref": "#/components/schemas/ValidationProblem"}}
        }, label
        if not op.get("security"):
            continue
        expected = {"400", "401", "403", "422", "503"}
        expected |= {"404"} if "{" in path else set()
        expected |= {"409"} if method != "get" else set()
        assert expected <= set(responses), label
        for status in expected:
            assert PROBLEM in responses[status]["content"], (label, status)
        for gateway_status in ("401", "403", "503"):  # API Gateway's own {"message": ...} too
            assert "application/json" in responses[gateway_status]["content"], (label, gateway_status)
    problem = document["components"]["schemas"]["Problem"]
    assert problem["required"] == ["type", "title", "status", "detail"]


def test_no_content_answers_document_no_body(document):
    deletes = [op for method, _, op in operations(document) if method == "delete"]
    assert deletes
    for op in deletes:
        assert "content" not in op["responses"]["204"]


def test_the_schemas_state_the_validation_rules(document):
    schemas = document["components"]["schemas"]
    project = schemas["ProjectIn"]["properties"]
    assert project["domain"]["minLength"] == 1
    assert project["domain"]["pattern"]
    assert project["name"]["maxLength"] == 200
    assert schemas["KeywordIn"]["properties"]["text"]["minLength"] == 1
    assert schemas["PropertyIn"]["properties"]["site_url"]["minLength"] == 1
    assert schemas["PropertyIn"]["properties"]["site_url"]["pattern"]
    performance = document["paths"]["/v1/projects/{project_id}/properties/{property_id}/reports/performance"]["get"]
    parameters = {p["name"]: p["schema"] for p in performance["parameters"]}
    assert parameters["limit"]["minimum"] == 1
    assert parameters["limit"]["maximum"] >= 1000
    assert parameters["granularity"]["enum"] == ["day", "week", "month"]
    assert parameters["country"]["pattern"] == "^[a-z]{3}$"
    assert parameters["start_date"]["format"] == "date"
    keywords = document["paths"]["/v1/projects/{project_id}/keywords"]["get"]
    assert {p["name"]: p["schema"] for p in keywords["parameters"]}["tag"] == {
        "type": "string",
        "maxLength": 50,
        "title": "Tag",
        "description": "Only keywords with this tag.",
    }


@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        ({"name": "Acme", "domain": ""}, "string_too_short"),
        ({"name": "Acme", "domain": "localhost"}, "string_pattern_mismatch"),
        ({"name": "   ", "domain": "acme.com"}, "string_too_short"),
    ],
)
def test_the_stated_rules_are_the_ones_that_reject(api, payload, rule):
    reply = api.post("/v1/projects", payload)
    assert reply.status == 422
    assert reply.headers["Content-Type"] == PROBLEM
    assert rule in {error["type"] for error in reply.json["errors"]}


def test_a_body_that_is_not_utf8_is_a_400_problem(projects_handler, platform):
    # API Gateway hands a body that is not UTF-8 over base64-encoded, whatever its content type says.
    body = base64.b64encode(b'{"name": "\xff\xfe", "domain": "acme.com"}').decode()
    event = http_event("POST", "/v1/projects", raw_body=body, jwt_claims=claims(new_tenant(platform.owner_url)))
    event["isBase64Encoded"] = True
    response = projects_handler(event, LocalLambdaContext(function_name="api_projects"))
    assert response["statusCode"] == 400
    assert response["headers"]["Content-Type"] == PROBLEM
    assert json.loads(response["body"])["detail"] == "The request body is not valid UTF-8."


def test_null_in_a_patch_keeps_the_value_and_nul_is_a_422(api, project):
    path = f"/v1/projects/{project['id']}"
    kept = api.patch(path, {"name": None, "brand_terms": None})
    assert kept.status == 200
    assert (kept.json["name"], kept.json["brand_terms"]) == (project["name"], project["brand_terms"])
    nul = api.patch(path, {"name": "Acme\u0000"})
    assert nul.status == 422
    assert nul.headers["Content-Type"] == PROBLEM


def test_the_reference_page_loads_its_assets_from_the_stack(public):
    page = public.get("/v1/docs", authenticated=False)
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.raw)
    assert sorted(sources) == ["docs/swagger-ui-bundle.js", "docs/swagger-ui.css"]  # relative: no CDN
    assert 'url: "openapi.json"' in page.raw
    for asset, media in openapi.DOCS_ASSET_TYPES.items():
        reply = public.get(f"/v1/docs/{asset}", authenticated=False)
        assert reply.status == 200, asset
        assert reply.headers["Content-Type"] == media
        assert len(reply.raw) > 100_000, asset
    assert "SwaggerUIBundle" in public.get("/v1/docs/swagger-ui-bundle.js", authenticated=False).raw


def test_assets_are_gzipped_when_the_client_accepts_it(projects_handler):
    event = http_event("GET", "/v1/docs/swagger-ui.css", route="/v1/docs/{asset}", headers={"accept-encoding": "gzip"})
    response = projects_handler(event, LocalLambdaContext(function_name="api_projects"))
    assert response["statusCode"] == 200
    assert response["isBase64Encoded"] is True
    css = gzip.decompress(base64.b64decode(response["body"])).decode()
    assert css == openapi.docs_asset("swagger-ui.css")


def test_an_unknown_asset_is_refused(public):
    reply = public.get("/v1/docs/settings.py", authenticated=False)
    assert reply.status == 422
    assert json.loads(reply.raw)["status"] == 422
