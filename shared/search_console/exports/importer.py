"""Search Console export imports: a job and a presigned upload, then the file_import worker's importer.

UI exports (the zip, or one of its CSVs) become dated snapshots in
gsc_export_snapshots, written with the job's finish in one transaction:
a file rejected half-way leaves nothing behind, and re-importing an export
rewrites nothing (a corrected export updates the values it changes).

Bulk exports (``searchdata_url_impression`` rows) are read in two passes: the
first validates every line and spills valid rows to local disk, the second sums
rows sharing a gsc_rows key and cuts them into chunks for gsc_ingest, as a
sync's pages are. So a wholly unusable file writes no chunk, and a re-run of the
same upload writes the same chunks under the same keys. The job finishes once
gsc_ingest has loaded every chunk (``progress.refresh_job``).
"""

import datetime as dt
import math
import tempfile
import time
import uuid
from itertools import batched
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from shared.auth import Principal
from shared.db import tenant_transaction
from shared.errors import InvalidRequest, NotFound, RejectedFile
from shared.imports.uploads import GSC_EXPORT, Upload, UploadKey, presigned_put, upload_job
from shared.jobs import lifecycle
from shared.jobs.data import jobs
from shared.jobs.lifecycle import Outcome
from shared.jobs.models import FINISHED_STATUSES, JobErrors, JobKind, JobOut, JobStatus
from shared.observability import logger
from shared.projects.data import projects
from shared.runtime.work import Work
from shared.search_console import chunks as gsc_chunks
from shared.search_console import progress
from shared.search_console.data import snapshots as gsc_snapshots
from shared.search_console.exports import aggregation, bulk, csv_text, ui
from shared.search_console.models import (
    CHUNK_ROWS,
    ExportFormat,
    GscExportImportIn,
    GscExportImportOut,
    SearchType,
)
from shared.settings import Uploads, settings_of
from shared.tenancy.data import tenants
from shared.tenancy.scope import tenant_scope

JOB_KIND = JobKind.GSC_EXPORT_IMPORT
MAX_UI_BYTES = 50 * 1024 * 1024  # a real UI export is well under 1 MB (1,000 rows per report)
MAX_BULK_BYTES = 1024 * 1024 * 1024
# Bulk rows are summed one hash partition at a time: about this much CSV text per partition.
PARTITION_BYTES = 32 * 1024 * 1024
GZIP_RATIO = 8  # how much CSV text a gzip byte holds, roughly, to size partitions
SPLIT_PROGRESS_SECONDS = 2.0  # how often a bulk split records its progress on the job, at most
READING_SHARE = 70  # percent of a bulk split spent reading the file (the rest: summing and writing chunks)
# (suffix, key extension, content type, formats): the upload's content type follows its name.
UPLOAD_TYPES: tuple[tuple[str, str, str, tuple[ExportFormat, ...]], ...] = (
    (".zip", "zip", "application/zip", ("ui_export",)),
    (".csv.gz", "csv.gz", "application/gzip", ("ui_export", "bulk_export")),
    (".gz", "csv.gz", "application/gzip", ("ui_export", "bulk_export")),
    (".csv", "csv", "text/csv", ("ui_export", "bulk_export")),
    (".tsv", "csv", "text/csv", ("ui_export", "bulk_export")),
    (".txt", "csv", "text/csv", ("ui_export", "bulk_export")),  # Excel's "Unicode text"
)


class _ImportInput(BaseModel):
    """What ``start`` stored in the job's input."""

    model_config = ConfigDict(extra="ignore")

    format: ExportFormat
    filename: str
    property_id: uuid.UUID
    site_url: str
    range_start: dt.date | None = None
    range_end: dt.date | None = None
    search_type: SearchType | None = None


def upload_type(data: GscExportImportIn) -> tuple[str, str]:
    """The upload key's extension and the content type to PUT the file with, from its name."""
    name = data.filename.strip().lower()
    for suffix, extension, content_type, formats in UPLOAD_TYPES:
        if name.endswith(suffix):
            if data.format not in formats:
                raise InvalidRequest(
                    f"A {suffix} file is a Search Console UI export: create the import with format ui_export."
                )
            return extension, content_type
    raise InvalidRequest("filename must end in .zip, .csv or .csv.gz (or .gz, .tsv, .txt).")


def start(
    principal: Principal, project_id: uuid.UUID, property_id: uuid.UUID, data: GscExportImportIn
) -> GscExportImportOut:
    extension, content_type = upload_type(data)
    with tenant_scope(principal) as session:
        prop = projects.get_property(session, project_id, property_id)
        tenants.touch_user(session, principal.subject)
        job = jobs.create(session, kind=JOB_KIND, project_id=project_id, input={}, created_by=principal.subject)
        key = UploadKey(tenant_id=principal.tenant_id, kind=GSC_EXPORT, job_id=job.id, extension=extension)
        job.input = {
            "format": data.format,
            "filename": data.filename,
            "property_id": str(prop.id),
            "site_url": prop.site_url,
            "range_start": data.range_start.isoformat() if data.range_start else None,
            "range_end": data.range_end.isoformat() if data.range_end else None,
            "search_type": data.search_type,
            "bucket": settings_of(Uploads).uploads_bucket,
            "key": key.object_key,
        }
        session.flush()
        out = JobOut.model_validate(job)
    return GscExportImportOut(job=out, upload=presigned_put(key, content_type))


