"""The rows that count a Search Console job's work: its days and chunks, and the counts read off them.

A sync or backfill job has one ``gsc_job_days`` row per day. A day goes
pending -> fetching (gsc_sync pages through the API, writing chunks) ->
fetched (``chunks_total`` known) -> loaded (every chunk merged). An export
import has no days: its chunks are registered as the file is split, and
``split_complete`` in the counters says the set is final.

SQL only: what the counts mean for the job is decided in
``shared.search_console.progress``. Locks are always taken chunk, then day,
then job; ending open days takes days, then the job; so loaders and a cancel
wait for each other instead of deadlocking.
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import cast, func, select, text, update
from sqlalchemy.dialects.postgresql import JSONB, insert

from shared.db import TenantSession
from shared.jobs.models import JobStatus
from shared.jobs.tables import Job
from shared.search_console.tables import GscChunk, GscJobDay

DAY_TERMINAL = ("loaded", "failed", "cancelled")
ChunkState = Literal["pending", "loaded", "skipped"]


@dataclass(frozen=True)
class JobCounts:
    """A job's days and chunks as counted in one statement."""

    days_total: int
    days_done: int
    days_failed: int
    days_finished: int
    days_progress: float  # days done, with a fetched day's loaded share of its chunks
    rows_fetched: int
    chunks_total: int
    chunks_done: int
    chunks_skipped: int
    rows_loaded: int
    rows_changed: int

    def as_counters(self) -> dict[str, int]:
        return {
            "days_total": self.days_total,
            "days_done": self.days_done,
            "days_failed": self.days_failed,
            "chunks_total": self.chunks_total,
            "chunks_done": self.chunks_done,
            "chunks_skipped": self.chunks_skipped,
            "rows_fetched": self.rows_fetched,
            "rows_loaded": self.rows_loaded,
            "rows_changed": self.rows_changed,
        }


@dataclass(frozen=True)
class JobState:
    status: JobStatus
    counters: dict[str, Any]


def _update_pending_chunk(session: TenantSession, job_id: uuid.UUID, object_key: str) -> Any:
    return update(GscChunk).where(
        GscChunk.tenant_id == session.tenant_id,
        GscChunk.job_id == job_id,
        GscChunk.object_key == object_key,
        GscChunk.status == "pending",
    )


def _update_day(session: TenantSession, job_id: uuid.UUID, day: dt.date) -> Any:
    return update(GscJobDay).where(
        GscJobDay.tenant_id == session.tenant_id, GscJobDay.job_id == job_id, GscJobDay.date == day
    )


def insert_days(session: TenantSession, job_id: uuid.UUID, property_id: uuid.UUID, dates: Sequence[dt.date]) -> None:
    session.execute(
        insert(GscJobDay).values(
            [
                {"tenant_id": session.tenant_id, "job_id": job_id, "property_id": property_id, "date": day}
                for day in dates
            ]
        )
    )


def day_status(session: TenantSession, job_id: uuid.UUID, day: dt.date, *, for_update: bool = False) -> str | None:
    """A day's status; ``for_update`` locks the day (before its job, as everywhere here)."""
    stmt = select(GscJobDay.status).where(
        GscJobDay.tenant_id == session.tenant_id, GscJobDay.job_id == job_id, GscJobDay.date == day
    )
    return session.scalar(stmt.with_for_update() if for_update else stmt)


def claim_day(session: TenantSession, job_id: uuid.UUID, day: dt.date) -> bool:
    """The day is ours to fetch (pending, or a redelivery of one being fetched); False when it was fetched."""
    claimed = session.execute(
        _update_day(session, job_id, day)
        .where(GscJobDay.status.in_(("pending", "fetching")))
        .values(status="fetching", chunks_total=None, rows_fetched=0, error=None, updated_at=func.now())
        .returning(GscJobDay.date)
    ).first()
    return claimed is not None


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


def set_day_fetched(session: TenantSession, job_id: uuid.UUID, day: dt.date, *, chunks_total: int, rows: int) -> None:
    """Every chunk of the day is written: the day is complete once they have all loaded (maybe already)."""
    session.execute(
        _update_day(session, job_id, day).values(
            chunks_total=chunks_total,
            rows_fetched=rows,
            status=text("CASE WHEN chunks_loaded >= :total THEN 'loaded' ELSE 'fetched' END").bindparams(
                total=chunks_total
            ),
            updated_at=func.now(),
        )
    )


