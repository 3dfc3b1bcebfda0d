"""api_projects: projects, Search Console properties, tracked keywords and keyword imports.

Routes parse and validate (Powertools), check the permission, call domain
logic and shape the response. Nothing else happens here.
"""

import uuid
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from shared import health
from shared.jobs import project_jobs
from shared.jobs.models import JobKind, JobOut
from shared.models import Page
from shared.pagination import DEFAULT_LIMIT
from shared.projects import keyword_imports, keywords, projects
from shared.projects.models import (
    KeywordBulkIn,
    KeywordBulkOut,
    KeywordImportIn,
    KeywordImportOut,
    KeywordIn,
    KeywordOut,
    KeywordPatch,
    ProjectIn,
    ProjectOut,
    ProjectPatch,
    PropertyIn,
    PropertyOut,
    PropertyPatch,
)
from shared.runtime import openapi
from shared.runtime.http import Cursor, Limit, create_app, current_principal, lambda_handler, requires
from shared.settings import Api, Uploads, settings_of

READ = "read:projects"
WRITE = "write:projects"

app = create_app()


def _no_content() -> Response[None]:
    return Response(status_code=204)


@app.get(
    "/v1/health",
    tags=["ops"],
    summary="Database reachable and schema at the migration head",
    responses={
        200: {"description": "Healthy.", "content": {"application/json": {"model": health.Health}}},
        503: {"description": "Not healthy.", "content": {"application/json": {"model": health.Health}}},
    },
)
def get_health() -> Response[health.Health]:
    result = health.check()
    return Response(status_code=200 if result.status == "ok" else 503, content_type="application/json", body=result)


# The whole HTTP API's document and reference (every function's routes), public like the health check.


@app.get(
    "/v1/openapi.json",
    tags=["ops"],
    summary="This OpenAPI document: every route of the HTTP API",
    responses={200: {"description": "OpenAPI 3.1.", "content": {"application/json": {"schema": {"type": "object"}}}}},
)
def get_openapi() -> Response[str]:
    document = openapi.api_document(settings_of(Api).auth_issuer)
    return Response(status_code=200, content_type="application/json", body=document)


@app.get(
    "/v1/docs",
    tags=["ops"],
    summary="The API reference (Swagger UI over this document)",
    responses={200: {"description": "An HTML page.", "content": {"text/html": {"schema": {"type": "string"}}}}},
)
def get_docs() -> Response[str]:
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=openapi.docs_page())


@app.get(
    "/v1/docs/<asset>",
    tags=["ops"],
    summary="The reference's scripts and styles",
    compress=True,
    cache_control="public, max-age=86400",
    responses={
        200: {
            "description": "The file, from the pinned swagger-ui-py package.",
            "content": openapi.DOCS_ASSET_CONTENT,
        }
    },
)
def get_docs_asset(asset: Annotated[openapi.DocsAsset, Path()]) -> Response[str]:
    return Response(status_code=200, content_type=openapi.DOCS_ASSET_TYPES[asset], body=openapi.docs_asset(asset))


# Projects


