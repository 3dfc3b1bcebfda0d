"""The jobs of a project, every kind: listing them and reading one, as the API shows them."""

import uuid

from shared.auth import Principal
from shared.db import TenantSession
from shared.errors import NotFound
from shared.jobs.data import jobs
from shared.jobs.models import JobKind, JobOut, JobStatus
from shared.jobs.tables import Job
from shared.models import Page
from shared.projects.data import projects
from shared.tenancy.scope import tenant_scope


def project_job(
    session: TenantSession, project_id: uuid.UUID, job_id: uuid.UUID, *, kind: JobKind | None = None
) -> Job:
    """The project's job (of ``kind`` when given); another project's, or another tenant's, is not found."""
    job = jobs.get(session, job_id, kind=kind)
    if job.project_id != project_id:
        raise NotFound(f"Job {job_id} does not exist in project {project_id}.")
    return job


def list_jobs(
    principal: Principal,
    project_id: uuid.UUID,
    *,
    kind: JobKind | None,
    status: JobStatus | None,
    limit: int,
    cursor: str | None,
) -> Page[JobOut]:
    """The project's jobs, oldest first, optionally of one kind or status."""
    with tenant_scope(principal) as session:
        projects.get(session, project_id)
        rows, next_cursor = jobs.list_page(
            session, project_id=project_id, kind=kind, status=status, limit=limit, cursor=cursor
        )
        return Page[JobOut](items=[JobOut.model_validate(row) for row in rows], next_cursor=next_cursor)


def get_job(principal: Principal, project_id: uuid.UUID, job_id: uuid.UUID, *, kind: JobKind | None = None) -> JobOut:
    with tenant_scope(principal) as session:
        return JobOut.model_validate(project_job(session, project_id, job_id, kind=kind))
