import uuid
from typing import Any

from sqlalchemy import func, select, update

from shared.db import TenantSession
from shared.errors import NotFound
from shared.jobs.tables import Job
from shared.pagination import keyset_page

MAX_STORED_ERRORS = 1000


def create(
    session: TenantSession,
    *,
    kind: str,
    project_id: uuid.UUID | None,
    input: dict[str, Any],
    created_by: str | None,
) -> Job:
    job = Job(tenant_id=session.tenant_id, kind=kind, project_id=project_id, input=input, created_by=created_by)
    session.add(job)
    session.flush()
    session.refresh(job)
    return job


def get(session: TenantSession, job_id: uuid.UUID, *, kind: str | None = None, for_update: bool = False) -> Job:
    stmt = select(Job).where(Job.tenant_id == session.tenant_id, Job.id == job_id)
    if kind is not None:
        stmt = stmt.where(Job.kind == kind)
    if for_update:
        stmt = stmt.with_for_update()
    job = session.scalar(stmt)
    if job is None:
        raise NotFound(f"Job {job_id} does not exist.")
    return job


def list_page(
    session: TenantSession,
    *,
    project_id: uuid.UUID | None,
    kind: str | None,
    limit: int,
    cursor: str | None,
    status: str | None = None,
) -> tuple[list[Job], str | None]:
    stmt = select(Job).where(Job.tenant_id == session.tenant_id)
    if project_id is not None:
        stmt = stmt.where(Job.project_id == project_id)
    if kind is not None:
        stmt = stmt.where(Job.kind == kind)
    if status is not None:
        stmt = stmt.where(Job.status == status)
    return keyset_page(session, stmt, Job, limit=limit, cursor=cursor)


def start(session: TenantSession, job_id: uuid.UUID) -> None:
    """Mark the job running from a clean slate (a rerun after a crash starts over)."""
    session.execute(
        update(Job)
        .where(Job.tenant_id == session.tenant_id, Job.id == job_id)
        .values(
            status="running",
            started_at=func.now(),
            progress_percent=0,
            counters={},
            errors=[],
            error_count=0,
            failure_reason=None,
            finished_at=None,
        )
    )


def report_progress(session: TenantSession, job_id: uuid.UUID, *, percent: int, counters: dict[str, Any]) -> None:
    session.execute(
        update(Job)
        .where(Job.tenant_id == session.tenant_id, Job.id == job_id, Job.status == "running")
        .values(progress_percent=max(0, min(100, percent)), counters=counters)
    )


def finish(
    session: TenantSession,
    job_id: uuid.UUID,
    *,
    status: str,
    counters: dict[str, Any],
    errors: list[dict[str, Any]],
    error_count: int,
    failure_reason: str | None = None,
) -> None:
    session.execute(
        update(Job)
        .where(Job.tenant_id == session.tenant_id, Job.id == job_id)
        .values(
            status=status,
            progress_percent=100,
            counters=counters,
            errors=errors[:MAX_STORED_ERRORS],
            error_count=error_count,
            failure_reason=failure_reason,
            finished_at=func.now(),
        )
    )


def record_errors(session: TenantSession, job_id: uuid.UUID, *, errors: list[dict[str, Any]], error_count: int) -> None:
    """Store a running job's line errors (for jobs that finish later, elsewhere)."""
    session.execute(
        update(Job)
        .where(Job.tenant_id == session.tenant_id, Job.id == job_id)
        .values(errors=errors[:MAX_STORED_ERRORS], error_count=error_count)
    )
