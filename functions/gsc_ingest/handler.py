"""gsc_ingest: COPY one Search Console row chunk (an S3 object named by the message) into gsc_rows."""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.runtime.worker import SqsWorker
from shared.search_console.ingest import load_chunk
from shared.search_console.models import LoadChunkMessage


def process(message: LoadChunkMessage, record: SQSRecord) -> None:
    load_chunk(message)


worker = SqsWorker[LoadChunkMessage]("gsc_ingest", LoadChunkMessage, process)
handler = worker.lambda_handler()
