"""api_imports: Search Console connections, syncs and backfills, export imports, and jobs with progress.

Routes parse and validate (Powertools), check the permission, call domain
logic and shape the response. Nothing else happens here. The health check
and the OpenAPI document (every function's routes) are api_projects'.
"""

import uuid
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from shared.jobs import project_jobs
from shared.jobs.models import JobDayOut, JobKind, JobOut, JobStatus
from shared.models import Page
from shared.pagination import DEFAULT_LIMIT
from shared.runtime.http import Cursor, Limit, create_app, current_principal, lambda_handler, requires
from shared.search_console import connections as gsc_connections
from shared.search_console import jobs as gsc_jobs
from shared.search_console.exports import importer
from shared.search_console.models import (
    ConnectionIn,
    ConnectionOut,
    GscExportImportIn,
    GscExportImportOut,
    SyncIn,
)
from shared.settings import SearchConsoleApi, SearchConsoleCredentials, SyncQueue, Uploads

READ = "read:projects"
WRITE = "write:projects"
PROPERTY = "/v1/projects/<project_id>/properties/<property_id>"
JOBS = "/v1/projects/<project_id>/jobs"

app = create_app()


# Search Console connection


@app.get(f"{PROPERTY}/connection", tags=["connections"], **requires(READ))
def get_connection(project_id: uuid.UUID, property_id: uuid.UUID) -> ConnectionOut:
    return gsc_connections.get_connection(current_principal(app), project_id, property_id)


@app.put(
    f"{PROPERTY}/connection",
    tags=["connections"],
    summary="Connect the property with a credential, or replace its credential",
    description=(
        "The credential (a service account key file, or an `authorized_user` refresh token) is stored in "
        "Secrets Manager and never returned. 201 for a new connection, 200 when a credential was replaced; "
        "either way the connection is `connected` until verified."
    ),
    responses={
        200: {"description": "The credential was replaced.", "content": {"application/json": {"model": ConnectionOut}}},
        201: {"description": "The property is connected.", "content": {"application/json": {"model": ConnectionOut}}},
    },
    **requires(WRITE),
)
def put_connection(project_id: uuid.UUID, property_id: uuid.UUID, body: ConnectionIn) -> Response[ConnectionOut]:
    connection, created = gsc_connections.connect(current_principal(app), project_id, property_id, body)
    return Response(status_code=201 if created else 200, content_type="application/json", body=connection)


@app.delete(f"{PROPERTY}/connection", tags=["connections"], status_code=204, **requires(WRITE))
def delete_connection(project_id: uuid.UUID, property_id: uuid.UUID) -> Response[None]:
    """Delete the credential at once and disconnect the property (fine to repeat)."""
    gsc_connections.disconnect(current_principal(app), project_id, property_id)
    return Response(status_code=204)


@app.post(
    f"{PROPERTY}/connection/verify",
    tags=["connections"],
    summary="Check the credential can read the property in Search Console",
    description=(
        "Answers 200 with the outcome recorded on the connection: `verified`, or `failed` with Google's reason "
        "in `connection_error` (a revoked or invalid credential, or one without access to this property). "
        "409 when the property has no credential; 503 when Search Console did not answer (nothing recorded)."
    ),
    **requires(WRITE),
)
def verify_connection(project_id: uuid.UUID, property_id: uuid.UUID) -> ConnectionOut:
    return gsc_connections.verify(current_principal(app), project_id, property_id)


# Syncs and backfills (one unit of work per day, run by gsc_sync and gsc_ingest)

_SYNC_DESCRIPTION = (
    "The property must be connected and active (else 409). The range is inclusive, must not end in the "
    "future and must lie within the 16 months Search Console keeps (else 422). Follow the job's progress."
)


@app.post(
    f"{PROPERTY}/syncs",
    tags=["syncs"],
    status_code=202,
    summary="Sync a date range of the property",
    description=_SYNC_DESCRIPTION,
    **requires(WRITE),
)
def create_sync(project_id: uuid.UUID, property_id: uuid.UUID, body: SyncIn) -> JobOut:
    return gsc_jobs.start_sync(current_principal(app), project_id, property_id, body, kind=JobKind.GSC_SYNC)


@app.post(
    f"{PROPERTY}/backfills",
    tags=["syncs"],
    status_code=202,
    summary="Backfill up to 16 months of the property",
    description=_SYNC_DESCRIPTION,
    **requires(WRITE),
)
def create_backfill(project_id: uuid.UUID, property_id: uuid.UUID, body: SyncIn) -> JobOut:
    return gsc_jobs.start_sync(current_principal(app), project_id, property_id, body, kind=JobKind.GSC_BACKFILL)


# Search Console export files (presigned upload, loaded by the file_import worker)


@app.post(f"{PROPERTY}/gsc-imports", tags=["export imports"], status_code=201, **requires(WRITE))
def create_gsc_import(project_id: uuid.UUID, property_id: uuid.UUID, body: GscExportImportIn) -> GscExportImportOut:
    """Start an import: PUT the file to `upload.url` with `upload.headers`, then follow the job."""
    return importer.start(current_principal(app), project_id, property_id, body)


# Jobs of a project, every kind


@app.get(JOBS, tags=["jobs"], **requires(READ))
def list_jobs(
    project_id: uuid.UUID,
    kind: Annotated[JobKind | None, Query(description="Only jobs of this kind.")] = None,
    status: Annotated[JobStatus | None, Query(description="Only jobs in this status.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[JobOut]:
    return project_jobs.list_jobs(
        current_principal(app), project_id, kind=kind, status=status, limit=limit, cursor=cursor
    )


@app.get(f"{JOBS}/<job_id>", tags=["jobs"], **requires(READ))
def get_job(project_id: uuid.UUID, job_id: uuid.UUID) -> JobOut:
    return project_jobs.get_job(current_principal(app), project_id, job_id)


@app.get(f"{JOBS}/<job_id>/days", tags=["jobs"], **requires(READ))
def list_job_days(
    project_id: uuid.UUID, job_id: uuid.UUID, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[JobDayOut]:
    """The days of a sync or backfill in date order; other jobs have none."""
    return gsc_jobs.list_job_days(current_principal(app), project_id, job_id, limit=limit, cursor=cursor)


@app.post(
    f"{JOBS}/<job_id>/cancel",
    tags=["jobs"],
    summary="Cancel a Search Console job",
    description=(
        "No new day or chunk starts; what already loaded stays. 409 when the job has finished, or for a "
        "keyword import (which cannot be cancelled)."
    ),
    **requires(WRITE),
)
def cancel_job(project_id: uuid.UUID, job_id: uuid.UUID) -> JobOut:
    return gsc_jobs.cancel(current_principal(app), project_id, job_id)


handler = lambda_handler(app, settings=(Uploads, SyncQueue, SearchConsoleCredentials, SearchConsoleApi))
