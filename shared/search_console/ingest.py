"""gsc_ingest: load one row chunk into gsc_rows and count it in its job, exactly once.

Everything happens in one tenant transaction: claiming the chunk, the COPY into
staging, the merge, the rollup, the days queued for the report rollup and the
job's counters. A crash anywhere leaves nothing behind, and the redelivered
message does the whole load again; a redelivery after the commit finds the
chunk loaded and does nothing. The rollup is asked for after the commit.
"""

import gzip
import zlib
from collections.abc import Iterator
from typing import Any

import orjson
from botocore.exceptions import ClientError

from shared.db import TenantSession, tenant_transaction
from shared.errors import PermanentError
from shared.observability import logger
from shared.reports.data import rollups
from shared.reports.rollup import request_rollup
from shared.search_console import chunks as gsc_chunks
from shared.search_console import progress
from shared.search_console.data import rows as gsc_rows
from shared.search_console.models import LoadChunkMessage

_MISSING_OBJECT_CODES = {"NoSuchKey", "NoSuchBucket", "404"}


class ChunkRejected(PermanentError):
    """The chunk object cannot be read as a chunk (missing, not gzip NDJSON)."""


def load_chunk(message: LoadChunkMessage) -> None:
    context = {"job_id": str(message.job_id), "property_id": str(message.property_id), "key": message.key}
    try:
        with tenant_transaction(message.tenant_id) as session:
            outcome = _load(session, message)
    except (ChunkRejected, gsc_rows.RowRejected) as exc:
        # Retrying cannot help: the job ends with the reason instead of waiting for this chunk forever.
        _fail(message, exc.detail)
        raise
    if isinstance(outcome, str):
        logger.info(outcome, extra=context)
        return
    staged, merged = outcome
    if staged.rows != message.rows:
        logger.warning("Chunk row count differs from its message", extra=context | {"expected": message.rows})
    logger.info(
        "Chunk loaded",
        extra=context
        | {"rows": staged.rows, "rows_changed": merged.rows_changed, "merge": "insert" if merged.fresh else "upsert"},
    )
    if merged.rows_changed:
        request_rollup(message.tenant_id, message.property_id)


def _load(session: TenantSession, message: LoadChunkMessage) -> tuple[gsc_rows.Staged, gsc_rows.Merged] | str:
    if progress.job_status(session, message.job_id) is None:
        raise PermanentError(f"Job {message.job_id} does not exist; chunk {message.key} has no job to load for.")
    # The sync registers its chunks before enqueueing them; this covers any producer that did not.
    progress.add_chunk(session, message.job_id, message.property_id, message.key, rows=message.rows, day=message.date)
    claim = progress.claim_chunk(session, message.job_id, message.key)
    if claim == "already_loaded":
        return "Chunk already loaded; redelivery ignored"
    if claim == "skip":
        progress.skip_chunk(session, message.job_id, message.key)
        return "Chunk skipped: its job is no longer running"

    staged = gsc_rows.stage(session, _chunk_rows(message), source=message.key)
    merged = gsc_rows.merge(session, message.property_id, staged)
    if merged.rows_changed:
        gsc_rows.refresh_rollup(session, message.property_id, staged)
        rollups.mark_pending(session, message.property_id, staged.dates)
    progress.chunk_loaded(
        session, message.job_id, message.key, day=message.date, rows=staged.rows, rows_changed=merged.rows_changed
    )
    return staged, merged


def _chunk_rows(message: LoadChunkMessage) -> Iterator[dict[str, Any]]:
    """The chunk's rows as they stream from S3; an unreadable chunk is rejected (naming the line when it can)."""
    line = 0
    try:
        for line, row in enumerate(gsc_chunks.read_chunk(message.bucket, message.key), 1):  # noqa: B007
            yield row
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code", "") in _MISSING_OBJECT_CODES:
            raise ChunkRejected(f"The chunk object s3://{message.bucket}/{message.key} does not exist.") from exc
        raise
    except orjson.JSONDecodeError as exc:
        raise ChunkRejected(f"{message.key}: line {line + 1}: not valid JSON ({exc})") from exc
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise ChunkRejected(f"{message.key}: not a gzip NDJSON chunk ({exc})") from exc


def _fail(message: LoadChunkMessage, reason: str) -> None:
    """Record why a chunk cannot load: its day fails (a chunk without a day, from an export, fails its job)."""
    with tenant_transaction(message.tenant_id) as session:
        if message.date is not None:
            progress.fail_day(session, message.job_id, message.date, reason)
        else:
            progress.fail_job(session, message.job_id, reason)
