"""rollup: rebuild a property's report aggregates for its pending days, or fan the nightly sweep out."""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.reports.models.rollup import RollupMessage, RollupPropertyMessage, RollupSweepMessage
from shared.reports.rollup import rollup_property, sweep
from shared.runtime.worker import SqsWorker


def process(message: RollupPropertyMessage | RollupSweepMessage, record: SQSRecord) -> None:
    # Idempotent by construction (the pending days say what is left), so no unit_of_work.
    if isinstance(message, RollupSweepMessage):
        sweep()
    else:
        rollup_property(message.tenant_id, message.property_id)


worker = SqsWorker[RollupPropertyMessage | RollupSweepMessage]("rollup", RollupMessage, process)
handler = worker.lambda_handler()
