"""Search Console syncs and backfills: a job of per-day units of work, each paged from the API into chunks.

A job covers a date range; each day is one SQS message (``SyncDayMessage``)
that fetches every requested search type page by page (25,000 rows a page).
Each page becomes one chunk (a gzip NDJSON object with a deterministic key, so
a redelivered day rewrites the same objects) registered on the job *before*
its load message is sent; the day's ``chunks_total`` is set last. A day
therefore counts as complete only once every one of its chunks has loaded,
whichever finishes first.

A credential Google refuses fails the whole job and marks the property's
connection failed (the message completes: retrying cannot help); any other
permanent error fails the day; transient errors go back to SQS.
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared import aws
from shared.dates import date_range, utc_today
from shared.db import TenantSession, system_transaction, tenant_transaction
from shared.errors import InvalidRequest, PermanentError
from shared.jobs.data import jobs
from shared.jobs.models import SYNC_KINDS, JobKind
from shared.jobs.tables import Job
from shared.observability import logger
from shared.projects.tables import Property
from shared.runtime.work import ByConstruction, RunOnce, Work
from shared.search_console import chunks as gsc_chunks
from shared.search_console import credentials, progress
from shared.search_console.client import CredentialRejected, SearchConsoleClient
from shared.search_console.data import schedule as gsc_schedule
from shared.search_console.models import (
    CHUNK_ROWS,
    FRESH_DAYS,
    HISTORY_DAYS,
    SEARCH_TYPES,
    ScheduledSyncMessage,
    SyncDayMessage,
)
from shared.settings import SyncQueue, settings_of

DIMENSIONS = ("date", "query", "page", "country", "device")
# Discover and Google News have no queries: asking for the query dimension is an API error.
QUERYLESS_TYPES = frozenset({"discover", "googleNews"})
SCHEDULED_BY = "schedule"
SCHEDULE_LEASE = dt.timedelta(minutes=5)
NOT_CONNECTED = "The property is not connected to Search Console; connect it and start the sync again."


def validate_range(start_date: dt.date, end_date: dt.date, *, today: dt.date) -> None:
    """Search Console keeps about 16 months: a range must lie within them and not end in the future."""
    if start_date > end_date:
        raise InvalidRequest("start_date must not be after end_date.", field="start_date")
    if end_date > today:
        raise InvalidRequest(f"end_date {end_date} is in the future (today is {today}, UTC).", field="end_date")
    earliest = today - dt.timedelta(days=HISTORY_DAYS)
    if start_date < earliest:
        raise InvalidRequest(
            f"start_date {start_date} is older than Search Console keeps data ({HISTORY_DAYS} days): "
            f"the earliest is {earliest}.",
            field="start_date",
        )
    if (end_date - start_date).days + 1 > HISTORY_DAYS:
        raise InvalidRequest(f"A sync covers at most {HISTORY_DAYS} days.", field="start_date")


def create_sync_job(
    session: TenantSession,
    prop: Property,
    *,
    kind: JobKind,
    start_date: dt.date,
    end_date: dt.date,
    search_types: Sequence[str],
    created_by: str | None,
) -> Job:
    """The job with one pending day per date; nothing is enqueued (see ``enqueue_sync_days``, after commit)."""
    if kind not in SYNC_KINDS:
        raise InvalidRequest(f"Not a sync job kind: {kind!r}.")
    if start_date > end_date:
        raise InvalidRequest("start_date must not be after end_date.")
    job = jobs.create(
        session,
        kind=kind,
        project_id=prop.project_id,
        input={
            "property_id": str(prop.id),
            "site_url": prop.site_url,
            "start_date": start_date.isoformat(),
            "end_date": end_date.isoformat(),
            "search_types": list(search_types),
        },
        created_by=created_by,
    )
    progress.create_days(session, job.id, prop.id, date_range(start_date, end_date))
    session.refresh(job)  # create_days counted the days into the job's counters
    return job


def data_state(day: dt.date, *, today: dt.date) -> str:
    return "all" if (today - day).days <= FRESH_DAYS else "final"


def enqueue_sync_days(
    tenant_id: str,
    job_id: uuid.UUID,
    property_id: uuid.UUID,
    days: Sequence[dt.date],
    search_types: Sequence[str],
) -> None:
    """One ``SyncDayMessage`` per day on gsc_sync's queue. Call after the job's transaction committed."""
    queue_url = settings_of(SyncQueue).gsc_sync_queue_url
    today = utc_today()
    bodies = [
        SyncDayMessage.model_validate(
            {
                "tenant_id": tenant_id,
                "job_id": job_id,
                "property_id": property_id,
                "date": day,
                "search_types": list(search_types),
                "data_state": data_state(day, today=today),
            }
        ).model_dump_json()
        for day in days
    ]
    aws.send_message_batches(queue_url, bodies)


# ---------------------------------------------------------------- one day


def sync_day(message: SyncDayMessage) -> None:
    """Fetch one day of one property, every search type, page by page, into chunks and load messages."""
    context = {"tenant_id": message.tenant_id, "job_id": str(message.job_id), "date": message.date.isoformat()}
    with tenant_transaction(message.tenant_id) as session:
        if not progress.start_day(session, message.job_id, message.date):
            logger.info("Day not synced: its job is over or the day was already fetched", extra=context)
            return
        prop = gsc_schedule.get_property(session, message.property_id)
        if prop is None or prop.credential_secret is None:
            progress.fail_job(session, message.job_id, NOT_CONNECTED)
            logger.warning("Sync job failed: the property is not connected", extra=context)
            return
        site_url, secret, identity = prop.site_url, prop.credential_secret, prop.credential_identity

    client: SearchConsoleClient | None = None
    try:
        try:
            credential = credentials.load(secret)
        except PermanentError as exc:
            raise CredentialRejected(exc.detail) from exc
        client = SearchConsoleClient.from_credential(credential)
        fetched = _fetch_day(client, message, site_url)
    except CredentialRejected as exc:
        _reject_credential(message, identity=identity, reason=exc.detail)
        logger.warning("Sync job failed: Google refused the credential", extra=context | {"reason": exc.detail})
        return
    except PermanentError as exc:
        _fail_day(message, exc.detail)
        logger.warning("Sync day failed", extra=context | {"reason": exc.detail})
        return
    finally:
        if client is not None:
            client.close()
    if fetched is None:
        logger.info("Sync day stopped: the job was cancelled or failed meanwhile", extra=context)
        return
    chunks, rows = fetched
    with tenant_transaction(message.tenant_id) as session:
        if progress.day_status(session, message.job_id, message.date, for_update=True) != "fetching":
            logger.info("Sync day fetched, but the job ended meanwhile", extra=context)
            return
        progress.finish_day_fetch(session, message.job_id, message.date, chunks_total=chunks, rows=rows)
    logger.info("Sync day fetched", extra=context | {"chunks": chunks, "rows": rows})


def _fetch_day(client: SearchConsoleClient, message: SyncDayMessage, site_url: str) -> tuple[int, int] | None:
    """Page every search type into chunks; (chunks, rows), or None if the job stopped being live."""
    chunks = rows = 0
    for search_type in message.search_types:
        dimensions = [d for d in DIMENSIONS if not (d == "query" and search_type in QUERYLESS_TYPES)]
        page_no = 0
        while True:
            with tenant_transaction(message.tenant_id) as session:
                if not progress.accepts_chunks(session, message.job_id, message.date):
                    return None  # cancelled or failed: no new page is fetched
            response = client.query(
                site_url,
                {
                    "startDate": message.date.isoformat(),
                    "endDate": message.date.isoformat(),
                    "dimensions": dimensions,
                    "type": search_type,
                    "dataState": message.data_state,
                    "rowLimit": CHUNK_ROWS,
                    "startRow": page_no * CHUNK_ROWS,
                },
            )
            api_rows = response.get("rows") or []
            if api_rows:
                part = f"{message.date}/{search_type}/{page_no:04d}"
                # Written, registered, then queued (see the module doc); None: the job stopped meanwhile.
                written = gsc_chunks.publish_chunk(
                    message.tenant_id,
                    message.job_id,
                    message.property_id,
                    part,
                    [chunk_row(row, search_type, dimensions) for row in api_rows],
                    day=message.date,
                )
                if written is None:
                    return None
                rows += written
                chunks += 1
            if len(api_rows) < CHUNK_ROWS:
                break
            page_no += 1
    return chunks, rows


def chunk_row(api_row: dict[str, Any], search_type: str, dimensions: Sequence[str]) -> dict[str, Any]:
    """An API row (``keys`` in ``dimensions`` order) as a chunk row with its dimensions named."""
    try:
        keys = dict(zip(dimensions, api_row["keys"], strict=True))
        return {
            "date": keys["date"],
            "search_type": search_type,
            "query": keys.get("query", ""),
            "page": keys["page"],
            "country": keys["country"],
            "device": keys["device"],
            "clicks": int(api_row.get("clicks", 0)),
            "impressions": int(api_row.get("impressions", 0)),
            "ctr": float(api_row.get("ctr", 0.0)),
            "position": float(api_row.get("position", 0.0)),
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentError(f"Search Console returned a row that cannot be read ({exc!r}): {api_row!r:.300}") from exc


def _reject_credential(message: SyncDayMessage, *, identity: str | None, reason: str) -> None:
    with tenant_transaction(message.tenant_id) as session:
        if identity is not None:
            gsc_schedule.mark_connection_failed(session, message.property_id, identity=identity, reason=reason)
        progress.fail_job(session, message.job_id, reason)


def _fail_day(message: SyncDayMessage, reason: str) -> None:
    with tenant_transaction(message.tenant_id) as session:
        if progress.day_status(session, message.job_id, message.date, for_update=True) == "fetching":
            progress.fail_day(session, message.job_id, message.date, reason)


# ---------------------------------------------------------------- the daily schedule


@dataclass(frozen=True)
class ScheduledPropertySync:
    """A unit of work of the daily schedule: start the sync of one property over the schedule's range."""

    tenant_id: str
    property_id: uuid.UUID
    start_date: dt.date
    end_date: dt.date

    @property
    def key(self) -> str:
        return f"gsc_scheduled_sync:{self.property_id}:{self.end_date.isoformat()}"


