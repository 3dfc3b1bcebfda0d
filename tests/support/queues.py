"""Worker queues in the AWS emulator; delivering their messages to a handler as Lambda's event source mapping does."""

import importlib
import json
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from kestrel_local.lambda_context import LocalLambdaContext
from kestrel_local.sqs_events import failed_message_ids, sqs_event
from shared.settings import forget_settings

REGION = "eu-west-1"


@dataclass(frozen=True)
class WorkerQueues:
    url: str
    arn: str
    dlq_url: str
    dlq_arn: str


def sqs() -> Any:
    return boto3.client("sqs", region_name=REGION)


def s3() -> Any:
    return boto3.client("s3", region_name=REGION)


def create_worker_queues(name: str, *, max_receive_count: int = 5, visibility_timeout: int = 30) -> WorkerQueues:
    client = sqs()
    dlq_url = client.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = client.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}),
        },
    )["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return WorkerQueues(url=url, arn=arn, dlq_url=dlq_url, dlq_arn=dlq_arn)


def notify_on_uploads(bucket: str, queues: WorkerQueues) -> None:
    """Create ``bucket`` with its ``uploads/`` notifications on ``queues`` (as infra/resources/uploads.yml does).

    moto announces a new notification configuration with an s3:TestEvent, as S3 does; it is drained here.
    """
    client = s3()
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    client.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queues.arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}},
                }
            ]
        },
    )
    for message in (
        sqs().receive_message(QueueUrl=queues.url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    ):
        sqs().delete_message(QueueUrl=queues.url, ReceiptHandle=message["ReceiptHandle"])


def receive(queue_url: str, count: int, *, timeout: float = 10.0, visibility_timeout: int = 30) -> list[dict[str, Any]]:
    """Receive exactly ``count`` messages (SQS hands out at most 10 per call)."""
    client = sqs()
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(messages) < count and time.monotonic() < deadline:
        batch = client.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, count - len(messages)),
            WaitTimeSeconds=1,
            VisibilityTimeout=visibility_timeout,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        messages += batch
    assert len(messages) == count, f"expected {count} messages on {queue_url}, got {len(messages)}"
    return messages


def queue_depth(queue_url: str) -> int:
    attributes = sqs().get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def deliver(handler: Any, messages: list[dict[str, Any]], queues: WorkerQueues, *, function_name: str) -> set[str]:
    """Invoke the handler with one batch and settle it as the event source mapping would.

    Deletes the messages the handler did not report as failed; returns the failed message ids.
    """
    event = sqs_event(messages, queue_arn=queues.arn, region=REGION)
    response = handler(event, LocalLambdaContext(function_name=function_name, timeout_seconds=300))
    failed = failed_message_ids(response)
    succeeded = [m for m in messages if m["MessageId"] not in failed]
    for start in range(0, len(succeeded), 10):
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(succeeded[start : start + 10])
        ]
        sqs().delete_message_batch(QueueUrl=queues.url, Entries=entries)
    return failed


def put_presigned(upload: dict[str, Any], data: bytes) -> None:
    request = urllib.request.Request(upload["url"], data=data, method=upload["method"], headers=upload["headers"])  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        assert response.status == 200


@contextmanager
def worker_handler(function: str, queues: WorkerQueues, **settings: str) -> Iterator[Any]:
    """A worker's Lambda handler, imported (its cold start) with its DLQ and ``settings`` (``KESTREL_<NAME>``) set."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KESTREL_DLQ_URL", queues.dlq_url)
        for name, value in settings.items():
            patch.setenv(f"KESTREL_{name.upper()}", value)
        forget_settings()
        yield importlib.import_module(f"functions.{function}.handler").handler
    forget_settings()
