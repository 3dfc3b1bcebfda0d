"""Row chunks: how Search Console rows travel from the sync (or a file import) to gsc_ingest.

A chunk is one gzip NDJSON object in the chunks bucket, one row per line with
its dimensions named (``GscRowIn``'s fields), and one small SQS message that
points at it: rows never ride in queue messages. A chunk's key is
deterministic (job, day, search type, page), so a redelivered sync rewrites
the same object instead of adding a new one.
"""

import datetime as dt
import gzip
import io
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import orjson

from shared import aws
from shared.db import tenant_transaction
from shared.search_console import progress
from shared.search_console.models import GscRowIn, LoadChunkMessage
from shared.settings import Chunks, IngestQueue, settings_of

CHUNK_PREFIX = "gsc-chunks/"
ROW_FIELDS: tuple[str, ...] = tuple(GscRowIn.model_fields)  # a chunk row is a GscRowIn, in its field order
_READ_BLOCK = 1 << 20


def chunk_key(tenant_id: str, property_id: uuid.UUID, job_id: uuid.UUID, part: str) -> str:
    """``gsc-chunks/{tenant}/{property}/{job}/{part}.ndjson.gz``; ``part`` names the day/search type/page."""
    return f"{CHUNK_PREFIX}{tenant_id}/{property_id}/{job_id}/{part}.ndjson.gz"


def encode_rows(rows: Iterable[Mapping[str, Any]]) -> tuple[bytes, int]:
    """Gzip NDJSON of ``rows`` (dicts with ``ROW_FIELDS``; dates as ISO strings or dates) and the row count."""
    buffer = io.BytesIO()
    count = 0
    # Level 6 is gzip's default; chunks are written once and read once, so a middle level is right.
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=6, mtime=0) as out:
        for row in rows:
            out.write(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))
            count += 1
    return buffer.getvalue(), count


def write_chunk(bucket: str, key: str, rows: Iterable[Mapping[str, Any]]) -> int:
    body, count = encode_rows(rows)
    aws.client("s3").put_object(
        Bucket=bucket, Key=key, Body=body, ContentType="application/x-ndjson", ContentEncoding="gzip"
    )
    return count


def read_chunk(bucket: str, key: str) -> Iterator[dict[str, Any]]:
    """Stream a chunk's rows from S3 without holding the object in memory."""
    body = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"]
    try:
        with gzip.GzipFile(fileobj=body, mode="rb") as lines:
            for line in io.BufferedReader(lines, buffer_size=_READ_BLOCK):
                if line.strip():
                    yield orjson.loads(line)
    finally:
        body.close()


def enqueue_loads(messages: Sequence[LoadChunkMessage]) -> None:
    """Send load messages to gsc_ingest's queue, ten per request; a partial failure raises (and is retried)."""
    queue_url = settings_of(IngestQueue).gsc_ingest_queue_url
    aws.send_message_batches(queue_url, [message.model_dump_json() for message in messages])


def publish_chunk(
    tenant_id: str,
    job_id: uuid.UUID,
    property_id: uuid.UUID,
    part: str,
    rows: Iterable[Mapping[str, Any]],
    *,
    day: dt.date | None,
) -> int | None:
    """Write a chunk, register it, then enqueue its load, in that order: a loader always finds its chunk
    registered. The registering transaction checks that the job still accepts chunks (live, and for a sync
    its day still being fetched); when it does not (cancelled, failed, or the day taken over) nothing is
    registered or queued, the object is left to expire, and None is returned. Otherwise the row count.
    """
    bucket = settings_of(Chunks).chunks_bucket
    key = chunk_key(tenant_id, property_id, job_id, part)
    count = write_chunk(bucket, key, rows)
    with tenant_transaction(tenant_id) as session:
        if not progress.accepts_chunks(session, job_id, day):
            return None
        progress.add_chunk(session, job_id, property_id, key, rows=count, day=day)
    enqueue_loads(
        [
            LoadChunkMessage(
                tenant_id=tenant_id,
                job_id=job_id,
                property_id=property_id,
                bucket=bucket,
                key=key,
                rows=count,
                date=day,
            )
        ]
    )
    return count
