"""The one OpenAPI document of the whole HTTP API, and the browsable reference served beside it.

Every HTTP function has its own Powertools app; the document merges what each
app declares (routes, models, the JWT scope each route requires) and then
states what the runtime adds to every route: the problem-details answers of
``shared.runtime.http`` and API Gateway's own JSON answers (401, 403, 503).
The reference is Swagger UI, its JS and CSS read from the pinned
``swagger-ui-py`` wheel: the stack serves them itself, so it works offline.
"""

import copy
import importlib
import json
from functools import cache
from importlib import resources
from typing import Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.models import OpenIdConnect, SecurityScheme
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponseContentModel, OpenAPIResponseContentSchema
from pydantic import BaseModel

from shared.runtime.http import PROBLEM_JSON, SECURITY_SCHEME, Authorize

TITLE = "Kestrel API"
VERSION = "1.0.0"
# The HTTP functions are the `functions/api_*` packages; tests/packaging proves these are exactly the
# template's functions with HTTP routes, so the document always covers every route of serverless.yml.
FUNCTIONS_PACKAGE = "functions"
HTTP_FUNCTION_PREFIX = "api_"
DEFAULT_ISSUER = "https://auth.example.com/"
SCHEMA_REF = "#/components/schemas/{model}"

_PROBLEM = {"$ref": "#/components/schemas/Problem"}
_VALIDATION_PROBLEM = {"$ref": "#/components/schemas/ValidationProblem"}
_GATEWAY_MESSAGE = {"$ref": "#/components/schemas/GatewayMessage"}
_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "title": "Problem",
        "description": "RFC 9457 problem details; some problems add fields (such as `field`).",
        "type": "object",
        "properties": {
            "type": {"type": "string", "description": "Always `about:blank`: `status` and `title` say it all."},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string", "description": "What went wrong with this request."},
        },
        "required": ["type", "title", "status", "detail"],
    },
    "ValidationProblem": {
        "title": "ValidationProblem",
        "description": "A problem naming each invalid field of the request.",
        "allOf": [
            _PROBLEM,
            {
                "type": "object",
                "properties": {
                    "errors": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "field": {"type": "string", "description": "`keywords[3].text`, `limit`, `body`."},
                                "message": {"type": "string"},
                                "type": {"type": "string", "description": "The rule broken, e.g. `string_too_long`."},
                            },
                            "required": ["field", "message", "type"],
                        },
                    }
                },
                "required": ["errors"],
            },
        ],
    },
    "GatewayMessage": {
        "title": "GatewayMessage",
        "description": "API Gateway's own answer, before or instead of the function's.",
        "type": "object",
        "properties": {"message": {"type": "string"}},
        "required": ["message"],
    },
}


def _problem(description: str, schema: dict[str, Any] = _PROBLEM) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": schema}}}


def _problem_or_gateway(description: str) -> dict[str, Any]:
    response = _problem(description)
    response["content"]["application/json"] = {"schema": _GATEWAY_MESSAGE}
    return response


_BAD_REQUEST = _problem(
    "The request cannot be read (a body that is not UTF-8), or breaks a rule beyond its schema (such as a date range)."
)
_UNAUTHORIZED = _problem_or_gateway("No valid bearer token: API Gateway's JWT authorizer answers.")
_FORBIDDEN = _problem_or_gateway("The token lacks the route's scope.")
_NOT_FOUND = _problem("No such resource, or another tenant's (they look the same).")
_CONFLICT = _problem("The request conflicts with the current state (a duplicate, or a job or connection's state).")
_UNPROCESSABLE = _problem("A parameter or body field breaks the schema; `errors` names each.", _VALIDATION_PROBLEM)
_UNAVAILABLE = _problem_or_gateway(
    "A service the route needs did not answer in time (the function's problem, or API Gateway's after 30 s)."
)


def http_function_names() -> list[str]:
    # Directories rather than pkgutil: a function's package may have no __init__.py.
    return sorted(
        entry.name
        for entry in resources.files(FUNCTIONS_PACKAGE).iterdir()
        if entry.name.startswith(HTTP_FUNCTION_PREFIX) and entry.joinpath("handler.py").is_file()
    )


def http_apps() -> dict[str, APIGatewayHttpResolver]:
    """Every HTTP function's app by function name, imported on demand (api_projects' cold start skips the others)."""
    apps: dict[str, APIGatewayHttpResolver] = {}
    for name in http_function_names():
        app = importlib.import_module(f"{FUNCTIONS_PACKAGE}.{name}.handler").app
        if not isinstance(app, APIGatewayHttpResolver):
            raise TypeError(f"{name}: its handler module's `app` is not an HTTP app")
        apps[name] = app
    return apps


def _routes(app: APIGatewayHttpResolver) -> list[Any]:
    return list(app._static_routes + app._dynamic_routes)