def run(upload: Upload, work: Work) -> str:
    """Import one uploaded Search Console export. Returns the job's status (bulk jobs: usually still running)."""
    key = upload.key
    with tenant_transaction(key.tenant_id) as session:
        job, project_id = upload_job(session, key, JOB_KIND)
        if job.status in FINISHED_STATUSES or job.counters.get("split_complete"):
            # Imported already (a bulk job's chunks may still be loading): another upload to the same URL is ignored.
            return job.status
        request = _ImportInput.model_validate(job.input)
        try:
            projects.get_property(session, project_id, request.property_id)
        except NotFound:
            lifecycle.fail(
                session,
                key.job_id,
                "The property was deleted before its export was imported.",
                counters={},
                errors=JobErrors(),
            )
            return "failed"
        lifecycle.start(session, key.job_id)
    if request.format == "ui_export":
        return _run_ui_export(upload, request, work)
    return _run_bulk_export(upload, request, work)


def _fail(
    key: UploadKey,
    reason: str,
    *,
    counters: dict[str, Any],
    errors: JobErrors,
    work: Work,
) -> str:
    with work.finish() as session:
        lifecycle.fail(session, key.job_id, reason, counters=counters, errors=errors)
    logger.info("Search Console export rejected", extra={"job_id": str(key.job_id), "reason": reason})
    return "failed"


# ---------------------------------------------------------------- UI exports
def _run_ui_export(upload: Upload, request: _ImportInput, work: Work) -> str:
    key, size = upload.key, upload.size
    counters: dict[str, Any] = {
        "bytes_total": size,
        "files": 0,
        "lines": 0,
        "snapshots": 0,
        "snapshots_created": 0,
        "snapshots_updated": 0,
        "snapshots_unchanged": 0,
        "rows_rejected": 0,
    }
    errors = JobErrors()
    try:
        if size > MAX_UI_BYTES:
            raise RejectedFile(f"The file is {size / 1048576:.1f} MB; Search Console UI exports are far smaller.")
        body = upload.open()
        try:
            data = body.read()
        finally:
            body.close()
        export = ui.read_ui_export(data)
        errors = export.errors
        counters.update(files=export.files, lines=export.lines, rows_rejected=errors.count)
        if not export.reports:
            raise RejectedFile("The file holds no performance report (Queries, Pages, Dates, ...), only Filters.csv.")
        if export.lines == 0:
            raise RejectedFile("The export's reports have a header but no data lines.")
        if not export.rows:
            raise RejectedFile(f"No valid lines: all {errors.count} lines have errors (see errors).")
        snapshots = ui.ui_snapshots(
            export, range_start=request.range_start, range_end=request.range_end, search_type=request.search_type
        )
        with work.finish() as session:  # the snapshots and the job's end commit together, or neither
            created, updated = gsc_snapshots.upsert(
                session,
                property_id=request.property_id,
                job_id=key.job_id,
                snapshots=ui.snapshot_values(snapshots),
            )
            counters.update(
                snapshots=len(snapshots),
                snapshots_created=created,
                snapshots_updated=updated,
                snapshots_unchanged=len(snapshots) - created - updated,
            )
            outcome = Outcome(succeeded=len(export.rows), failed=errors.count)
            status = lifecycle.finish(session, key.job_id, outcome, counters=counters, errors=errors)
    except RejectedFile as rejected:
        return _fail(key, rejected.reason, counters=counters, errors=errors, work=work)
    logger.info("Search Console UI export imported", extra={"job_id": str(key.job_id), **counters})
    return status


# ---------------------------------------------------------------- bulk exports
def _partitions(size: int, compressed: bool) -> int:
    text_bytes = size * (GZIP_RATIO if compressed else 1)
    return max(1, math.ceil(text_bytes / PARTITION_BYTES))


