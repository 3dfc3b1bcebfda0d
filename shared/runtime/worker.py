"""The runtime every SQS worker uses: partial batch responses, error taxonomy, quarantine, idempotency.

For each record the body is validated with the worker's pydantic model and
handed to domain logic. Then:

* success: the record is reported done and SQS deletes it;
* a *permanent* failure (invalid message, unknown tenant, unprocessable
  input): the record is copied to the worker's own DLQ with the reason in its
  message attributes, reported to Sentry, and reported done, so it does not
  burn retries;
* a *transient* failure (network, throttling, lost connection, lock timeout,
  deadlock, serialization failure) or anything unexpected: reported as a batch
  item failure so SQS redelivers it; after maxReceiveCount the queue's redrive
  policy moves it to the DLQ, so nothing is lost either way.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.exceptions import ConnectionError as BotoConnectionError
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from shared import aws
from shared.db import TenantSession, tenant_transaction
from shared.errors import PermanentError, TransientError
from shared.observability import init_sentry, logger, metrics, report_to_sentry, tracer
from shared.runtime import idempotency
from shared.settings import get_settings
from shared.tenancy.data import tenants

ErrorClass = Literal["permanent", "transient"]

# SQLSTATE codes worth retrying: serialization failure, deadlock, lock timeout,
# statement timeout/cancel, admin shutdown, and whole classes for connection
# problems (08) and exhausted resources (53).
_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03"}
_TRANSIENT_SQLSTATE_CLASSES = {"08", "53"}
# S3 objects that vanished will not come back; everything else from AWS is worth retrying.
_PERMANENT_AWS_CODES = {"NoSuchKey", "NoSuchBucket", "404"}
_MAX_ATTRIBUTE_LENGTH = 1024
_SQS_MAX_ATTRIBUTES = 10


def classify(exc: BaseException) -> ErrorClass:
    """Permanent failures are quarantined; everything else is retried by SQS."""
    if isinstance(exc, PermanentError | ValidationError):
        return "permanent"
    if isinstance(exc, TransientError | DisconnectionError | PoolTimeoutError | BotoConnectionError | ReadTimeoutError):
        return "transient"
    if isinstance(exc, DBAPIError):
        sqlstate = getattr(exc.orig, "sqlstate", None) or ""
        if (
            exc.connection_invalidated
            or sqlstate in _TRANSIENT_SQLSTATES
            or sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES
        ):
            return "transient"
        # A data error (bad value, constraint) will fail the same way every time.
        return "permanent" if sqlstate[:2] in {"22", "23"} else "transient"
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        return "permanent" if code in _PERMANENT_AWS_CODES else "transient"
    return "transient"  # unknown: retry, and let the redrive policy park it if it keeps failing


def _attribute(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value[:_MAX_ATTRIBUTE_LENGTH] or "-"}


def quarantine(record: SQSRecord, exc: BaseException, *, worker: str) -> None:
    """Copy the message to the worker's DLQ with the reason, keeping its original attributes where room allows."""
    dlq_url = get_settings().dlq_url
    if not dlq_url:
        raise TransientError("No dead-letter queue configured (KESTREL_DLQ_URL); cannot quarantine, will retry.")
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


@contextmanager
def unit_of_work(tenant_id: str, key: str, *, lease: timedelta) -> Iterator[Callable[[TenantSession], None] | None]:
    """Run a unit of work at most once to completion.

    Yields ``None`` when the work already completed (a redelivery: do nothing),
    otherwise a ``mark_done(session)`` callback that the work must call inside
    the transaction holding its final writes.
    """
    with tenant_transaction(tenant_id) as session:
        if not tenants.exists(session):
            raise PermanentError(f"Unknown tenant {tenant_id!r}.")
        claim = idempotency.claim(session, key, lease=lease)
    if claim == "completed":
        logger.info("Unit of work already completed; redelivery ignored", extra={"idempotency_key": key})
        metrics.add_metric(name="DuplicateDeliveries", unit="Count", value=1)
        yield None
        return
    if claim == "busy":
        raise TransientError(f"Unit of work {key} is running in another invocation; will retry.")

    def mark_done(session: TenantSession) -> None:
        idempotency.complete(session, key)

    try:
        yield mark_done
    except Exception:
        # The work failed and rolled back; a crash instead leaves the lease to expire.
        with tenant_transaction(tenant_id) as session:
            idempotency.release(session, key)
        raise


class SqsWorker[M]:
    """An SQS-triggered Lambda: ``handler = SqsWorker("file_import", Model, process).lambda_handler()``."""

    def __init__(self, name: str, message_type: Any, process: Callable[[M, SQSRecord], None]) -> None:
        self.name = name
        self._adapter: TypeAdapter[M] = TypeAdapter(message_type)
        self._process = process

    def parse(self, record: SQSRecord) -> M:
        try:
            return self._adapter.validate_json(record.body)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()[:5]
            )
            raise PermanentError(f"Invalid message: {problems}") from exc

    def handle_record(self, record: SQSRecord) -> None:
        logger.set_correlation_id(record.message_id)
        try:
            self._process(self.parse(record), record)
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
        init_sentry()
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
