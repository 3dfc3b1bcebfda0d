"""boto3 clients, created once per execution environment and reused while warm.

boto3 itself reads the standard AWS variables, including ``AWS_ENDPOINT_URL``:
that is the only thing that differs between AWS and the local emulator.
"""

import json
from collections.abc import Sequence
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from shared.errors import TransientError

_SQS_BATCH = 10
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30)


@cache
def client(service: str) -> Any:
    return boto3.session.Session().client(service, config=_CONFIG)


@cache
def secret_json(secret_id: str) -> dict[str, Any]:
    """A JSON secret from Secrets Manager, fetched once per execution environment."""
    value = client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    parsed: dict[str, Any] = json.loads(value)
    return parsed


@cache
def secret_string(secret_id: str) -> str:
    value: str = client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    return value


def send_message_batches(queue_url: str, bodies: Sequence[str]) -> None:
    """SendMessageBatch in groups of ten. Entries SQS refuses raise a TransientError, so the caller is retried."""
    sqs = client("sqs")
    for start in range(0, len(bodies), _SQS_BATCH):
        entries = [
            {"Id": str(index), "MessageBody": body}
            for index, body in enumerate(bodies[start : start + _SQS_BATCH], start=start)
        ]
        failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed") or []
        if failed:
            reasons = "; ".join(f"{item.get('Code')}: {item.get('Message', '')}" for item in failed[:3])
            raise TransientError(f"SQS refused {len(failed)} of {len(entries)} messages ({reasons}).")
