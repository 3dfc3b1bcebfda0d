"""The runtime every SQS worker uses: parsing, idempotency, error classes, quarantine, partial batch responses.

A worker declares its message type, the logic that handles a unit of work, and how
each unit is made idempotent; the runtime owns everything else::

    worker = Worker("gsc_ingest", LoadChunkMessage, load_chunk,
                    idempotency=ByConstruction("the chunk's row says whether it loaded"))
    handler = worker.lambda_handler()

A message is one unit of work unless the worker splits it (``units``: the uploads of
an S3 notification, the properties a schedule fans out to). For each unit:

* **idempotency**: ``RunOnce`` claims a key per tenant before the logic runs (a
  redelivery of finished work does nothing; work running elsewhere is retried
  later) and records it done when the logic's ``work.finish()`` transaction
  commits, with the work's final writes; ``ByConstruction`` says why running the
  unit again changes nothing. Units that name a tenant are checked to have one.
* **error classes**: a *permanent* failure (an invalid message, and every domain
  error: not found, conflict, invalid input, a rejected file, unprocessable work;
  a configuration error too) copies the message to the worker's own DLQ with the
  reason in its attributes, reports it to Sentry, and reports the record done so it
  does not burn retries; a *transient* failure (network, throttling, lost
  connection, lock timeout, deadlock, serialization failure) or anything
  unexpected is reported as a batch item failure, so SQS redelivers it and, after
  ``maxReceiveCount``, the redrive policy parks it in the DLQ: nothing is lost.
"""

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import TypeAdapter, ValidationError

from shared import aws
from shared.errors import PermanentError
from shared.observability import logger, metrics, report_to_sentry, start_observability, tracer
from shared.runtime.error_classes import classify
from shared.runtime.work import ByConstruction, RunOnce, Work, run_unit
from shared.settings import SettingsModel, WorkerQueues, require_settings, settings_of

_MAX_ATTRIBUTE_LENGTH = 1024
_SQS_MAX_ATTRIBUTES = 10


# ---------------------------------------------------------------- quarantine


def _attribute(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value[:_MAX_ATTRIBUTE_LENGTH] or "-"}


def quarantine(record: SQSRecord, exc: BaseException, *, worker: str) -> None:
    """Copy the message to the worker's DLQ with the reason, keeping its original attributes where room allows."""
    dlq_url = settings_of(WorkerQueues).dlq_url
    reason = getattr(exc, "detail", None) or str(exc) or type(exc).__name__
    attributes: dict[str, Any] = {
        "kestrel.quarantine_reason": _attribute(reason),
        "kestrel.error_type": _attribute(type(exc).__name__),
        "kestrel.worker": _attribute(worker),
        "kestrel.source_queue": _attribute(record.event_source_arn or ""),
        "kestrel.source_message_id": _attribute(record.message_id),
        "kestrel.receive_count": _attribute(record.attributes.approximate_receive_count or "1"),
        "kestrel.quarantined_at": _attribute(datetime.now(UTC).isoformat()),
    }
    for name, value in (record.raw_event.get("messageAttributes") or {}).items():
        if len(attributes) >= _SQS_MAX_ATTRIBUTES:
            break
        kept = {"DataType": value["dataType"]}
        if value.get("stringValue") is not None:
            kept["StringValue"] = value["stringValue"]
        elif value.get("binaryValue") is not None:
            kept["BinaryValue"] = value["binaryValue"]
        else:
            continue
        attributes[name] = kept
    aws.client("sqs").send_message(QueueUrl=dlq_url, MessageBody=record.body, MessageAttributes=attributes)


# ---------------------------------------------------------------- the worker


class Worker[M, U]:
    """An SQS-triggered Lambda: ``handler = Worker("rollup", RollupMessage, handle, idempotency=...).lambda_handler()``.

    ``idempotency`` is a ``ByConstruction`` for every unit, or a function giving each unit its rule.
    ``units`` splits a message into units of work (default: the message is the unit); every unit runs even
    when one fails, and the message then fails with the first transient error, else the first permanent one.
    ``settings`` are the typed settings the function needs, checked at cold start.
    """

    def __init__(
        self,
        name: str,
        message_type: Any,
        handle: Callable[[U, Work], None],
        *,
        idempotency: ByConstruction | Callable[[U], RunOnce | ByConstruction],
        units: Callable[[M], Iterable[U]] | None = None,
        settings: tuple[type[SettingsModel], ...] = (),
    ) -> None:
        self.name = name
        self._adapter: TypeAdapter[M] = TypeAdapter(message_type)
        self._handle = handle
        self._idempotency = idempotency
        self._units = units
        self.settings: tuple[type[SettingsModel], ...] = (WorkerQueues, *settings)

    def parse(self, record: SQSRecord) -> M:
        try:
            return self._adapter.validate_json(record.body)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()[:5]
            )
            raise PermanentError(f"Invalid message: {problems}") from exc

    def rule_for(self, unit: U) -> RunOnce | ByConstruction:
        return self._idempotency if isinstance(self._idempotency, ByConstruction) else self._idempotency(unit)

    def process(self, message: M) -> None:
        """Run every unit of work of a parsed message."""
        units: Iterable[Any] = self._units(message) if self._units is not None else [message]
        failures: list[Exception] = []
        for unit in units:
            try:
                run_unit(unit, self._handle, self.rule_for(unit))
            except Exception as exc:
                if self._units is None:
                    raise
                logger.warning("A unit of work failed", exc_info=True, extra={"error_class": classify(exc)})
                failures.append(exc)
        if failures:
            transient = [exc for exc in failures if classify(exc) == "transient"]
            raise (transient or failures)[0]

    def handle_record(self, record: SQSRecord) -> None:
        logger.set_correlation_id(record.message_id)
        try:
            self.process(self.parse(record))
            metrics.add_metric(name="MessagesProcessed", unit="Count", value=1)
        except Exception as exc:
            if classify(exc) == "transient":
                logger.warning("Transient failure; SQS will redeliver", exc_info=True)
                metrics.add_metric(name="TransientFailures", unit="Count", value=1)
                raise
            logger.error(
                "Permanent failure; message quarantined",
                exc_info=True,
                extra={"reason": getattr(exc, "detail", str(exc))},
            )
            quarantine(record, exc, worker=self.name)  # if this fails, the record is retried instead
            metrics.add_metric(name="MessagesQuarantined", unit="Count", value=1)
            report_to_sentry(exc, worker=self.name, message_id=record.message_id, body=record.body[:2000])

    def lambda_handler(self) -> Callable[[dict[str, Any], LambdaContext], PartialItemFailureResponse]:
        """The Lambda entry point. Its settings are checked now, at cold start: a missing one fails loudly."""
        require_settings(*self.settings)
        start_observability()
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

        @logger.inject_lambda_context(clear_state=True)
        @tracer.capture_lambda_handler
        @metrics.log_metrics
        def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
            records = len(event.get("Records", []))
            logger.info("Batch started", extra={"worker": self.name, "records": records})
            response = process_partial_response(
                event=event, record_handler=self.handle_record, processor=processor, context=context
            )
            failed = len(response.get("batchItemFailures", []))
            logger.info("Batch finished", extra={"worker": self.name, "records": records, "failed": failed})
            return response

        return handler
