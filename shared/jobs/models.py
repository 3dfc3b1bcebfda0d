"""Long-running jobs and their progress, as the API shows them."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from shared.models import OutputModel


class JobKind(StrEnum):
    """Every kind of long-running job, defined once."""

    KEYWORD_IMPORT = "keyword_import"
    GSC_SYNC = "gsc_sync"
    GSC_BACKFILL = "gsc_backfill"
    GSC_EXPORT_IMPORT = "gsc_export_import"
    SITE_CRAWL = "site_crawl"
    TOPIC_MODEL = "topic_model"
    RANK_CHECK = "rank_check"  # a project's daily rank check, or an on-demand live check of some keywords


SYNC_KINDS: frozenset[JobKind] = frozenset({JobKind.GSC_SYNC, JobKind.GSC_BACKFILL})
"""Jobs of one unit of work per day, paged from the Search Console API."""
SEARCH_CONSOLE_KINDS: frozenset[JobKind] = SYNC_KINDS | {JobKind.GSC_EXPORT_IMPORT}
"""Jobs whose work is counted in days and chunks loaded by gsc_ingest; they can be cancelled while they run."""


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    SUCCEEDED_WITH_ERRORS = "succeeded_with_errors"
    FAILED = "failed"
    CANCELLED = "cancelled"


LIVE_STATUSES: frozenset[JobStatus] = frozenset({JobStatus.PENDING, JobStatus.RUNNING})
FINISHED_STATUSES: frozenset[JobStatus] = frozenset(JobStatus) - LIVE_STATUSES
MAX_STORED_ERRORS = 1000
"""A job counts all its errors and keeps the first thousand."""


class JobErrors:
    """Errors as jobs store them (``{"line", "reason"}``, ``{"url", "reason"}`` or ``{"keyword_id", "reason"}``):
    all counted, the first ``MAX_STORED_ERRORS`` kept."""

    def __init__(self, keep: int = MAX_STORED_ERRORS) -> None:
        self.keep = keep
        self.items: list[dict[str, Any]] = []
        self.count = 0

    def add(self, line: int, reason: str) -> None:
        self.count += 1
        if len(self.items) < self.keep:
            self.items.append({"line": line, "reason": reason})

    def add_url(self, url: str, reason: str) -> None:
        self.count += 1
        if len(self.items) < self.keep:
            self.items.append({"url": url, "reason": reason})

    def add_keyword(self, keyword_id: uuid.UUID, reason: str) -> None:
        self.count += 1
        if len(self.items) < self.keep:
            self.items.append({"keyword_id": str(keyword_id), "reason": reason})


class LineError(BaseModel):
    """One error of a job: the line of its file, the URL it fetched, or the keyword it checked, and why."""

    line: int | None = None
    url: str | None = None
    keyword_id: uuid.UUID | None = None
    reason: str


class JobProgress(OutputModel):
    """Progress of a Search Console job, read from its counters."""

    percent: int
    days_total: int = 0
    days_done: int = 0
    days_failed: int = 0
    chunks_total: int = 0
    chunks_done: int = 0
    rows_fetched: int = 0
    rows_loaded: int = 0
    rows_changed: int = 0
    errors: int = Field(default=0, description="The job's `error_count` (for example rejected lines of an export).")
    bytes_total: int = Field(default=0, description="Export imports: the uploaded file's size.")
    bytes_read: int = Field(
        default=0, description="Export imports: how much of the file was read so far (as uploaded: gzip bytes)."
    )
    lines_read: int = Field(default=0, description="Export imports: data lines read so far, rejected ones too.")

    @classmethod
    def of(cls, *, percent: int, counters: dict[str, Any], error_count: int) -> "JobProgress":
        counted = {name: int(counters.get(name) or 0) for name in _COUNTED}
        return cls(percent=percent, errors=error_count, lines_read=int(counters.get("lines") or 0), **counted)


_COUNTED = (
    "days_total",
    "days_done",
    "days_failed",
    "chunks_total",
    "chunks_done",
    "rows_fetched",
    "rows_loaded",
    "rows_changed",
    "bytes_total",
    "bytes_read",
)


class JobOut(OutputModel):
    id: uuid.UUID
    project_id: uuid.UUID | None
    kind: JobKind
    status: JobStatus
    progress_percent: int
    counters: dict[str, Any]
    error_count: int = Field(description=f"All errors; `errors` lists the first {MAX_STORED_ERRORS:,}.")
    errors: list[LineError]
    failure_reason: str | None
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    progress: JobProgress | None = Field(
        default=None, description="Search Console jobs: days, chunks and rows done so far. Null for other kinds."
    )

    @model_validator(mode="after")
    def _search_console_progress(self) -> "JobOut":
        if self.progress is None and self.kind in SEARCH_CONSOLE_KINDS:
            self.progress = JobProgress.of(
                percent=self.progress_percent, counters=self.counters, error_count=self.error_count
            )
        return self


DayStatus = Literal["pending", "fetching", "fetched", "loaded", "failed", "cancelled"]


class JobDayOut(OutputModel):
    """One day of a sync or backfill: fetched from Search Console in chunks, complete once every chunk loaded."""

    date: date
    status: DayStatus
    chunks_total: int | None = Field(description="Known once the day is fetched.")
    chunks_loaded: int
    rows_fetched: int
    rows_loaded: int
    error: str | None
