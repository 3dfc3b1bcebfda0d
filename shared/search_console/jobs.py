"""Search Console jobs: starting syncs and backfills, their days, and cancelling a Search Console job.

Starting a sync records the job and its days in one transaction and queues one message per day only
after it commits, so a worker never sees a day that does not exist; if queueing fails the job is
failed at once with the reason instead of waiting forever.
"""

import datetime as dt
import uuid

from shared.auth import Principal
from shared.dates import date_range
from shared.db import tenant_transaction
from shared.errors import Conflict, InvalidFields, InvalidRequest
from shared.jobs.models import SEARCH_CONSOLE_KINDS, JobDayOut, JobKind, JobOut
from shared.jobs.project_jobs import project_job
from shared.models import Page
from shared.observability import logger
from shared.projects.data import projects
from shared.projects.tables import Property
from shared.search_console import progress as gsc_progress
from shared.search_console import sync as gsc_sync
from shared.search_console.data import job_days
from shared.search_console.models import SYNCABLE_CONNECTIONS, SyncIn
from shared.tenancy.data import tenants
from shared.tenancy.scope import tenant_scope


def start_sync(
    principal: Principal, project_id: uuid.UUID, property_id: uuid.UUID, data: SyncIn, *, kind: JobKind
) -> JobOut:
    """Create a sync or backfill job with one day per date of the range, then queue the days."""
    _check_range(data)
    with tenant_scope(principal) as session:
        prop = projects.get_property(session, project_id, property_id)
        _require_syncable(prop)
        tenants.touch_user(session, principal.subject)
        job = gsc_sync.create_sync_job(
            session,
            prop,
            kind=kind,
            start_date=data.start_date,
            end_date=data.end_date,
            search_types=data.search_types,
            created_by=principal.subject,
        )
        out = JobOut.model_validate(job)
    days = date_range(data.start_date, data.end_date)
    try:
        gsc_sync.enqueue_sync_days(principal.tenant_id, out.id, property_id, days, data.search_types)
    except Exception:
        logger.exception("Could not queue the days of a Search Console job", extra={"job_id": str(out.id)})
        with tenant_transaction(principal.tenant_id) as session:
            gsc_progress.fail_job(session, out.id, "The job's days could not be queued; start it again.")
        raise
    return out


def _check_range(data: SyncIn) -> None:
    try:
        gsc_sync.validate_range(data.start_date, data.end_date, today=dt.datetime.now(dt.UTC).date())
    except InvalidRequest as exc:
        field = exc.extra.get("field", "body")
        raise InvalidFields(
            "The date range is outside what Search Console keeps; see errors.",
            errors=[{"field": field, "message": exc.detail, "type": "value_error"}],
        ) from exc


def _require_syncable(prop: Property) -> None:
    if prop.connection_status not in SYNCABLE_CONNECTIONS:
        if prop.connection_status == "failed":
            raise Conflict(
                f"Property {prop.site_url} failed its last connection check ({prop.connection_error}); "
                "replace its credential (PUT its connection) and verify it before syncing."
            )
        raise Conflict(
            f"Property {prop.site_url} is not connected to Search Console; "
            "connect it first (PUT its connection with a credential)."
        )
    if prop.status != "active":
        raise Conflict(f"Property {prop.site_url} is {prop.status}; set its status to active to sync it.")


def list_job_days(
    principal: Principal, project_id: uuid.UUID, job_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page[JobDayOut]:
    """The days of a sync or backfill in date order (other kinds of job have none)."""
    with tenant_scope(principal) as session:
        project_job(session, project_id, job_id)
        rows, next_cursor = job_days.list_page(session, job_id, limit=limit, cursor=cursor)
        return Page[JobDayOut](items=[JobDayOut.model_validate(row) for row in rows], next_cursor=next_cursor)


def cancel(principal: Principal, project_id: uuid.UUID, job_id: uuid.UUID) -> JobOut:
    """Stop a Search Console job: no new day or chunk starts; what already loaded stays."""
    with tenant_scope(principal) as session:
        # Not locked here: gsc_progress.cancel takes days, then the job, in the order loaders use.
        job = project_job(session, project_id, job_id)
        if job.kind not in SEARCH_CONSOLE_KINDS:
            raise Conflict(
                f"A {job.kind} job cannot be cancelled: it loads its file in one transaction, "
                "all or nothing, within minutes."
            )
        if not gsc_progress.cancel(session, job_id):
            session.refresh(job)
            raise Conflict(f"Job {job_id} has already finished ({job.status}); there is nothing to cancel.")
        session.refresh(job)
        return JobOut.model_validate(job)
