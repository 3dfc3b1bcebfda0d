"""Queue contents across restarts of the emulator, and the dead-letter queue tools.

``save_queues`` drains every queue (workers' queues first, dead-letter queues
last, so a message the drain's own receive redrives is still caught) into a
JSON file: body, message attributes, the system attributes that matter
(MessageGroupId, MessageDeduplicationId, AWSTraceHeader) and the queue's
logical id. The file is written before anything is deleted. Stop the queue
runners first: messages in flight (invisible) cannot be received and are
reported as left behind. ``restore_queues`` sends them again on the next ``up``
and removes the file. A re-sent message is a new message: its SentTimestamp
is the restore time and its receive count starts at 0, as after any re-send.

``dlq_list`` shows the dead-letter queues' messages without consuming them.
SQS has no peek: each message is received (visibility 30 s, so one scan sees
each message once) and then made visible again at once. That receive counts:
the DLQ copy's ApproximateReceiveCount goes up by one per listing. Harmless
for Kestrel's DLQs, which have no redrive policy of their own (nothing moves
on a receive count), and a redriven message starts again from 0.

``dlq_redrive`` moves every DLQ message back to the queue it came from, body
and message attributes unchanged (moto has no StartMessageMoveTask, so this is
receive, send, delete). The source is the message's DeadLetterQueueSourceArn
when SQS recorded one, else the only queue redriving to that DLQ.
"""

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kestrel_local.provision import ProvisionedQueue, ProvisionedStack

FORMAT_VERSION = 1
DRAIN_VISIBILITY_SECONDS = 300
LIST_VISIBILITY_SECONDS = 30
_KEPT_SYSTEM_ATTRIBUTES = ("MessageGroupId", "MessageDeduplicationId", "AWSTraceHeader")


@dataclass(frozen=True)
class SaveResult:
    saved: dict[str, int]  # queue logical id -> messages saved
    left_in_flight: dict[str, int]  # queue logical id -> invisible messages that could not be saved

    @property
    def total(self) -> int:
        return sum(self.saved.values())


@dataclass(frozen=True)
class RestoreResult:
    restored: dict[str, int]
    unknown_queues: dict[str, int] = field(default_factory=dict)  # in the file, not in the stack any more


@dataclass(frozen=True)
class DlqMessage:
    queue: str  # the DLQ's logical id
    queue_name: str
    message_id: str
    body: str
    message_attributes: dict[str, str]  # name -> string value (binary values base64)
    receive_count: int
    sent_timestamp_ms: int
    source_arn: str | None  # DeadLetterQueueSourceArn, when SQS recorded it

    @property
    def quarantine_reason(self) -> str | None:
        return self.message_attributes.get("kestrel.quarantine_reason")


@dataclass(frozen=True)
class RedriveResult:
    moved: dict[str, int]  # source queue logical id -> messages moved back
    left: dict[str, int]  # DLQ logical id -> messages whose source queue could not be told


