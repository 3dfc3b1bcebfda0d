"""The packaged local template as a test fixture, and copies of it whose resources get unique names.

The moto server is shared by the whole test session, so each test that
provisions the template renames every emulated resource (queues, topics,
buckets, secrets, alarms, rules) with a suffix of its own: same logical ids,
same wiring, no state shared with other tests.
"""

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import boto3

from kestrel_local.model import StackSpec
from kestrel_local.provision import Clients
from kestrel_local.template import load_stack

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "local-template.json"
REGION = "eu-west-1"

_NAME_PROPERTIES = {
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::Events::Rule": "Name",
}


def fixture_template() -> dict[str, Any]:
    template: dict[str, Any] = json.loads(FIXTURE.read_text())
    return template


def isolated(template: dict[str, Any], suffix: str | None = None) -> tuple[dict[str, Any], str]:
    """A copy whose emulated resources' names end with ``-<suffix>`` (before ``.fifo``)."""
    suffix = suffix or uuid.uuid4().hex[:8]
    copied = copy.deepcopy(template)
    for resource in copied["Resources"].values():
        key = _NAME_PROPERTIES.get(resource["Type"])
        if key is None:
            continue
        properties = resource.setdefault("Properties", {})
        if key not in properties:
            continue
        name = properties[key]
        if isinstance(name, str) and name.endswith(".fifo"):
            properties[key] = f"{name.removesuffix('.fifo')}-{suffix}.fifo"
        else:
            properties[key] = {"Fn::Join": ["", [name, f"-{suffix}"]]}
    return copied, suffix


def isolated_stack(endpoint: str, tmp_path: Path, template: dict[str, Any] | None = None) -> StackSpec:
    copied, _ = isolated(template or fixture_template())
    return load_stack(copied, stage="local", region=REGION, secrets_dir=tmp_path / "secrets", endpoint_url=endpoint)


def clients(endpoint: str) -> Clients:
    return Clients.create(REGION, session=boto3.session.Session(), endpoint_url=endpoint)


class FakeClock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
