"""serverless.yml's routes and the API functions' own routes must say the same thing.

API Gateway checks the route's scopes; the function checks its own declared
permission. Both come from the code under review, so this test keeps them equal:
every template route exists in the function's router with the same permission,
and every router route is exposed by the template. The template's routes, their
JWT authorizer and the API's CORS are serverless.yml's. The reports' routes also
equal the reports registry's (the one list of the reports), which api_reports
registers its routes from.
"""

import importlib
import json
from typing import Any

import pytest

from shared.reports.registry import REPORTS
from shared.runtime.http import Authorize
from tests.packaging.sls import PackagedStage
from tests.packaging.template import as_list


def _function_of(resources: dict[str, Any], integration_ref: dict[str, Any]) -> str:
    integration = resources[integration_ref["Fn::Join"][1][1]["Ref"]]
    uri = integration["Properties"]["IntegrationUri"]
    if "Fn::Join" in uri:  # the provisioned-concurrency alias: "<function arn>:provisioned"
        uri = uri["Fn::Join"][1][0]
    logical = uri["Fn::GetAtt"][0]
    physical: str = resources[logical]["Properties"]["FunctionName"]
    return physical.split("-", 2)[2]  # kestrel-<stage>-<function>


def template_routes(pkg: PackagedStage) -> dict[str, dict[tuple[str, str], str | None]]:
    by_function: dict[str, dict[tuple[str, str], str | None]] = {}
    for resource in pkg.resources.values():
        if resource["Type"] != "AWS::ApiGatewayV2::Route":
            continue
        props = resource["Properties"]
        method, path = props["RouteKey"].split(" ", 1)
        scopes = props.get("AuthorizationScopes") or [None]
        assert len(scopes) == 1, f"{props['RouteKey']}: one permission per route"
        function = _function_of(pkg.resources, props["Target"])
        by_function.setdefault(function, {})[(method, path)] = scopes[0]
    return by_function


def handler_routes(function: str) -> dict[tuple[str, str], str | None]:
    app = importlib.import_module(f"functions.{function}.handler").app
    routes: dict[tuple[str, str], str | None] = {}
    for route in app._static_routes + app._dynamic_routes:
        permissions = [mw.permission for mw in route.middlewares or [] if isinstance(mw, Authorize)]
        routes[(route.method, route.openapi_path)] = permissions[0] if permissions else None
    return routes


@pytest.mark.packaging
def test_every_route_is_declared_once_with_the_same_permission(pkg: PackagedStage) -> None:
    declared = template_routes(pkg)
    assert declared, "the template has no HTTP routes"
    for function, routes in declared.items():
        assert routes == handler_routes(function), function


@pytest.mark.packaging
def test_api_reports_deploys_exactly_the_registered_reports(pkg: PackagedStage) -> None:
    from functions.api_reports.handler import READ

    registered = {("GET", spec.path): READ for spec in REPORTS.values()}
    assert template_routes(pkg)["api_reports"] == registered


def declared_routes(pkg: PackagedStage) -> dict[str, dict[tuple[str, str], str | None]]:
    """serverless.yml's httpApi events by function: (method, path) -> the one scope, if any."""
    by_function: dict[str, dict[tuple[str, str], str | None]] = {}
    for function, declared in pkg.functions.items():
        for event in declared.get("events", []):
            if "httpApi" in event:
                http = event["httpApi"]
                scopes = http.get("authorizer", {}).get("scopes") or [None]
                by_function.setdefault(function, {})[(http["method"].upper(), http["path"])] = scopes[0]
    return by_function


@pytest.mark.packaging
def test_the_templates_routes_are_serverless_ymls(pkg: PackagedStage) -> None:
    assert template_routes(pkg) == declared_routes(pkg)


@pytest.mark.packaging
def test_every_scoped_route_goes_through_the_jwt_authorizer_and_no_other_does(pkg: PackagedStage) -> None:
    [(authorizer_id, _)] = pkg.of_type("AWS::ApiGatewayV2::Authorizer").items()
    for resource in pkg.of_type("AWS::ApiGatewayV2::Route").values():
        route = resource["Properties"]
        key = route["RouteKey"]
        if route.get("AuthorizationScopes"):
            assert route["AuthorizationType"] == "JWT", key
            assert route["AuthorizerId"] == {"Ref": authorizer_id}, key
        else:
            assert "AuthorizerId" not in route, key
            assert route.get("AuthorizationType", "NONE") == "NONE", key


@pytest.mark.packaging
def test_the_jwt_authorizer_is_serverless_ymls(pkg: PackagedStage) -> None:
    declared = pkg.config["provider"]["httpApi"]["authorizers"]
    [(name, settings)] = declared.items()
    [authorizer] = pkg.of_type("AWS::ApiGatewayV2::Authorizer").values()
    props = authorizer["Properties"]
    assert props["Name"] == name
    assert props["AuthorizerType"] == "JWT"
    assert props["IdentitySource"] == [settings["identitySource"]]
    audience = as_list(settings["audience"])
    assert props["JwtConfiguration"] == {"Issuer": settings["issuerUrl"], "Audience": audience}
    # The functions check the same issuer's tokens as the gateway.
    for function, declared_function in pkg.functions.items():
        issuer = declared_function.get("environment", {}).get("KESTREL_AUTH_ISSUER")
        assert issuer in (None, settings["issuerUrl"]), function


@pytest.mark.packaging
def test_http_api_cors_is_serverless_ymls_and_access_logs_are_json(pkg: PackagedStage) -> None:
    declared = pkg.config["provider"]["httpApi"]["cors"]
    [api] = pkg.of_type("AWS::ApiGatewayV2::Api").values()
    cors = api["Properties"]["CorsConfiguration"]
    assert set(cors["AllowHeaders"]) == set(declared["allowedHeaders"])
    assert set(cors["AllowMethods"]) == set(declared["allowedMethods"])
    assert set(cors["AllowOrigins"]) == set(declared["allowedOrigins"])
    assert api["Properties"]["DisableExecuteApiEndpoint"] is pkg.config["provider"]["httpApi"]["disableDefaultEndpoint"]
    [stage] = pkg.of_type("AWS::ApiGatewayV2::Stage").values()
    fields = json.loads(stage["Properties"]["AccessLogSettings"]["Format"])
    assert {"requestId", "routeKey", "status", "latency", "ip", "sub"} <= set(fields)
    assert fields["sub"] == "$context.authorizer.claims.sub"
