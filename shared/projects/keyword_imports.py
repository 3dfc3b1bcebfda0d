"""Keyword imports: a job, a presigned upload, and the worker that loads the file.

The rows are written in batches inside one transaction that also finishes
the job, so a file rejected half-way (or a crash) leaves nothing half-written;
progress is reported from separate short transactions so users can watch it.
"""

import io
import time
import uuid
from typing import Any

from shared.auth import Principal
from shared.db import tenant_transaction
from shared.errors import RejectedFile
from shared.imports.uploads import KEYWORD_IMPORT, Upload, UploadKey, presigned_put, upload_job
from shared.jobs import lifecycle
from shared.jobs.data import jobs
from shared.jobs.lifecycle import Outcome
from shared.jobs.models import FINISHED_STATUSES, JobErrors, JobKind, JobOut
from shared.observability import logger
from shared.projects.data import projects
from shared.projects.keyword_csv import ParsedLine, parse_keyword_csv
from shared.projects.keywords import add_distinct
from shared.projects.models import KeywordImportIn, KeywordImportOut, KeywordIn
from shared.runtime.work import Work
from shared.settings import Uploads, settings_of
from shared.tenancy.data import tenants
from shared.tenancy.scope import tenant_scope

JOB_KIND = JobKind.KEYWORD_IMPORT
MAX_FILE_BYTES = 100 * 1024 * 1024
BATCH_SIZE = 1000
PROGRESS_INTERVAL_SECONDS = 2.0


def start(principal: Principal, project_id: uuid.UUID, data: KeywordImportIn) -> KeywordImportOut:
    with tenant_scope(principal) as session:
        projects.get(session, project_id)
        tenants.touch_user(session, principal.subject)
        job = jobs.create(
            session,
            kind=JOB_KIND,
            project_id=project_id,
            input={"filename": data.filename},
            created_by=principal.subject,
        )
        key = UploadKey(tenant_id=principal.tenant_id, kind=KEYWORD_IMPORT, job_id=job.id)
        job.input = {"filename": data.filename, "bucket": settings_of(Uploads).uploads_bucket, "key": key.object_key}
        session.flush()
        out = JobOut.model_validate(job)
    return KeywordImportOut(job=out, upload=presigned_put(key, "text/csv"))


class _CountingStream(io.RawIOBase):
    """A readable view of an S3 body that counts the bytes read, for progress."""

    def __init__(self, body: Any) -> None:
        self._body = body
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._body.read(len(buffer))
        buffer[: len(chunk)] = chunk
        self.bytes_read += len(chunk)
        return len(chunk)


class _Progress:
    def __init__(self, tenant_id: str, job_id: uuid.UUID, total_bytes: int) -> None:
        self.tenant_id, self.job_id, self.total_bytes = tenant_id, job_id, max(total_bytes, 1)
        self._last = time.monotonic()

    def maybe_report(self, bytes_read: int, counters: dict[str, int]) -> None:
        now = time.monotonic()
        if now - self._last < PROGRESS_INTERVAL_SECONDS:
            return
        self._last = now
        percent = min(99, bytes_read * 100 // self.total_bytes)
        with tenant_transaction(self.tenant_id) as session:
            lifecycle.report_progress(session, self.job_id, percent=percent, counters=counters)


def run(upload: Upload, work: Work) -> str:
    """Load one uploaded keyword file into its job's project. Returns the job's final status."""
    key, size = upload.key, upload.size
    with tenant_transaction(key.tenant_id) as session:
        job, project_id = upload_job(session, key, JOB_KIND)
        if job.status in FINISHED_STATUSES:
            return job.status
        lifecycle.start(session, key.job_id)

    counters = {
        "bytes_total": size,
        "bytes_read": 0,
        "lines": 0,
        "keywords_created": 0,
        "keywords_already_tracked": 0,
        "lines_repeated": 0,
        "lines_invalid": 0,
    }
    errors = JobErrors()
    try:
        if size > MAX_FILE_BYTES:
            raise RejectedFile(f"The file is {size / 1048576:.1f} MB; keyword imports take up to 100 MB.")
        body = upload.open()
        stream = _CountingStream(body)
        text = io.TextIOWrapper(io.BufferedReader(stream, 1 << 16), encoding="utf-8-sig", newline="")
        progress = _Progress(key.tenant_id, key.job_id, size)
        with work.finish() as session:  # the keywords and the job's end commit together, or neither
            seen: set[tuple[str, str, str, str]] = set()
            batch: list[KeywordIn] = []

            def flush() -> None:
                created, already = add_distinct(session, project_id, batch)
                counters["keywords_created"] += len(created)
                counters["keywords_already_tracked"] += len(already)
                batch.clear()
                counters["bytes_read"] = stream.bytes_read
                progress.maybe_report(stream.bytes_read, counters)

            for parsed in parse_keyword_csv(text):
                counters["lines"] += 1
                _count(parsed, counters, errors, seen, batch)
                if len(batch) >= BATCH_SIZE:
                    flush()
            flush()
            status = lifecycle.finish(session, key.job_id, _outcome(counters), counters=counters, errors=errors)
    except RejectedFile as rejected:
        # The data transaction rolled back: record why, and consider the upload handled.
        with work.finish() as session:
            lifecycle.fail(session, key.job_id, rejected.reason, counters=counters, errors=errors)
        logger.info("Keyword import rejected", extra={"job_id": str(key.job_id), "reason": rejected.reason})
        return "failed"
    logger.info("Keyword import finished", extra={"job_id": str(key.job_id), "status": status, **counters})
    return status


def _count(
    parsed: ParsedLine,
    counters: dict[str, int],
    errors: JobErrors,
    seen: set[tuple[str, str, str, str]],
    batch: list[KeywordIn],
) -> None:
    if parsed.keyword is None:
        counters["lines_invalid"] += 1
        errors.add(parsed.line, parsed.error or "invalid")
        return
    identity = parsed.keyword.identity()
    if identity in seen:
        counters["lines_repeated"] += 1
        return
    seen.add(identity)
    batch.append(parsed.keyword)


def _outcome(counters: dict[str, int]) -> Outcome:
    """Lines read into keywords (new, already tracked or repeated) against invalid lines; a file that has no
    usable line at all is rejected instead, with the reason."""
    valid = counters["keywords_created"] + counters["keywords_already_tracked"] + counters["lines_repeated"]
    if counters["lines"] == 0:
        raise RejectedFile("The file has a header but no keyword lines.")
    if valid == 0:
        raise RejectedFile(f"No valid keyword lines: all {counters['lines_invalid']} lines have errors (see errors).")
    return Outcome(succeeded=valid, failed=counters["lines_invalid"])