def add_split_counters(session: TenantSession, job_id: uuid.UUID, counters: dict[str, Any]) -> None:
    """An export import registered all its chunks: ``split_complete``, plus what the split learned."""
    session.execute(
        update(Job)
        .where(Job.tenant_id == session.tenant_id, Job.id == job_id)
        .values(counters=Job.counters.op("||")(func.jsonb_build_object("split_complete", True)).op("||")(counters))
    )


def add_counters(session: TenantSession, job_id: uuid.UUID, counters: dict[str, Any]) -> None:
    """Merge ``counters`` into the job's (the others stay as they are)."""
    session.execute(
        update(Job)
        .where(Job.tenant_id == session.tenant_id, Job.id == job_id)
        .values(counters=Job.counters.op("||")(cast(counters, JSONB)))
    )


def lock_chunk(session: TenantSession, job_id: uuid.UUID, object_key: str) -> ChunkState | None:
    """Lock the chunk's row for loading; its state, or None for a chunk never registered."""
    state = session.scalar(
        select(GscChunk.status)
        .where(GscChunk.tenant_id == session.tenant_id, GscChunk.job_id == job_id, GscChunk.object_key == object_key)
        .with_for_update()
    )
    return None if state is None else state  # type: ignore[return-value]


def mark_chunk_loaded(
    session: TenantSession, job_id: uuid.UUID, object_key: str, *, day: dt.date | None, rows: int, rows_changed: int
) -> bool:
    """Count a chunk as loaded, once (False when it already was), and its day's share."""
    flipped = session.execute(
        _update_pending_chunk(session, job_id, object_key)
        .values(status="loaded", rows_changed=rows_changed, loaded_at=func.now())
        .returning(GscChunk.object_key)
    ).first()
    if flipped is None:
        return False
    if day is not None:
        session.execute(
            _update_day(session, job_id, day).values(
                chunks_loaded=GscJobDay.chunks_loaded + 1,
                rows_loaded=GscJobDay.rows_loaded + rows,
                status=text(
                    "CASE WHEN status = 'fetched' AND chunks_loaded + 1 >= chunks_total THEN 'loaded' ELSE status END"
                ),
                updated_at=func.now(),
            )
        )
    return True


def mark_chunk_skipped(session: TenantSession, job_id: uuid.UUID, object_key: str) -> None:
    session.execute(_update_pending_chunk(session, job_id, object_key).values(status="skipped"))


def mark_day_failed(session: TenantSession, job_id: uuid.UUID, day: dt.date, reason: str) -> None:
    session.execute(_update_day(session, job_id, day).values(status="failed", error=reason, updated_at=func.now()))


def end_open_days(session: TenantSession, job_id: uuid.UUID, *, status: str, reason: str) -> None:
    """Every day not yet loaded, failed or cancelled ends with ``status`` (locked in date order)."""
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


def lock_job(session: TenantSession, job_id: uuid.UUID) -> JobState | None:
    row = session.execute(
        select(Job.status, Job.counters).where(Job.tenant_id == session.tenant_id, Job.id == job_id).with_for_update()
    ).first()
    return None if row is None else JobState(status=JobStatus(row.status), counters=dict(row.counters))


_COUNTS = text(
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


def counts(session: TenantSession, job_id: uuid.UUID) -> JobCounts:
    row = session.execute(_COUNTS, {"tenant_id": session.tenant_id, "job_id": job_id}).mappings().one()
    return JobCounts(
        days_total=row["days_total"],
        days_done=row["days_done"],
        days_failed=row["days_failed"],
        days_finished=row["days_finished"],
        days_progress=float(row["days_progress"]),
        rows_fetched=int(row["rows_fetched"]),
        chunks_total=row["chunks_total"],
        chunks_done=row["chunks_done"],
        chunks_skipped=row["chunks_skipped"],
        rows_loaded=int(row["rows_loaded"]),
        rows_changed=int(row["rows_changed"]),
    )


def write_counters(session: TenantSession, job_id: uuid.UUID, *, counters: dict[str, Any], percent: int) -> None:
    session.execute(
        update(Job)
        .where(Job.tenant_id == session.tenant_id, Job.id == job_id)
        .values(counters=counters, progress_percent=max(0, min(100, percent)))
    )
