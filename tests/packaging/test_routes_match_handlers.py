"""serverless.yml's routes and the API functions' own routes must say the same thing.

API Gateway checks the route's scopes; the function checks its own declared
permission. Both come from the code under review, so this test keeps them equal:
every template route exists in the function's router with the same permission,
and every router route is exposed by the template. The reports' routes also
equal the reports registry's (the one list of the reports), which api_reports
registers its routes from.
"""

import importlib
from typing import Any

import pytest

from shared.reports.registry import REPORTS
from shared.runtime.http import Authorize
from tests.packaging.sls import PackagedStage


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
