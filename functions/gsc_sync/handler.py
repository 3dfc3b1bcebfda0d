"""gsc_sync: fetch one property-day from the Search Console API into chunks, or fan the daily schedule out."""

from shared.runtime.worker import Worker
from shared.search_console import sync
from shared.search_console.models import SyncMessage
from shared.settings import Chunks, Database, IngestQueue, SearchConsoleApi, SearchConsoleCredentials, SyncQueue

worker = Worker(
    "gsc_sync",
    SyncMessage,
    sync.run,
    units=sync.units_of,
    idempotency=sync.rule_for,
    settings=(Database, SearchConsoleApi, SearchConsoleCredentials, Chunks, SyncQueue, IngestQueue),
)
handler = worker.lambda_handler()
