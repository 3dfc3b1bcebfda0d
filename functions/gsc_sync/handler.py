"""gsc_sync: fetch one property-day from the Search Console API into chunks, or fan the daily schedule out."""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.logic.gsc_sync import scheduled_sync, sync_day
from shared.schemas.gsc import ScheduledSyncMessage, SyncDayMessage, SyncMessage
from shared.worker import SqsWorker


def process(message: SyncDayMessage | ScheduledSyncMessage, record: SQSRecord) -> None:
    if isinstance(message, ScheduledSyncMessage):
        scheduled_sync(message)
    else:
        sync_day(message)


worker = SqsWorker[SyncDayMessage | ScheduledSyncMessage]("gsc_sync", SyncMessage, process)
handler = worker.lambda_handler()
