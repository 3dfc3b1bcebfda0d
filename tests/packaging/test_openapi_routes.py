"""The served OpenAPI document lists exactly the template's routes, each with the scope API Gateway checks.

And the Lambda artifact ships the reference's assets (serverless-python-requirements' ``slim`` must not
strip them), so ``/v1/docs`` works in AWS as it does locally.
"""

import zipfile

import pytest

from shared.runtime import openapi
from tests.packaging.sls import PackagedStage
from tests.packaging.test_routes_match_handlers import template_routes


@pytest.mark.packaging
def test_the_document_lists_exactly_the_templates_routes_with_their_scopes(pkg: PackagedStage) -> None:
    declared = {route: scope for routes in template_routes(pkg).values() for route, scope in routes.items()}
    document = openapi.build_document(openapi.http_apps())
    documented: dict[tuple[str, str], str | None] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            scopes = [scope for requirement in operation.get("security", []) for scope in requirement["auth0"]]
            assert len(scopes) <= 1, f"{method.upper()} {path}"
            documented[(method.upper(), path)] = scopes[0] if scopes else None
    assert documented == declared
    functions_with_routes = set(template_routes(pkg))
    assert functions_with_routes == set(openapi.http_function_names())


@pytest.mark.packaging
def test_the_artifact_ships_the_references_assets(pkg: PackagedStage) -> None:
    with zipfile.ZipFile(pkg.directory / "kestrel.zip") as archive:
        names = set(archive.namelist())
        for asset in openapi.DOCS_ASSET_TYPES:
            assert f"swagger_ui/static/{asset}" in names, asset
            assert archive.getinfo(f"swagger_ui/static/{asset}").file_size > 100_000
