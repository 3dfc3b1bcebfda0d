"""boto3 clients, created once per execution environment and reused while warm.

boto3 itself reads the standard AWS variables, including ``AWS_ENDPOINT_URL``:
that is the only thing that differs between AWS and the local emulator.
"""

import json
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

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