def route_scopes(app: APIGatewayHttpResolver) -> dict[tuple[str, str], str | None]:
    """(method, OpenAPI path) -> the permission the route requires (None: public)."""
    scopes: dict[tuple[str, str], str | None] = {}
    for route in _routes(app):
        permissions = [mw.permission for mw in route.middlewares or [] if isinstance(mw, Authorize)]
        scopes[(route.method, route.openapi_path)] = permissions[0] if permissions else None
    return scopes


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent rather than null: drop the null branch of ``X | None``."""
    branches = [b for b in schema.get("anyOf", []) if b != {"type": "null"}]
    if "anyOf" not in schema or len(branches) == len(schema["anyOf"]):
        return schema
    rest = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
    return {**branches[0], **rest} if len(branches) == 1 else {**rest, "anyOf": branches}


def _query_model_schemas(app: APIGatewayHttpResolver) -> dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]]:
    """Routes whose query string is one pydantic model: each parameter's full schema, and the models it refers to.

    Powertools documents such parameters by their basic type only; the model's own JSON schema has the rules
    (enums, patterns, ranges, formats).
    """
    found: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {}
    for route in _routes(app):
        for param in route.dependant.query_params:
            model = param.field_info.annotation
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                continue
            schema = model.model_json_schema(ref_template=SCHEMA_REF)
            found[(route.method.lower(), route.openapi_path)] = (schema.get("properties", {}), schema.get("$defs", {}))
    return found


def _merge_schemas(into: dict[str, Any], schemas: dict[str, Any], source: str) -> None:
    for name, schema in schemas.items():
        if name in into and into[name] != schema:
            raise ValueError(f"{source}: component schema {name!r} differs from another function's")
        into[name] = schema


def _state_runtime_answers(path: str, method: str, operation: dict[str, Any]) -> None:
    """The answers the runtime and API Gateway give on top of the route's own (see shared.runtime.http)."""
    responses = operation["responses"]
    responses["422"] = copy.deepcopy(_UNPROCESSABLE)
    if "204" in responses:
        responses["204"].pop("content", None)  # Powertools gives `Response[None]` an application/json body
    if not operation.get("security"):
        return
    answers = {"400": _BAD_REQUEST, "401": _UNAUTHORIZED, "403": _FORBIDDEN}
    if "{" in path:
        answers["404"] = _NOT_FOUND
    if method != "get":
        answers["409"] = _CONFLICT
    answers["503"] = _UNAVAILABLE
    for status, response in answers.items():
        responses.setdefault(status, copy.deepcopy(response))
    operation["responses"] = dict(sorted(responses.items()))


def _referenced(document: Any, schemas: dict[str, Any]) -> set[str]:
    """The component schemas the paths refer to, directly or through other schemas."""
    found: set[str] = set()
    pending = [document]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in found:
                    found.add(name)
                    pending.append(schemas[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def build_document(apps: dict[str, APIGatewayHttpResolver], *, issuer: str | None = None) -> dict[str, Any]:
    discovery = f"{(issuer or DEFAULT_ISSUER).rstrip('/')}/.well-known/openid-configuration"
    security_schemes: dict[str, SecurityScheme] = {SECURITY_SCHEME: OpenIdConnect(openIdConnectUrl=discovery)}
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    tags: list[str] = []
    for source, app in apps.items():
        part = json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION, security_schemes=security_schemes))
        query_models = _query_model_schemas(app)
        for path, item in part.get("paths", {}).items():
            for method, operation in item.items():
                properties, definitions = query_models.get((method, path), ({}, {}))
                _merge_schemas(schemas, definitions, source)
                for parameter in operation.get("parameters", []):
                    if parameter["in"] == "query":
                        parameter["schema"] = _without_null(properties.get(parameter["name"], parameter["schema"]))
                if (path in paths) and (method in paths[path]):
                    raise ValueError(f"{method.upper()} {path} is served by two functions")
                paths.setdefault(path, {})[method] = operation
        component_schemas = dict(part.get("components", {}).get("schemas", {}))
        for powertools_default in ("HTTPValidationError", "ValidationError"):
            component_schemas.pop(powertools_default, None)  # 422 answers a ValidationProblem instead
        _merge_schemas(schemas, component_schemas, source)
        for operation in (op for item in part.get("paths", {}).values() for op in item.values()):
            tags.extend(t for t in operation.get("tags", []) if t not in tags)
    for path, item in paths.items():
        for method, operation in item.items():
            _state_runtime_answers(path, method, operation)
    _merge_schemas(schemas, _SCHEMAS, "shared.runtime.openapi")
    used = _referenced(paths, schemas)  # Powertools also emits its own and the query models' schemas
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": (
                "Every route but `/v1/health`, `/v1/openapi.json` and `/v1/docs` takes an Auth0 access token "
                "(`Authorization: Bearer ...`) holding the route's scope. Errors are RFC 9457 problem details "
                '(`application/problem+json`); API Gateway\'s own refusals are `{"message": ...}`.'
                " No text may contain the NUL character (U+0000): 422. In a PATCH body, null keeps a field's value"
                " unless the field can be empty (such as `target_url`)."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {name: schema for name, schema in sorted(schemas.items()) if name in used},
            "securitySchemes": {
                name: scheme.model_dump(mode="json", by_alias=True, exclude_none=True)
                for name, scheme in security_schemes.items()
            },
        },
        "tags": [{"name": tag} for tag in tags],
    }


@cache
def api_document(issuer: str | None) -> str:
    """The whole HTTP API's document as JSON, built once per execution environment."""
    return json.dumps(build_document(http_apps(), issuer=issuer), separators=(",", ":"))


# The browsable reference: Swagger UI from the swagger-ui-py wheel (pinned in requirements.txt).

DocsAsset = Literal["swagger-ui-bundle.js", "swagger-ui.css"]
DOCS_ASSET_TYPES: dict[str, str] = {
    "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}
DOCS_ASSET_CONTENT: dict[str, OpenAPIResponseContentSchema | OpenAPIResponseContentModel] = {
    media.split(";")[0]: {"schema": {"type": "string"}} for media in DOCS_ASSET_TYPES.values()
}
# Paths relative to /v1/docs, so the page works behind any base path or custom domain.
_DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} reference</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout"
    }});
  </script>
</body>
</html>
"""


def docs_page() -> str:
    return _DOCS_PAGE.format(title=TITLE)


@cache
def docs_asset(name: str) -> str:
    if name not in DOCS_ASSET_TYPES:  # only the pinned package's files we name, never a path from the request
        raise KeyError(name)
    return (resources.files("swagger_ui") / "static" / name).read_text(encoding="utf-8")
