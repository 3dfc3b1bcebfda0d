"""Progress of Search Console jobs: days, chunks, counters, completion and cancellation.

A sync or backfill job has one ``gsc_job_days`` row per day. A day goes
pending -> fetching (gsc_sync pages through the API, writing chunks) ->
fetched (``chunks_total`` known) -> loaded (every chunk merged). An export
import has no days: its chunks are registered as the file is split, and
``split_complete`` in the counters says the set is final.

Every write here runs in the caller's transaction, next to the work it
records, so counters can never run ahead of (or behind) the data. Locks are
always taken chunk, then day, then job; ``cancel`` takes days, then the job;
so loaders and a cancel wait for each other instead of deadlocking.
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert

from shared.db import TenantSession
from shared.jobs.tables import Job
from shared.search_console.tables import GscChunk, GscJobDay

LIVE_STATUSES = ("pending", "running")
DAY_TERMINAL = ("loaded", "failed", "cancelled")
ChunkClaim = Literal["load", "already_loaded", "skip"]


def create_days(session: TenantSession, job_id: uuid.UUID, property_id: uuid.UUID, dates: Sequence[dt.date]) -> None:
    session.execute(
        insert(GscJobDay).values(
            [
                {"tenant_id": session.tenant_id, "job_id": job_id, "property_id": property_id, "date": day}
                for day in dates
            ]
        )
    )
    refresh_job(session, job_id)


def job_status(session: TenantSession, job_id: uuid.UUID) -> str | None:
    return session.scalar(select(Job.status).where(Job.tenant_id == session.tenant_id, Job.id == job_id))


def day_status(session: TenantSession, job_id: uuid.UUID, day: dt.date, *, for_update: bool = False) -> str | None:
    """A day's status; ``for_update`` locks the day (before its job, as everywhere here)."""
    stmt = select(GscJobDay.status).where(
        GscJobDay.tenant_id == session.tenant_id, GscJobDay.job_id == job_id, GscJobDay.date == day
    )
    return session.scalar(stmt.with_for_update() if for_update else stmt)


def start_day(session: TenantSession, job_id: uuid.UUID, day: dt.date) -> bool:
    """Claim a day for fetching. False when the job is over or the day was already fetched (a redelivery)."""
    claimed = session.execute(
        update(GscJobDay)
        .where(
            GscJobDay.tenant_id == session.tenant_id,
            GscJobDay.job_id == job_id,
            GscJobDay.date == day,
            GscJobDay.status.in_(("pending", "fetching")),
        )
        .values(status="fetching", chunks_total=None, rows_fetched=0, error=None, updated_at=func.now())
        .returning(GscJobDay.date)
    ).first()
    if claimed is None:
        return False
    started = session.execute(
        update(Job)
        .where(Job.tenant_id == session.tenant_id, Job.id == job_id, Job.status.in_(LIVE_STATUSES))
        .values(status="running", started_at=func.coalesce(Job.started_at, func.now()))
        .returning(Job.id)
    ).first()
    return started is not None


def add_chunk(
    session: TenantSession,
    job_id: uuid.UUID,
    property_id: uuid.UUID,
    object_key: str,
    *,
    rows: int,
    day: dt.date | None,
) -> None:
    """Register a written chunk (idempotent: a rewritten chunk keeps its row)."""
    stmt = insert(GscChunk).values(
        tenant_id=session.tenant_id, job_id=job_id, object_key=object_key, property_id=property_id, date=day, rows=rows
    )
    session.execute(stmt.on_conflict_do_nothing(index_elements=[GscChunk.job_id, GscChunk.object_key]))


def finish_day_fetch(session: TenantSession, job_id: uuid.UUID, day: dt.date, *, chunks_total: int, rows: int) -> None:
    """Every chunk of the day is written: the day is complete once they have all loaded (maybe already)."""
    session.execute(
        update(GscJobDay)
        .where(GscJobDay.tenant_id == session.tenant_id, GscJobDay.job_id == job_id, GscJobDay.date == day)
        .values(
            chunks_total=chunks_total,
            rows_fetched=rows,
            status=text("CASE WHEN chunks_loaded >= :total THEN 'loaded' ELSE 'fetched' END").bindparams(
                total=chunks_total
            ),
            updated_at=func.now(),
        )
    )
    refresh_job(session, job_id)


