"""The singleton import worker's logic: each uploaded file goes to its importer, once.

An S3 notification may carry several uploads; each is a unit of work, run once per
uploaded content (the object's ETag identifies it), so the same upload delivered
twice is imported once.
"""

from collections.abc import Callable
from datetime import timedelta

from shared.errors import PermanentError
from shared.imports.events import S3Notification, S3NotificationRecord, S3TestEvent
from shared.imports.uploads import GSC_EXPORT, KEYWORD_IMPORT, Upload, UploadKey
from shared.observability import logger
from shared.projects import keyword_imports
from shared.runtime.work import RunOnce, Work
from shared.search_console.exports import importer

Importer = Callable[..., str]
IMPORTERS: dict[str, Importer] = {KEYWORD_IMPORT: keyword_imports.run, GSC_EXPORT: importer.run}
# Longer than any invocation can last (Lambda's 15-minute maximum): a live import is never taken over.
LEASE = timedelta(minutes=15)


def created_uploads(message: S3Notification | S3TestEvent) -> list[S3NotificationRecord]:
    """The units of work of a notification: the objects it says were created (a test event has none)."""
    if isinstance(message, S3TestEvent):
        logger.info("S3 test event: notifications are configured", extra={"bucket": message.Bucket})
        return []
    created = []
    for record in message.Records:
        if record.eventName.startswith("ObjectCreated:"):
            created.append(record)
        else:
            logger.info("Ignoring S3 event", extra={"event_name": record.eventName})
    return created


def run_once(record: S3NotificationRecord) -> RunOnce:
    key = UploadKey.parse(record.s3.object.key)
    obj = record.s3.object
    return RunOnce(
        tenant_id=key.tenant_id,
        key=f"file_import:{record.s3.bucket.name}/{key.object_key}@{obj.eTag or obj.sequencer or '-'}",
        lease=LEASE,
    )


def import_upload(record: S3NotificationRecord, work: Work) -> None:
    key = UploadKey.parse(record.s3.object.key)
    run = IMPORTERS.get(key.kind)
    if run is None:
        raise PermanentError(f"No importer for uploads of kind {key.kind!r}.")
    run(Upload(key=key, bucket=record.s3.bucket.name, size=record.s3.object.size), work)
