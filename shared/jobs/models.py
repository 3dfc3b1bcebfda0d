"""Long-running jobs and their progress, as the API shows them."""

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from shared.models import OutputModel

JobStatus = Literal["pending", "running", "succeeded", "succeeded_with_errors", "failed", "cancelled"]
FINISHED_STATUSES: frozenset[str] = frozenset({"succeeded", "succeeded_with_errors", "failed", "cancelled"})
JobKind = Literal["keyword_import", "gsc_sync", "gsc_backfill", "gsc_export_import"]
# The kinds whose work is counted in days and chunks (shared.search_console.data.progress); the same as
# shared.search_console.models.GSC_JOB_KINDS, which cannot be imported here (gsc imports this module).
SEARCH_CONSOLE_KINDS: frozenset[str] = frozenset({"gsc_sync", "gsc_backfill", "gsc_export_import"})


class LineError(BaseModel):
    line: int
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

    @classmethod
    def of(cls, *, percent: int, counters: dict[str, Any], error_count: int) -> "JobProgress":
        counted = {name: int(counters.get(name) or 0) for name in _COUNTED}
        return cls(percent=percent, errors=error_count, **counted)


_COUNTED = (
    "days_total",
    "days_done",
    "days_failed",
    "chunks_total",
    "chunks_done",
    "rows_fetched",
    "rows_loaded",
    "rows_changed",
)


class JobOut(OutputModel):
    id: uuid.UUID
    project_id: uuid.UUID | None
    kind: str
    status: JobStatus
    progress_percent: int
    counters: dict[str, Any]
    error_count: int = Field(description="All errors; `errors` lists the first 1,000.")
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