def _encode_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    encoded = {}
    for name, value in attributes.items():
        entry = {"DataType": value["DataType"]}
        if "StringValue" in value:
            entry["StringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            entry["BinaryValueBase64"] = base64.b64encode(value["BinaryValue"]).decode()
        encoded[name] = entry
    return encoded


def _decode_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    decoded = {}
    for name, value in attributes.items():
        entry: dict[str, Any] = {"DataType": value["DataType"]}
        if "StringValue" in value:
            entry["StringValue"] = value["StringValue"]
        if "BinaryValueBase64" in value:
            entry["BinaryValue"] = base64.b64decode(value["BinaryValueBase64"])
        decoded[name] = entry
    return decoded


def _receive_all(sqs: Any, url: str, visibility: int) -> Iterator[dict[str, Any]]:
    """Every currently visible message once, each left invisible for ``visibility`` seconds."""
    empty_answers = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            VisibilityTimeout=visibility,
            AttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            empty_answers += 1
            if int(counts["Attributes"].get("ApproximateNumberOfMessages", 0)) == 0 or empty_answers >= 5:
                return  # (five empty answers: a FIFO group held by an in-flight message; those stay)
            continue  # short polling missed some (real SQS samples a subset of its servers)
        empty_answers = 0
        yield from messages


def _in_flight(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    return int(attributes["Attributes"].get("ApproximateNumberOfMessagesNotVisible", 0))


def _delete(sqs: Any, url: str, handles: list[str]) -> None:
    for start in range(0, len(handles), 10):
        chunk = handles[start : start + 10]
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": handle} for i, handle in enumerate(chunk)]
        )


def _drain_order(provisioned: ProvisionedStack) -> list[ProvisionedQueue]:
    dead_letter = provisioned.dead_letter_queues()
    queues = list(provisioned.queues.values())
    return [q for q in queues if q.logical_id not in dead_letter] + [q for q in queues if q.logical_id in dead_letter]


def save_queues(provisioned: ProvisionedStack, path: Path, *, sqs: Any) -> SaveResult:
    """Drain every queue into ``path`` (JSON); the messages are deleted once the file is written."""
    left = {q.logical_id: n for q in provisioned.queues.values() if (n := _in_flight(sqs, q.url))}
    saved: list[dict[str, Any]] = []
    handles: dict[str, list[str]] = {}
    for queue in _drain_order(provisioned):
        for message in _receive_all(sqs, queue.url, DRAIN_VISIBILITY_SECONDS):
            attributes = message.get("Attributes", {})
            saved.append(
                {
                    "queue": queue.logical_id,
                    "queue_name": queue.name,
                    "message_id": message["MessageId"],
                    "body": message["Body"],
                    "message_attributes": _encode_attributes(message.get("MessageAttributes", {})),
                    "system_attributes": {k: attributes[k] for k in _KEPT_SYSTEM_ATTRIBUTES if k in attributes},
                    "sent_timestamp_ms": int(attributes.get("SentTimestamp", 0)),
                    "receive_count": int(attributes.get("ApproximateReceiveCount", 0)),
                }
            )
            handles.setdefault(queue.logical_id, []).append(message["ReceiptHandle"])
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"version": FORMAT_VERSION, "messages": saved}, indent=1))
    temporary.replace(path)
    for logical_id, receipt_handles in handles.items():
        _delete(sqs, provisioned.queues[logical_id].url, receipt_handles)
    counts: dict[str, int] = {}
    for message in saved:
        counts[message["queue"]] = counts.get(message["queue"], 0) + 1
    return SaveResult(saved=counts, left_in_flight=left)


def _send(sqs: Any, queue: ProvisionedQueue, body: str, attributes: dict[str, Any], system: dict[str, str]) -> None:
    arguments: dict[str, Any] = {"QueueUrl": queue.url, "MessageBody": body}
    if attributes:
        arguments["MessageAttributes"] = attributes
    if "AWSTraceHeader" in system:
        arguments["MessageSystemAttributes"] = {
            "AWSTraceHeader": {"DataType": "String", "StringValue": system["AWSTraceHeader"]}
        }
    if queue.name.endswith(".fifo"):
        arguments["MessageGroupId"] = system.get("MessageGroupId", "default")
        if "MessageDeduplicationId" in system:
            arguments["MessageDeduplicationId"] = system["MessageDeduplicationId"]
    sqs.send_message(**arguments)


def restore_queues(path: Path, provisioned: ProvisionedStack, *, sqs: Any) -> RestoreResult:
    """Send the saved messages again (to their queue by logical id, else by name); remove the file.

    Messages of queues the stack no longer has are kept in ``<path>.unrestored.json``.
    """
    if not path.exists():
        return RestoreResult(restored={})
    document = json.loads(path.read_text())
    restored: dict[str, int] = {}
    unknown: dict[str, int] = {}
    orphans = []
    for message in document.get("messages", []):
        queue = provisioned.queues.get(message["queue"]) or provisioned.queue_by_name(message["queue_name"])
        if queue is None:
            unknown[message["queue"]] = unknown.get(message["queue"], 0) + 1
            orphans.append(message)
            continue
        _send(
            sqs,
            queue,
            message["body"],
            _decode_attributes(message.get("message_attributes", {})),
            message.get("system_attributes", {}),
        )
        restored[queue.logical_id] = restored.get(queue.logical_id, 0) + 1
    if orphans:
        path.with_suffix(".unrestored.json").write_text(
            json.dumps({"version": FORMAT_VERSION, "messages": orphans}, indent=1)
        )
    path.unlink()
    return RestoreResult(restored=restored, unknown_queues=unknown)