def finish_split(session: TenantSession, job_id: uuid.UUID, counters: dict[str, Any]) -> None:
    """An export import registered all its chunks; ``counters`` adds what the split learned (lines, rejects)."""
    session.execute(
        update(Job)
        .where(Job.tenant_id == session.tenant_id, Job.id == job_id)
        .values(counters=Job.counters.op("||")(func.jsonb_build_object("split_complete", True)).op("||")(counters))
    )
    refresh_job(session, job_id)


def claim_chunk(session: TenantSession, job_id: uuid.UUID, object_key: str) -> ChunkClaim:
    """Lock the chunk's row for loading. A chunk of a cancelled or failed job is skipped, not loaded."""
    status = session.scalar(
        select(GscChunk.status)
        .where(GscChunk.tenant_id == session.tenant_id, GscChunk.job_id == job_id, GscChunk.object_key == object_key)
        .with_for_update()
    )
    if status == "loaded":
        return "already_loaded"
    if status == "skipped" or job_status(session, job_id) not in LIVE_STATUSES:
        return "skip"
    return "load"


def chunk_loaded(
    session: TenantSession,
    job_id: uuid.UUID,
    object_key: str,
    *,
    day: dt.date | None,
    rows: int,
    rows_changed: int,
) -> None:
    """Count a chunk as loaded, once, in the transaction that merged it."""
    flipped = session.execute(
        update(GscChunk)
        .where(
            GscChunk.tenant_id == session.tenant_id,
            GscChunk.job_id == job_id,
            GscChunk.object_key == object_key,
            GscChunk.status == "pending",
        )
        .values(status="loaded", rows_changed=rows_changed, loaded_at=func.now())
        .returning(GscChunk.object_key)
    ).first()
    if flipped is None:
        return
    if day is not None:
        session.execute(
            update(GscJobDay)
            .where(GscJobDay.tenant_id == session.tenant_id, GscJobDay.job_id == job_id, GscJobDay.date == day)
            .values(
                chunks_loaded=GscJobDay.chunks_loaded + 1,
                rows_loaded=GscJobDay.rows_loaded + rows,
                status=text(
                    "CASE WHEN status = 'fetched' AND chunks_loaded + 1 >= chunks_total THEN 'loaded' ELSE status END"
                ),
                updated_at=func.now(),
            )
        )
    refresh_job(session, job_id)


def skip_chunk(session: TenantSession, job_id: uuid.UUID, object_key: str) -> None:
    session.execute(
        update(GscChunk)
        .where(
            GscChunk.tenant_id == session.tenant_id,
            GscChunk.job_id == job_id,
            GscChunk.object_key == object_key,
            GscChunk.status == "pending",
        )
        .values(status="skipped")
    )


def fail_day(session: TenantSession, job_id: uuid.UUID, day: dt.date, reason: str) -> None:
    session.execute(
        update(GscJobDay)
        .where(GscJobDay.tenant_id == session.tenant_id, GscJobDay.job_id == job_id, GscJobDay.date == day)
        .values(status="failed", error=reason, updated_at=func.now())
    )
    refresh_job(session, job_id)


def fail_job(session: TenantSession, job_id: uuid.UUID, reason: str) -> None:
    """Stop the whole job (for example a revoked credential): unfinished days fail, queued work is skipped."""
    _end_open_days(session, job_id, status="failed", reason=reason)
    session.execute(
        update(Job)
        .where(Job.tenant_id == session.tenant_id, Job.id == job_id, Job.status.in_(LIVE_STATUSES))
        .values(status="failed", failure_reason=reason, finished_at=func.now())
    )
    refresh_job(session, job_id)


def cancel(session: TenantSession, job_id: uuid.UUID) -> bool:
    """Cancel a live job: no new day or chunk starts; what already loaded stays. False if it had finished."""
    _end_open_days(session, job_id, status="cancelled", reason="The job was cancelled.")
    cancelled = session.execute(
        update(Job)
        .where(Job.tenant_id == session.tenant_id, Job.id == job_id, Job.status.in_(LIVE_STATUSES))
        .values(status="cancelled", finished_at=func.now())
        .returning(Job.id)
    ).first()
    refresh_job(session, job_id)
    return cancelled is not None


