"""Long-running jobs and their progress, and presigned uploads that start them."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from shared.schemas.common import InputModel, OutputModel

JobStatus = Literal["pending", "running", "succeeded", "succeeded_with_errors", "failed", "cancelled"]
FINISHED_STATUSES: frozenset[str] = frozenset({"succeeded", "succeeded_with_errors", "failed", "cancelled"})


class LineError(BaseModel):
    line: int
    reason: str


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


class UploadTarget(BaseModel):
    url: str
    method: Literal["PUT"] = "PUT"
    headers: dict[str, str]
    expires_at: datetime


class KeywordImportIn(InputModel):
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)] = "keywords.csv"


class KeywordImportOut(BaseModel):
    job: JobOut
    upload: UploadTarget
