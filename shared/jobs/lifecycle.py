"""One lifecycle for every long job: start, progress, errors, finish with an outcome, fail with a reason, cancel.

Every job of every kind moves through here, so its status, percent, counters and
errors mean the same everywhere. Each function writes in the caller's transaction,
next to the work it records. The final status is derived from what the job
achieved (``final_status``), a pure function, never chosen by hand.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from shared.db import TenantSession
from shared.jobs.data import jobs
from shared.jobs.models import MAX_STORED_ERRORS, JobErrors, JobStatus


@dataclass(frozen=True)
class Outcome:
    """What a finished job achieved, in its own units (lines, days, snapshots): how many succeeded and failed."""

    succeeded: int
    failed: int = 0


def final_status(outcome: Outcome) -> JobStatus:
    """Nothing succeeded: failed; some failed: succeeded with errors; otherwise succeeded."""
    if outcome.succeeded <= 0:
        return JobStatus.FAILED
    if outcome.failed > 0:
        return JobStatus.SUCCEEDED_WITH_ERRORS
    return JobStatus.SUCCEEDED


def start(session: TenantSession, job_id: uuid.UUID) -> None:
    """The job runs, from a clean slate (a rerun after a crash starts over)."""
    jobs.mark_running(session, job_id)


def report_progress(session: TenantSession, job_id: uuid.UUID, *, percent: int, counters: dict[str, Any]) -> None:
    """Progress of a running job, 0 to 100 (a finished job keeps its 100)."""
    jobs.set_progress(session, job_id, percent=max(0, min(100, percent)), counters=counters)


def record_errors(session: TenantSession, job_id: uuid.UUID, errors: JobErrors) -> None:
    """Store a running job's errors (for jobs that finish later, elsewhere)."""
    jobs.set_errors(session, job_id, errors=errors.items[:MAX_STORED_ERRORS], error_count=errors.count)


def add_errors(session: TenantSession, job_id: uuid.UUID, errors: JobErrors) -> None:
    """Add errors to a running job's (jobs whose units of work each find their own)."""
    if errors.count:
        jobs.append_errors(session, job_id, errors=errors.items, count=errors.count, keep=MAX_STORED_ERRORS)


def finish(
    session: TenantSession,
    job_id: uuid.UUID,
    outcome: Outcome,
    *,
    counters: dict[str, Any] | None = None,
    errors: JobErrors | None = None,
) -> JobStatus:
    """End the job with the status its outcome implies; returns it."""
    status = final_status(outcome)
    jobs.mark_finished(session, job_id, status=status, counters=counters, **_errors(errors))
    return status


def fail(
    session: TenantSession,
    job_id: uuid.UUID,
    reason: str,
    *,
    counters: dict[str, Any] | None = None,
    errors: JobErrors | None = None,
) -> None:
    """End the job as failed, with the reason shown to the user."""
    jobs.mark_finished(
        session, job_id, status=JobStatus.FAILED, counters=counters, failure_reason=reason, **_errors(errors)
    )


def cancel(session: TenantSession, job_id: uuid.UUID) -> bool:
    """End a live job as cancelled; False when it had already finished."""
    return jobs.mark_cancelled(session, job_id)


def _errors(errors: JobErrors | None) -> dict[str, Any]:
    return {} if errors is None else {"errors": errors.items[:MAX_STORED_ERRORS], "error_count": errors.count}
