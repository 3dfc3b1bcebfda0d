"""Progress of Search Console jobs: each change to a job's days and chunks, then what it means for the job.

Every write runs in the caller's transaction, next to the work it records, so
counters never run ahead of (or behind) the data. After each change the job is
recounted (``_settle``): its counters and percent, and, once nothing is left to
load, its end through the one job lifecycle, with the status its outcome implies
(days that failed; lines an export rejected).
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any, Literal

from shared.db import TenantSession
from shared.jobs import lifecycle
from shared.jobs.data import jobs
from shared.jobs.lifecycle import Outcome
from shared.jobs.models import LIVE_STATUSES
from shared.search_console.data import progress as data
from shared.search_console.data.progress import JobCounts

ChunkClaim = Literal["load", "already_loaded", "skip"]
CANCELLED = "The job was cancelled."


job_status = jobs.status_of
day_status = data.day_status


def create_days(session: TenantSession, job_id: uuid.UUID, property_id: uuid.UUID, dates: Sequence[dt.date]) -> None:
    data.insert_days(session, job_id, property_id, dates)
    _settle(session, job_id)


def start_day(session: TenantSession, job_id: uuid.UUID, day: dt.date) -> bool:
    """Claim a day for fetching. False when the job is over or the day was already fetched (a redelivery)."""
    return data.claim_day(session, job_id, day) and jobs.mark_started(session, job_id)


add_chunk = data.add_chunk  # registering a chunk changes no count


def accepts_chunks(session: TenantSession, job_id: uuid.UUID, day: dt.date | None) -> bool:
    """Whether new chunks are still wanted: the job is live and, for a sync, the day is still being fetched."""
    if day is not None and data.day_status(session, job_id, day) != "fetching":
        return False
    return job_status(session, job_id) in LIVE_STATUSES


def finish_day_fetch(session: TenantSession, job_id: uuid.UUID, day: dt.date, *, chunks_total: int, rows: int) -> None:
    data.set_day_fetched(session, job_id, day, chunks_total=chunks_total, rows=rows)
    _settle(session, job_id)


def finish_split(session: TenantSession, job_id: uuid.UUID, counters: dict[str, Any]) -> None:
    """An export import registered all its chunks; ``counters`` adds what the split learned (lines, rejects)."""
    data.add_split_counters(session, job_id, counters)
    _settle(session, job_id)


def report_split(session: TenantSession, job_id: uuid.UUID, counters: dict[str, Any]) -> bool:
    """How far an export import's split got (``split_percent``, lines read...), before it ends; False once
    the job is no longer live (cancelled), so the split can stop."""
    data.add_counters(session, job_id, counters)
    _settle(session, job_id)
    return job_status(session, job_id) in LIVE_STATUSES


def claim_chunk(session: TenantSession, job_id: uuid.UUID, object_key: str) -> ChunkClaim:
    """Lock the chunk's row for loading. A chunk of a cancelled or failed job is skipped, not loaded."""
    state = data.lock_chunk(session, job_id, object_key)
    if state == "loaded":
        return "already_loaded"
    if state == "skipped" or job_status(session, job_id) not in LIVE_STATUSES:
        return "skip"
    return "load"


def chunk_loaded(
    session: TenantSession, job_id: uuid.UUID, object_key: str, *, day: dt.date | None, rows: int, rows_changed: int
) -> None:
    """Count a chunk as loaded, once, in the transaction that merged it."""
    if data.mark_chunk_loaded(session, job_id, object_key, day=day, rows=rows, rows_changed=rows_changed):
        _settle(session, job_id)


def skip_chunk(session: TenantSession, job_id: uuid.UUID, object_key: str) -> None:
    """A chunk of a job that stopped is skipped, not loaded (and counts as settled)."""
    data.mark_chunk_skipped(session, job_id, object_key)
    _settle(session, job_id)


def fail_day(session: TenantSession, job_id: uuid.UUID, day: dt.date, reason: str) -> None:
    data.mark_day_failed(session, job_id, day, reason)
    _settle(session, job_id)


def fail_job(session: TenantSession, job_id: uuid.UUID, reason: str) -> None:
    """Stop the whole job (for example a revoked credential): unfinished days fail, queued work is skipped."""
    data.end_open_days(session, job_id, status="failed", reason=reason)
    lifecycle.fail(session, job_id, reason)
    _settle(session, job_id)


def cancel(session: TenantSession, job_id: uuid.UUID) -> bool:
    """Cancel a live job: no new day or chunk starts; what already loaded stays. False if it had finished."""
    data.end_open_days(session, job_id, status="cancelled", reason=CANCELLED)
    cancelled = lifecycle.cancel(session, job_id)
    _settle(session, job_id)
    return cancelled


def _settle(session: TenantSession, job_id: uuid.UUID) -> None:
    """Recount the job's days and chunks; finish it when nothing is left."""
    job = data.lock_job(session, job_id)
    if job is None:
        return
    counts = data.counts(session, job_id)
    counters = job.counters | counts.as_counters()
    percent, finished, outcome = _measure(counts, counters)
    live = job.status in LIVE_STATUSES
    if live and finished:
        lifecycle.finish(session, job_id, outcome, counters=counters)
    else:
        data.write_counters(session, job_id, counters=counters, percent=percent if live else 100)


def _measure(counts: JobCounts, counters: dict[str, Any]) -> tuple[int, bool, Outcome]:
    """Percent done, whether the job's work is all settled, and its outcome in days (syncs) or lines (exports)."""
    if counts.days_total:
        return (
            int(100 * counts.days_progress / counts.days_total),
            counts.days_finished == counts.days_total,
            Outcome(succeeded=counts.days_total - counts.days_failed, failed=counts.days_failed),
        )
    split = bool(counters.get("split_complete"))
    settled = counts.chunks_done + counts.chunks_skipped
    if split:  # the first half: the split; the second: the chunks loaded (their number is known now)
        percent = int(50 + (50 * settled / counts.chunks_total if counts.chunks_total else 0))
    else:  # splitting: how far it got (``report_split``), while the number of chunks still grows
        percent = min(49, int(counters.get("split_percent") or 0) // 2)
    rejected = int(counters.get("rows_rejected") or 0)
    return percent, split and settled == counts.chunks_total, Outcome(succeeded=counts.chunks_done, failed=rejected)
