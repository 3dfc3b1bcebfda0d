"""gsc_sync: fetch one property-day from the Search Console API into chunks, or fan the daily schedule out."""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.runtime.worker import SqsWorker
from shared.search_console.models import ScheduledSyncMessage, SyncDayMessage, SyncMessage
from shared.search_console.sync import scheduled_sync, sync_day


def process(message: SyncDayMessage | ScheduledSyncMessage, record: SQSRecord) -> None:
    if isinstance(message, ScheduledSyncMessage):
        scheduled_sync(message)
    else:
        sync_day(message)


worker = SqsWorker[SyncDayMessage | ScheduledSyncMessage]("gsc_sync", SyncMessage, process)
handler = worker.lambda_handler()