def _dead_letter_queues(provisioned: ProvisionedStack, queue: str | None) -> list[ProvisionedQueue]:
    logical_ids = sorted(provisioned.dead_letter_queues())
    if queue is not None:
        matches = [
            logical
            for logical in logical_ids
            if queue in (logical, provisioned.queues[logical].name)
            or any(queue in (s.logical_id, s.name) for s in provisioned.sources_of(logical))
        ]
        if not matches:
            raise KeyError(f"no dead-letter queue for {queue!r}")
        logical_ids = matches
    return [provisioned.queues[logical] for logical in logical_ids]


def dlq_list(provisioned: ProvisionedStack, *, sqs: Any, queue: str | None = None) -> list[DlqMessage]:
    """The messages of every DLQ (or of ``queue``'s: a DLQ or its source, by logical id or name), left in place."""
    found: list[DlqMessage] = []
    for dlq in _dead_letter_queues(provisioned, queue):
        handles = []
        for message in _receive_all(sqs, dlq.url, LIST_VISIBILITY_SECONDS):
            attributes = message.get("Attributes", {})
            found.append(
                DlqMessage(
                    queue=dlq.logical_id,
                    queue_name=dlq.name,
                    message_id=message["MessageId"],
                    body=message["Body"],
                    message_attributes={
                        name: value.get("StringValue") or base64.b64encode(value.get("BinaryValue", b"")).decode()
                        for name, value in message.get("MessageAttributes", {}).items()
                    },
                    receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
                    sent_timestamp_ms=int(attributes.get("SentTimestamp", 0)),
                    source_arn=attributes.get("DeadLetterQueueSourceArn"),
                )
            )
            handles.append(message["ReceiptHandle"])
        for start in range(0, len(handles), 10):
            sqs.change_message_visibility_batch(
                QueueUrl=dlq.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for i, handle in enumerate(handles[start : start + 10])
                ],
            )
    return found


def dlq_redrive(provisioned: ProvisionedStack, *, sqs: Any, queue: str | None = None) -> RedriveResult:
    """Move every DLQ message (or ``queue``'s) back to its source queue, preserving body and attributes."""
    moved: dict[str, int] = {}
    left: dict[str, int] = {}
    for dlq in _dead_letter_queues(provisioned, queue):
        sources = provisioned.sources_of(dlq.logical_id)
        by_arn = {source.arn: source for source in sources}
        keep = []
        for message in _receive_all(sqs, dlq.url, LIST_VISIBILITY_SECONDS):
            attributes = message.get("Attributes", {})
            source = by_arn.get(attributes.get("DeadLetterQueueSourceArn", ""))
            if source is None and len(sources) == 1:
                source = sources[0]
            if source is None:
                keep.append(message["ReceiptHandle"])
                continue
            system = {k: attributes[k] for k in _KEPT_SYSTEM_ATTRIBUTES if k in attributes}
            system.pop("MessageDeduplicationId", None)  # a new message: it must not be deduplicated away
            if source.name.endswith(".fifo"):
                system["MessageDeduplicationId"] = message["MessageId"]
            _send(sqs, source, message["Body"], message.get("MessageAttributes", {}), system)
            sqs.delete_message(QueueUrl=dlq.url, ReceiptHandle=message["ReceiptHandle"])
            moved[source.logical_id] = moved.get(source.logical_id, 0) + 1
        if keep:
            left[dlq.logical_id] = len(keep)
            for handle in keep:
                sqs.change_message_visibility(QueueUrl=dlq.url, ReceiptHandle=handle, VisibilityTimeout=0)
    return RedriveResult(moved=moved, left=left)
