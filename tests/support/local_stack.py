"""The local stage's real template, and copies of it whose resources get unique names.

``local_template`` is today's serverless.yml packaged for the local stage as
``kestrel up`` packages it: osls runs once per change of its inputs (about a
minute) and the template is cached under ``.state/`` between runs (then read
back in milliseconds). The moto server is shared by the whole test session, so
each test that provisions the template renames every emulated resource (queues,
topics, buckets, secrets, alarms, rules) with a suffix of its own: same logical
ids, same wiring, no state shared with other tests.
"""

import copy
import functools
import json
import uuid
from pathlib import Path
from typing import Any

import boto3

from kestrel_local.model import StackSpec
from kestrel_local.packaging import package_local_template
from kestrel_local.provision import Clients
from kestrel_local.template import load_stack

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
# A cache of the tests' own, apart from the developer's `kestrel up` state in .state/local.
TEMPLATE_CACHE = ROOT / ".state" / "test-template-cache"
# What `kestrel up` passes: its identity issuer's URL (here on a port of the tests' own) and audience.
LOCAL_ISSUER = "http://127.0.0.1:3901/"
LOCAL_AUDIENCE = "https://api.kestrel.local"

_NAME_PROPERTIES = {
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::Events::Rule": "Name",
}


@functools.cache
def _packaged_local_template() -> str:
    template = package_local_template(
        ROOT, params={"auth0IssuerUrl": LOCAL_ISSUER, "auth0Audience": LOCAL_AUDIENCE}, cache_dir=TEMPLATE_CACHE
    )
    return json.dumps(template)


def local_template() -> dict[str, Any]:
    """The local stage's CloudFormation template (a fresh copy: callers may change it)."""
    template: dict[str, Any] = json.loads(_packaged_local_template())
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
    copied, _ = isolated(template or local_template())
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