def scheduled_units(message: ScheduledSyncMessage, *, today: dt.date | None = None) -> list[ScheduledPropertySync]:
    """The schedule's fan-out: the last ``days`` days (ending yesterday, UTC) of every active, connected property.

    The one cross-tenant read of this worker (identifiers only). Each property is its own unit of work, run once
    per (property, range end): a redelivered schedule starts no second job, and one property's failure does not
    stop the others (the message is retried, or quarantined, for the ones that failed).
    """
    end_date = (today or utc_today()) - dt.timedelta(days=1)  # Search Console has nothing for today yet
    start_date = end_date - dt.timedelta(days=message.days - 1)
    with system_transaction() as session:
        targets = gsc_schedule.syncable_properties(session)
    logger.info(
        "Scheduled Search Console syncs",
        extra={"properties": len(targets), "start": str(start_date), "end": str(end_date)},
    )
    return [ScheduledPropertySync(t.tenant_id, t.property_id, start_date, end_date) for t in targets]


def start_scheduled_sync(unit: ScheduledPropertySync) -> None:
    """Start (or resume) the scheduled sync job of one property; nothing when it stopped being syncable."""
    with tenant_transaction(unit.tenant_id) as session:
        prop = gsc_schedule.get_property(session, unit.property_id)
        if prop is None or not gsc_schedule.is_syncable(prop):
            return  # paused or disconnected since the listing: nothing to do
        # An earlier attempt may have created the job and failed to enqueue it: reuse it.
        job = gsc_schedule.scheduled_job(session, prop.project_id, JobKind.GSC_SYNC, unit.key)
        if job is None:
            job = create_sync_job(
                session,
                prop,
                kind=JobKind.GSC_SYNC,
                start_date=unit.start_date,
                end_date=unit.end_date,
                search_types=SEARCH_TYPES,
                created_by=SCHEDULED_BY,
            )
            job.input = {**job.input, "schedule_key": unit.key}
        job_id = job.id
    # Enqueued after the job committed (a day message must find its day); done only once enqueued.
    enqueue_sync_days(
        unit.tenant_id, job_id, unit.property_id, date_range(unit.start_date, unit.end_date), SEARCH_TYPES
    )


# ---------------------------------------------------------------- the worker's units of work

SyncUnit = SyncDayMessage | ScheduledPropertySync


def units_of(message: SyncDayMessage | ScheduledSyncMessage) -> list[SyncUnit]:
    """A day message is one unit; the schedule fans out to one unit per property."""
    if isinstance(message, ScheduledSyncMessage):
        return list[SyncUnit](scheduled_units(message))
    return [message]


def rule_for(unit: SyncUnit) -> RunOnce | ByConstruction:
    if isinstance(unit, ScheduledPropertySync):
        return RunOnce(unit.tenant_id, unit.key, lease=SCHEDULE_LEASE)
    return ByConstruction("a day is claimed by its status: a day already fetched, or of a finished job, is skipped")


def run(unit: SyncUnit, work: Work) -> None:
    if isinstance(unit, ScheduledPropertySync):
        start_scheduled_sync(unit)
    else:
        sync_day(unit)
