"""rollup: rebuild a property's report aggregates for its pending days, or fan the nightly sweep out."""

from shared.reports import rollup
from shared.reports.models.rollup import RollupMessage, RollupPropertyMessage, RollupSweepMessage
from shared.runtime.work import ByConstruction
from shared.runtime.worker import Worker
from shared.settings import Database, RollupQueue

Message = RollupPropertyMessage | RollupSweepMessage
worker: Worker[Message, Message] = Worker(
    "rollup",
    RollupMessage,
    rollup.run,
    idempotency=ByConstruction("the pending days say what is left to rebuild; a sweep only asks again"),
    settings=(Database, RollupQueue),
)
handler = worker.lambda_handler()
