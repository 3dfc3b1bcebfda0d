"""file_import: the singleton worker that loads uploaded files (S3 event notifications via SQS)."""

from shared.imports.events import UploadMessage
from shared.imports.router import created_uploads, import_upload, run_once
from shared.runtime.worker import Worker
from shared.settings import Chunks, Database, IngestQueue, Uploads

worker = Worker(
    "file_import",
    UploadMessage,
    import_upload,
    units=created_uploads,
    idempotency=run_once,
    settings=(Database, Uploads, Chunks, IngestQueue),
)
handler = worker.lambda_handler()