def _run_bulk_export(upload: Upload, request: _ImportInput, work: Work) -> str:
    key, size = upload.key, upload.size
    counters: dict[str, Any] = {
        "bytes_total": size,
        "bytes_read": 0,
        "files": 1,
        "lines": 0,
        "rows": 0,
        "rows_merged": 0,
        "rows_rejected": 0,
    }
    errors = JobErrors()
    split = _SplitProgress(key)
    with tempfile.TemporaryDirectory(prefix="gsc-export-") as spill_dir:
        try:
            if size > MAX_BULK_BYTES:
                raise RejectedFile(f"The file is {size / 1048576:.0f} MB; bulk export imports take up to 1 GB.")
            aggregator = _split_lines(upload, request, Path(spill_dir), counters, errors, split)
            status = _write_chunks(key, request, aggregator, counters, split)
        except RejectedFile as rejected:
            return _fail(key, rejected.reason, counters=counters, errors=errors, work=work)
        except _SplitStopped as stopped:  # cancelled while splitting: what was registered is skipped by the loaders
            return stopped.status
    if status is not None:
        return status
    counters.update(rows=aggregator.distinct, rows_merged=aggregator.added - aggregator.distinct, split_percent=100)
    with work.finish() as session:
        lifecycle.record_errors(session, key.job_id, errors)
        progress.finish_split(session, key.job_id, counters)
        final = progress.job_status(session, key.job_id) or "running"
    logger.info("Search Console bulk export split", extra={"job_id": str(key.job_id), **counters})
    return final


class _SplitStopped(Exception):
    """The job stopped being live (cancelled) while its file was being split."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


class _SplitProgress:
    """The split's progress on the job, every ``SPLIT_PROGRESS_SECONDS`` at most: reading the file is the
    first ``READING_SHARE`` percent of the split (by bytes read), summing and writing its chunks the rest
    (by rows written); the job's percent is half the split's until the split ends (``progress``)."""

    def __init__(self, key: UploadKey) -> None:
        self.key = key
        self._last = time.monotonic()

    def due(self) -> bool:
        return time.monotonic() - self._last >= SPLIT_PROGRESS_SECONDS

    def report(self, percent: int, counters: dict[str, Any]) -> None:
        """Record how far the split got; ``_SplitStopped`` when the job was cancelled meanwhile."""
        self._last = time.monotonic()
        update = {name: counters[name] for name in ("bytes_read", "lines", "rows_rejected")}
        update["split_percent"] = max(0, min(99, percent))
        with tenant_transaction(self.key.tenant_id) as session:
            if not progress.report_split(session, self.key.job_id, update):
                raise _SplitStopped(progress.job_status(session, self.key.job_id) or JobStatus.CANCELLED)


def _split_lines(
    upload: Upload,
    request: _ImportInput,
    spill_dir: Path,
    counters: dict[str, Any],
    errors: JobErrors,
    split: _SplitProgress,
) -> aggregation.RowAggregator:
    """First pass: validate every line, spilling valid rows; ``RejectedFile`` if no line is usable."""
    body = upload.open()
    try:
        stream = csv_text.buffered(body)
        aggregator = aggregation.RowAggregator(spill_dir, _partitions(upload.size, csv_text.is_gzip(stream)))
        other_sites: set[str] = set()
        other_site_lines = 0
        today = dt.datetime.now(dt.UTC).date()
        total = max(1, upload.size)
        for batch in bulk.read_bulk_batches(stream, site_url=request.site_url, today=today):
            counters["lines"] += batch.lines
            for parsed in batch.errors:
                errors.add(parsed.line, parsed.error or ("unreadable" if parsed.last else "invalid"))
                if parsed.other_site is not None:
                    other_sites.add(parsed.other_site)
                    other_site_lines += 1
            aggregator.add_many(batch.rows)
            if split.due():
                counters.update(bytes_read=csv_text.bytes_read(stream) or 0, rows_rejected=errors.count)
                split.report(READING_SHARE * counters["bytes_read"] // total, counters)
        aggregator.close()
        counters["bytes_read"] = csv_text.bytes_read(stream) or upload.size
    finally:
        body.close()
    counters["rows_rejected"] = errors.count
    if counters["lines"] == 0:
        raise RejectedFile("The file has a header but no data lines.")
    if aggregator.added == 0:
        reason = f"No valid lines: all {errors.count} lines have errors (see errors)"
        if other_site_lines:
            reason += (
                f"; {other_site_lines} are rows of {', '.join(sorted(other_sites))},"
                f" not of this property ({request.site_url})"
            )
        raise RejectedFile(reason + ".")
    return aggregator


def _write_chunks(
    key: UploadKey,
    request: _ImportInput,
    aggregator: aggregation.RowAggregator,
    counters: dict[str, Any],
    split: _SplitProgress,
) -> str | None:
    """Second pass: summed rows as chunks, each registered then enqueued. The job's status if it stopped being live."""
    written = 0
    for number, rows in enumerate(batched(aggregator.rows(), CHUNK_ROWS)):
        part = f"export/{number:05d}"
        if gsc_chunks.publish_chunk(key.tenant_id, key.job_id, request.property_id, part, rows, day=None) is None:
            with tenant_transaction(key.tenant_id) as session:
                return progress.job_status(session, key.job_id) or JobStatus.CANCELLED
        written += len(rows)
        if split.due():  # summed rows written of the rows read: an underestimate where rows were merged
            done = min(1.0, written / max(1, aggregator.added))
            split.report(READING_SHARE + int((100 - READING_SHARE) * done), counters)
    return None
