"""gsc_ingest: COPY one Search Console row chunk (an S3 object named by the message) into gsc_rows."""

from shared.runtime.work import ByConstruction
from shared.runtime.worker import Worker
from shared.search_console.ingest import load_chunk
from shared.search_console.models import LoadChunkMessage
from shared.settings import Database, RollupQueue

worker: Worker[LoadChunkMessage, LoadChunkMessage] = Worker(
    "gsc_ingest",
    LoadChunkMessage,
    lambda message, work: load_chunk(message),
    idempotency=ByConstruction("the chunk's row is claimed and marked loaded in the transaction that merges it"),
    settings=(Database, RollupQueue),
)
handler = worker.lambda_handler()