def _end_open_days(session: TenantSession, job_id: uuid.UUID, *, status: str, reason: str) -> None:
    open_days = (
        select(GscJobDay.date)
        .where(
            GscJobDay.tenant_id == session.tenant_id,
            GscJobDay.job_id == job_id,
            GscJobDay.status.not_in(DAY_TERMINAL),
        )
        .order_by(GscJobDay.date)
        .with_for_update()
    )
    days = list(session.scalars(open_days))
    if days:
        session.execute(
            update(GscJobDay)
            .where(GscJobDay.tenant_id == session.tenant_id, GscJobDay.job_id == job_id, GscJobDay.date.in_(days))
            .values(status=status, error=reason, updated_at=func.now())
        )


_PROGRESS = text(
    """
    WITH days AS (
      SELECT count(*) AS days_total,
             count(*) FILTER (WHERE status = 'loaded') AS days_done,
             count(*) FILTER (WHERE status = 'failed') AS days_failed,
             count(*) FILTER (WHERE status IN ('loaded', 'failed', 'cancelled')) AS days_finished,
             coalesce(sum(rows_fetched), 0) AS rows_fetched,
             -- a day's share: half for fetching it, half for loading its chunks
             coalesce(sum(CASE
               WHEN status IN ('loaded', 'failed', 'cancelled') THEN 1.0
               WHEN status = 'fetched' AND chunks_total > 0 THEN 0.5 + 0.5 * chunks_loaded / chunks_total
               WHEN status = 'fetched' THEN 1.0
               ELSE 0 END), 0) AS days_progress
      FROM gsc_job_days WHERE tenant_id = :tenant_id AND job_id = :job_id
    ), chunks AS (
      SELECT count(*) AS chunks_total,
             count(*) FILTER (WHERE status = 'loaded') AS chunks_done,
             count(*) FILTER (WHERE status = 'skipped') AS chunks_skipped,
             coalesce(sum(rows) FILTER (WHERE status = 'loaded'), 0) AS rows_loaded,
             coalesce(sum(rows_changed) FILTER (WHERE status = 'loaded'), 0) AS rows_changed
      FROM gsc_chunks WHERE tenant_id = :tenant_id AND job_id = :job_id
    )
    SELECT days.*, chunks.* FROM days, chunks
    """
)


def refresh_job(session: TenantSession, job_id: uuid.UUID) -> None:
    """Recompute the job's counters and percent from its days and chunks; finish it when nothing is left."""
    job = session.execute(
        select(Job.status, Job.counters).where(Job.tenant_id == session.tenant_id, Job.id == job_id).with_for_update()
    ).first()
    if job is None:
        return
    p = session.execute(_PROGRESS, {"tenant_id": session.tenant_id, "job_id": job_id}).mappings().one()
    counters = dict(job.counters) | {
        "days_total": p["days_total"],
        "days_done": p["days_done"],
        "days_failed": p["days_failed"],
        "chunks_total": p["chunks_total"],
        "chunks_done": p["chunks_done"],
        "chunks_skipped": p["chunks_skipped"],
        "rows_fetched": int(p["rows_fetched"]),
        "rows_loaded": int(p["rows_loaded"]),
        "rows_changed": int(p["rows_changed"]),
    }
    values: dict[str, Any] = {"counters": counters}
    if p["days_total"]:
        percent = int(100 * float(p["days_progress"]) / p["days_total"])
        finished = p["days_finished"] == p["days_total"]
    else:
        split = bool(counters.get("split_complete"))
        settled = p["chunks_done"] + p["chunks_skipped"]
        percent = int((50 if split else 0) + (50 * settled / p["chunks_total"] if p["chunks_total"] else 0))
        finished = split and settled == p["chunks_total"]
    if job.status in LIVE_STATUSES and finished:
        values["finished_at"] = func.now()
        if p["days_total"] and p["days_failed"] == p["days_total"]:
            values["status"] = "failed"
        elif p["days_failed"] or counters.get("rows_rejected"):
            values["status"] = "succeeded_with_errors"
        else:
            values["status"] = "succeeded"
        percent = 100
    elif job.status not in LIVE_STATUSES:
        percent = 100
    values["progress_percent"] = max(0, min(100, percent))
    session.execute(update(Job).where(Job.tenant_id == session.tenant_id, Job.id == job_id).values(**values))