@app.get("/v1/projects", tags=["projects"], **requires(READ))
def list_projects(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[ProjectOut]:
    return projects.list_projects(current_principal(app), limit=limit, cursor=cursor)


@app.post("/v1/projects", tags=["projects"], status_code=201, **requires(WRITE))
def create_project(body: ProjectIn) -> ProjectOut:
    return projects.create_project(current_principal(app), body)


@app.get("/v1/projects/<project_id>", tags=["projects"], **requires(READ))
def get_project(project_id: uuid.UUID) -> ProjectOut:
    return projects.get_project(current_principal(app), project_id)


@app.patch("/v1/projects/<project_id>", tags=["projects"], **requires(WRITE))
def update_project(project_id: uuid.UUID, body: ProjectPatch) -> ProjectOut:
    return projects.update_project(current_principal(app), project_id, body)


@app.delete("/v1/projects/<project_id>", tags=["projects"], status_code=204, **requires(WRITE))
def delete_project(project_id: uuid.UUID) -> Response[None]:
    projects.delete_project(current_principal(app), project_id)
    return _no_content()


# Search Console properties


@app.get("/v1/projects/<project_id>/properties", tags=["properties"], **requires(READ))
def list_properties(project_id: uuid.UUID, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[PropertyOut]:
    return projects.list_properties(current_principal(app), project_id, limit=limit, cursor=cursor)


@app.post("/v1/projects/<project_id>/properties", tags=["properties"], status_code=201, **requires(WRITE))
def create_property(project_id: uuid.UUID, body: PropertyIn) -> PropertyOut:
    return projects.create_property(current_principal(app), project_id, body)


@app.get("/v1/projects/<project_id>/properties/<property_id>", tags=["properties"], **requires(READ))
def get_property(project_id: uuid.UUID, property_id: uuid.UUID) -> PropertyOut:
    return projects.get_property(current_principal(app), project_id, property_id)


@app.patch("/v1/projects/<project_id>/properties/<property_id>", tags=["properties"], **requires(WRITE))
def update_property(project_id: uuid.UUID, property_id: uuid.UUID, body: PropertyPatch) -> PropertyOut:
    return projects.update_property(current_principal(app), project_id, property_id, body)


@app.delete(
    "/v1/projects/<project_id>/properties/<property_id>", tags=["properties"], status_code=204, **requires(WRITE)
)
def delete_property(project_id: uuid.UUID, property_id: uuid.UUID) -> Response[None]:
    projects.delete_property(current_principal(app), project_id, property_id)
    return _no_content()


# Tracked keywords


@app.get("/v1/projects/<project_id>/keywords", tags=["keywords"], **requires(READ))
def list_keywords(
    project_id: uuid.UUID,
    tag: Annotated[str | None, Query(max_length=50, description="Only keywords with this tag.")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Only keywords containing this text.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[KeywordOut]:
    return keywords.list_keywords(
        current_principal(app), project_id, tag=tag, text_contains=q, limit=limit, cursor=cursor
    )


@app.post("/v1/projects/<project_id>/keywords", tags=["keywords"], status_code=201, **requires(WRITE))
def create_keyword(project_id: uuid.UUID, body: KeywordIn) -> KeywordOut:
    return keywords.add_keyword(current_principal(app), project_id, body)


@app.post("/v1/projects/<project_id>/keywords/bulk", tags=["keywords"], **requires(WRITE))
def create_keywords_bulk(project_id: uuid.UUID, body: KeywordBulkIn) -> KeywordBulkOut:
    """Add up to 1,000 keywords; duplicates are reported, not errors."""
    return keywords.add_keywords(current_principal(app), project_id, body.keywords)


@app.get("/v1/projects/<project_id>/keywords/<keyword_id>", tags=["keywords"], **requires(READ))
def get_keyword(project_id: uuid.UUID, keyword_id: uuid.UUID) -> KeywordOut:
    return keywords.get_keyword(current_principal(app), project_id, keyword_id)


@app.patch("/v1/projects/<project_id>/keywords/<keyword_id>", tags=["keywords"], **requires(WRITE))
def update_keyword(project_id: uuid.UUID, keyword_id: uuid.UUID, body: KeywordPatch) -> KeywordOut:
    return keywords.update_keyword(current_principal(app), project_id, keyword_id, body)


@app.delete("/v1/projects/<project_id>/keywords/<keyword_id>", tags=["keywords"], status_code=204, **requires(WRITE))
def delete_keyword(project_id: uuid.UUID, keyword_id: uuid.UUID) -> Response[None]:
    keywords.delete_keyword(current_principal(app), project_id, keyword_id)
    return _no_content()


# Keyword imports (CSV through a presigned upload, loaded by the file_import worker)


@app.post("/v1/projects/<project_id>/keyword-imports", tags=["keyword imports"], status_code=202, **requires(WRITE))
def create_keyword_import(project_id: uuid.UUID, body: KeywordImportIn) -> KeywordImportOut:
    """Start an import: PUT the CSV to `upload.url` with `upload.headers`, then follow the job."""
    return keyword_imports.start(current_principal(app), project_id, body)


@app.get("/v1/projects/<project_id>/keyword-imports", tags=["keyword imports"], **requires(READ))
def list_keyword_imports(project_id: uuid.UUID, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[JobOut]:
    return project_jobs.list_jobs(
        current_principal(app), project_id, kind=JobKind.KEYWORD_IMPORT, status=None, limit=limit, cursor=cursor
    )


@app.get("/v1/projects/<project_id>/keyword-imports/<job_id>", tags=["keyword imports"], **requires(READ))
def get_keyword_import(project_id: uuid.UUID, job_id: uuid.UUID) -> JobOut:
    return project_jobs.get_job(current_principal(app), project_id, job_id, kind=JobKind.KEYWORD_IMPORT)


handler = lambda_handler(app, settings=(Uploads,))
