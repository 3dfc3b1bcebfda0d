"""The SQS event source mapping, as Lambda runs it, for one queue and its function.

Long-polls the queue, fills a batch up to ``batchSize`` within
``maximumBatchingWindow``, invokes the function with Lambda's SQS event,
deletes what succeeded and leaves the rest for redelivery (honouring
``ReportBatchItemFailures``; an error or a timeout fails the whole batch), and
never runs more invocations at once than the function's reserved concurrency
and the mapping's maximum concurrency allow.
"""

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from kestrel_local.environments import FunctionPool
from kestrel_local.model import EventSourceSpec, InvocationResult
from kestrel_local.sqs_events import sqs_event

SQS_MAX_RECEIVE = 10
LONG_POLL_SECONDS = 1  # short enough to notice a stop request quickly


@dataclass
class RunnerStats:
    batches: int = 0
    messages_received: int = 0
    messages_deleted: int = 0
    messages_failed: int = 0
    batch_errors: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0
    oldest_unfinished_sent_ms: dict[str, int] = field(default_factory=dict)  # message id -> SentTimestamp


def concurrency_limit(spec: EventSourceSpec, reserved: int | None) -> int:
    limits = [value for value in (reserved, spec.maximum_concurrency) if value]
    return min(limits) if limits else 5  # Lambda starts with five pollers' worth of concurrency


def settle(messages: list[dict[str, Any]], result: InvocationResult, report_failures: bool) -> set[str]:
    """Which messages failed, as Lambda reads an invocation's outcome."""
    ids = {message["MessageId"] for message in messages}
    if not result.ok:
        return ids  # an error or a timeout fails the whole batch
    if not report_failures:
        return set()
    response = result.response
    if response is None or response == {}:
        return set()
    if not isinstance(response, dict) or not isinstance(response.get("batchItemFailures", []), list):
        return ids
    failed: set[str] = set()
    for item in response.get("batchItemFailures") or []:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in ids:
            return ids  # an unusable response fails the whole batch, as Lambda does
        failed.add(identifier)
    return failed


class QueueRunner:
    def __init__(
        self,
        spec: EventSourceSpec,
        *,
        queue_url: str,
        queue_arn: str,
        region: str,
        pool: FunctionPool,
        sqs: Any,
        on_batch: Callable[[EventSourceSpec, list[dict[str, Any]], InvocationResult, set[str]], None] | None = None,
    ) -> None:
        self.spec = spec
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.region = region
        self.pool = pool
        self.sqs = sqs
        self.stats = RunnerStats()
        self.limit = concurrency_limit(spec, pool.spec.reserved_concurrency)
        self._slots = threading.BoundedSemaphore(self.limit)
        self._executor = ThreadPoolExecutor(max_workers=self.limit, thread_name_prefix=f"esm-{spec.function}")
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._undeleted: dict[str, str] = {}  # message id -> receipt handle of messages left for redelivery
        self._on_batch = on_batch
        self._thread = threading.Thread(target=self._poll, name=f"poller-{spec.function}", daemon=True)

    def start(self) -> "QueueRunner":
        self._thread.start()
        return self

    def _collect(self) -> list[dict[str, Any]]:
        """One batch: the first messages, then more until the batch is full or the batching window ends."""
        batch: list[dict[str, Any]] = []
        window_ends: float | None = None
        while not self._stop.is_set() and len(batch) < self.spec.batch_size:
            if window_ends is None:
                wait = LONG_POLL_SECONDS
            else:
                remaining = window_ends - time.monotonic()
                if remaining <= 0:
                    break
                wait = min(LONG_POLL_SECONDS, math.ceil(remaining))
            received = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(SQS_MAX_RECEIVE, self.spec.batch_size - len(batch)),
                WaitTimeSeconds=wait,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not batch and not received:
                return []  # nothing yet; the caller polls again (and notices a stop request)
            if window_ends is None:
                window_ends = time.monotonic() + self.spec.maximum_batching_window_seconds
            batch += received
            if self.spec.maximum_batching_window_seconds == 0:
                break
        return batch

    def _poll(self) -> None:
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=0.5):
                continue
            try:
                batch = self._collect()
            except Exception:
                self._slots.release()
                time.sleep(1)  # the emulator restarting; try again
                continue
            if not batch:
                self._slots.release()
                continue
            with self._lock:
                self.stats.batches += 1
                self.stats.messages_received += len(batch)
                self.stats.in_flight += 1
                self.stats.peak_in_flight = max(self.stats.peak_in_flight, self.stats.in_flight)
                for message in batch:
                    sent = int(message.get("Attributes", {}).get("SentTimestamp", "0"))
                    self.stats.oldest_unfinished_sent_ms[message["MessageId"]] = sent
            self._executor.submit(self._invoke, batch)

    def _invoke(self, batch: list[dict[str, Any]]) -> None:
        try:
            event = sqs_event(batch, queue_arn=self.queue_arn, region=self.region)
            result = self.pool.invoke(event)
            failed = settle(batch, result, self.spec.report_batch_item_failures)
            done = [message for message in batch if message["MessageId"] not in failed]
            for start in range(0, len(done), SQS_MAX_RECEIVE):
                chunk = done[start : start + SQS_MAX_RECEIVE]
                self.sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
                )
            with self._lock:
                self.stats.messages_deleted += len(done)
                self.stats.messages_failed += len(failed)
                self.stats.batch_errors += 0 if result.ok else 1
                for message in batch:
                    self.stats.oldest_unfinished_sent_ms.pop(message["MessageId"], None)
                    if message["MessageId"] in failed:
                        self._undeleted[message["MessageId"]] = message["ReceiptHandle"]
                    else:
                        self._undeleted.pop(message["MessageId"], None)
            if self._on_batch is not None:
                self._on_batch(self.spec, batch, result, failed)
        finally:
            with self._lock:
                self.stats.in_flight -= 1
            self._slots.release()

    def stop(self, *, release_failed: bool = True) -> None:
        """Stop polling, let in-flight invocations finish (up to their timeout).

        With ``release_failed``, messages left for redelivery are made visible
        again at once, so whoever saves the queues' contents sees them.
        """
        self._stop.set()
        self._thread.join(timeout=LONG_POLL_SECONDS + 5)
        self._executor.shutdown(wait=True)
        if release_failed:
            with self._lock:
                handles, self._undeleted = list(self._undeleted.values()), {}
            for handle in handles:
                try:
                    self.sqs.change_message_visibility(
                        QueueUrl=self.queue_url, ReceiptHandle=handle, VisibilityTimeout=0
                    )
                except Exception:  # noqa: S112 - already redelivered and deleted, or moved to the DLQ
                    continue
