"""The singleton import worker's domain logic: route each uploaded file to its importer, once."""

from collections.abc import Callable
from datetime import timedelta

from shared.errors import PermanentError
from shared.imports.events import S3NotificationRecord
from shared.imports.uploads import GSC_EXPORT, KEYWORD_IMPORT, UploadKey
from shared.observability import logger
from shared.projects import keyword_imports
from shared.runtime.worker import unit_of_work
from shared.search_console.exports import importer as gsc_exports

Importer = Callable[..., str]
IMPORTERS: dict[str, Importer] = {KEYWORD_IMPORT: keyword_imports.run, GSC_EXPORT: gsc_exports.run}
# Longer than any invocation can last (Lambda's 15-minute maximum): a live import is never taken over.
LEASE = timedelta(minutes=15)


def handle_upload(record: S3NotificationRecord) -> None:
    if not record.eventName.startswith("ObjectCreated:"):
        logger.info("Ignoring S3 event", extra={"event_name": record.eventName})
        return
    key = UploadKey.parse(record.s3.object.key)
    importer = IMPORTERS.get(key.kind)
    if importer is None:
        raise PermanentError(f"No importer for uploads of kind {key.kind!r}.")
    obj = record.s3.object
    # The object's ETag identifies its content: the same upload delivered twice is imported once.
    work_key = f"file_import:{record.s3.bucket.name}/{key.object_key}@{obj.eTag or obj.sequencer or '-'}"
    with unit_of_work(key.tenant_id, work_key, lease=LEASE) as mark_done:
        if mark_done is None:
            return
        importer(key, bucket=record.s3.bucket.name, object_key=key.object_key, size=obj.size, mark_done=mark_done)
