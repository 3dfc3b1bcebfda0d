"""The jobs table: creating, reading and updating job rows. ``shared.jobs.lifecycle`` decides what to write."""

import uuid
from typing import Any

from sqlalchemy import cast, func, select, update
from sqlalchemy.dialects.postgresql import JSONB, JSONPATH

from shared.db import TenantSession
from shared.errors import NotFound
from shared.jobs.models import LIVE_STATUSES, JobKind, JobStatus
from shared.jobs.tables import Job
from shared.pagination import keyset_page


def create(
    session: TenantSession,
    *,
    kind: JobKind,
    project_id: uuid.UUID | None,
    input: dict[str, Any],
    created_by: str | None,
) -> Job:
    job = Job(tenant_id=session.tenant_id, kind=kind, project_id=project_id, input=input, created_by=created_by)
    session.add(job)
    session.flush()
    session.refresh(job)
    return job


def get(session: TenantSession, job_id: uuid.UUID, *, kind: JobKind | None = None, for_update: bool = False) -> Job:
    stmt = select(Job).where(Job.tenant_id == session.tenant_id, Job.id == job_id)
    if kind is not None:
        stmt = stmt.where(Job.kind == kind)
    if for_update:
        stmt = stmt.with_for_update()
    job = session.scalar(stmt)
    if job is None:
        raise NotFound(f"Job {job_id} does not exist.")
    return job


def status_of(session: TenantSession, job_id: uuid.UUID) -> JobStatus | None:
    status = session.scalar(select(Job.status).where(Job.tenant_id == session.tenant_id, Job.id == job_id))
    return None if status is None else JobStatus(status)


def list_page(
    session: TenantSession,
    *,
    project_id: uuid.UUID | None,
    kind: JobKind | None,
    limit: int,
    cursor: str | None,
    status: JobStatus | None = None,
) -> tuple[list[Job], str | None]:
    stmt = select(Job).where(Job.tenant_id == session.tenant_id)
    if project_id is not None:
        stmt = stmt.where(Job.project_id == project_id)
    if kind is not None:
        stmt = stmt.where(Job.kind == kind)
    if status is not None:
        stmt = stmt.where(Job.status == status)
    return keyset_page(session, stmt, Job, limit=limit, cursor=cursor)


def _job(session: TenantSession, job_id: uuid.UUID) -> Any:
    return update(Job).where(Job.tenant_id == session.tenant_id, Job.id == job_id)


def mark_running(session: TenantSession, job_id: uuid.UUID) -> None:
    session.execute(
        _job(session, job_id).values(
            status=JobStatus.RUNNING,
            started_at=func.now(),
            progress_percent=0,
            counters={},
            errors=[],
            error_count=0,
            failure_reason=None,
            finished_at=None,
        )
    )


def mark_started(session: TenantSession, job_id: uuid.UUID) -> bool:
    """A live job runs (its first unit of work began); its started time is kept. False once it finished."""
    started = session.execute(
        _job(session, job_id)
        .where(Job.status.in_(LIVE_STATUSES))
        .values(status=JobStatus.RUNNING, started_at=func.coalesce(Job.started_at, func.now()))
        .returning(Job.id)
    ).first()
    return started is not None


def set_progress(session: TenantSession, job_id: uuid.UUID, *, percent: int, counters: dict[str, Any]) -> None:
    session.execute(
        _job(session, job_id).where(Job.status == JobStatus.RUNNING).values(progress_percent=percent, counters=counters)
    )


def set_errors(session: TenantSession, job_id: uuid.UUID, *, errors: list[dict[str, Any]], error_count: int) -> None:
    session.execute(_job(session, job_id).values(errors=errors, error_count=error_count))


def append_errors(
    session: TenantSession, job_id: uuid.UUID, *, errors: list[dict[str, Any]], count: int, keep: int
) -> None:
    """Add errors to those the job has, keeping the first ``keep`` and counting them all."""
    session.execute(
        _job(session, job_id).values(
            errors=func.jsonb_path_query_array(
                Job.errors.op("||")(cast(errors, JSONB)), cast(f"$[0 to {keep - 1}]", JSONPATH)
            ),
            error_count=Job.error_count + count,
        )
    )


def mark_finished(
    session: TenantSession,
    job_id: uuid.UUID,
    *,
    status: JobStatus,
    counters: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
    error_count: int | None = None,
    failure_reason: str | None = None,
) -> bool:
    """End a live job with ``status``; False when it had already finished (nothing is written then)."""
    values: dict[str, Any] = {
        "status": status,
        "progress_percent": 100,
        "failure_reason": failure_reason,
        "finished_at": func.now(),
    }
    if counters is not None:
        values["counters"] = counters
    if errors is not None:
        values["errors"] = errors
    if error_count is not None:
        values["error_count"] = error_count
    finished = session.execute(
        _job(session, job_id).where(Job.status.in_(LIVE_STATUSES)).values(**values).returning(Job.id)
    ).first()
    return finished is not None


def mark_cancelled(session: TenantSession, job_id: uuid.UUID) -> bool:
    return mark_finished(session, job_id, status=JobStatus.CANCELLED)
