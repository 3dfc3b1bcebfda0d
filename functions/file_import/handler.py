"""file_import: the singleton worker that loads uploaded files (S3 event notifications via SQS)."""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.imports.events import S3Notification, S3TestEvent, UploadMessage
from shared.imports.router import handle_upload
from shared.observability import logger
from shared.runtime.worker import SqsWorker


def process(message: S3Notification | S3TestEvent, record: SQSRecord) -> None:
    if isinstance(message, S3TestEvent):
        logger.info("S3 test event: notifications are configured", extra={"bucket": message.Bucket})
        return
    for upload in message.Records:
        handle_upload(upload)


worker = SqsWorker[UploadMessage]("file_import", UploadMessage, process)
handler = worker.lambda_handler()
