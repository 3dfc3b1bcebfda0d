"""Creating the stack's resources in the AWS emulator, idempotently.

The emulator keeps nothing across restarts and ``make up`` may run against one
that is already provisioned, so every step first looks at what exists:
queues (dead-letter queues first), topics and their subscriptions, buckets with
their CORS rules and queue notifications, secrets. Running it twice changes
nothing (no new secret version, no second subscription, and no second
``s3:TestEvent``, which S3 sends to the queues each time a bucket's
notification configuration is written).

SNS cannot deliver e-mail locally; e-mail subscriptions are created all the
same (the topic's subscriber list stays faithful) and are listed in
``ProvisionedStack.email_subscriptions`` for the local mailbox.
"""

import json
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

from kestrel_local.model import BucketSpec, QueueSpec, StackSpec

# Attributes SQS will not change after creation.
_IMMUTABLE_QUEUE_ATTRIBUTES = ("FifoQueue",)


@dataclass(frozen=True)
class ProvisionedQueue:
    logical_id: str
    name: str
    url: str
    arn: str
    dead_letter_queue: str | None  # logical id


@dataclass(frozen=True)
class EmailSubscription:
    topic: str  # topic logical id
    topic_arn: str
    protocol: str  # "email" or "email-json"
    endpoint: str
    subscription_arn: str


@dataclass(frozen=True)
class ProvisionedStack:
    region: str
    account_id: str
    queues: dict[str, ProvisionedQueue] = field(default_factory=dict)  # by logical id
    topics: dict[str, str] = field(default_factory=dict)  # logical id -> topic ARN
    buckets: dict[str, str] = field(default_factory=dict)  # logical id -> bucket name
    secrets: dict[str, str] = field(default_factory=dict)  # logical id -> the emulator's full secret ARN
    email_subscriptions: tuple[EmailSubscription, ...] = ()

    def queue_by_name(self, name: str) -> ProvisionedQueue | None:
        return next((queue for queue in self.queues.values() if queue.name == name), None)

    def dead_letter_queues(self) -> set[str]:
        """Logical ids of the queues some queue redrives to."""
        return {q.dead_letter_queue for q in self.queues.values() if q.dead_letter_queue}

    def sources_of(self, dlq_logical_id: str) -> list[ProvisionedQueue]:
        return [q for q in self.queues.values() if q.dead_letter_queue == dlq_logical_id]


@dataclass
class Clients:
    sqs: Any
    sns: Any
    s3: Any
    secretsmanager: Any

    @classmethod
    def create(cls, region: str, *, session: Any = None, endpoint_url: str | None = None) -> "Clients":
        session = session or boto3.session.Session()
        kwargs: dict[str, Any] = {"region_name": region}
        if endpoint_url:
            kwargs["endpoint_url"] = endpoint_url
        return cls(
            sqs=session.client("sqs", **kwargs),
            sns=session.client("sns", **kwargs),
            s3=session.client("s3", **kwargs),
            secretsmanager=session.client("secretsmanager", **kwargs),
        )


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _queue_order(stack: StackSpec) -> list[QueueSpec]:
    """Dead-letter queues before the queues that redrive to them (chains included)."""
    ordered: list[QueueSpec] = []
    placed: set[str] = set()

    def place(logical_id: str, path: tuple[str, ...] = ()) -> None:
        if logical_id in placed:
            return
        if logical_id in path:
            raise ValueError(f"redrive cycle through {logical_id}")
        queue = stack.queues[logical_id]
        if queue.dead_letter_queue:
            place(queue.dead_letter_queue, (*path, logical_id))
        placed.add(logical_id)
        ordered.append(queue)

    for logical_id in stack.queues:
        place(logical_id)
    return ordered


def _normalized_redrive(value: str | None) -> tuple[str, int] | None:
    if not value:
        return None
    policy = json.loads(value)
    return str(policy["deadLetterTargetArn"]), int(policy["maxReceiveCount"])


def _ensure_queue(sqs: Any, queue: QueueSpec, attributes: dict[str, str]) -> tuple[str, str]:
    try:
        url: str = sqs.get_queue_url(QueueName=queue.name)["QueueUrl"]
    except ClientError as error:
        if "NonExistentQueue" not in _error_code(error) and "QueueDoesNotExist" not in _error_code(error):
            raise
        url = sqs.create_queue(QueueName=queue.name, Attributes=attributes)["QueueUrl"]
    else:
        current = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        for name in _IMMUTABLE_QUEUE_ATTRIBUTES:
            if current.get(name, "false") != attributes.get(name, "false"):
                raise RuntimeError(f"queue {queue.name} exists with {name}={current.get(name)}; delete it first")
        changed = {}
        for name, value in attributes.items():
            if name in _IMMUTABLE_QUEUE_ATTRIBUTES:
                continue
            if name == "RedrivePolicy":
                if _normalized_redrive(current.get(name)) != _normalized_redrive(value):
                    changed[name] = value
            elif str(current.get(name)).lower() != value.lower():
                changed[name] = value
        if changed:
            sqs.set_queue_attributes(QueueUrl=url, Attributes=changed)
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _notification_configuration(bucket: BucketSpec, queues: dict[str, ProvisionedQueue]) -> dict[str, Any]:
    configurations = []
    for index, notification in enumerate(bucket.notifications):
        entry: dict[str, Any] = {
            "Id": f"{bucket.logical_id}-{notification.queue}-{index}",
            "QueueArn": queues[notification.queue].arn,
            "Events": list(notification.events),
        }
        rules = [
            {"Name": name, "Value": value}
            for name, value in (("prefix", notification.prefix), ("suffix", notification.suffix))
            if value
        ]
        if rules:
            entry["Filter"] = {"Key": {"FilterRules": rules}}
        configurations.append(entry)
    return {"QueueConfigurations": configurations} if configurations else {}


def _comparable_notifications(
    configuration: dict[str, Any],
) -> list[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]]:
    found = []
    for entry in configuration.get("QueueConfigurations", []):
        rules = entry.get("Filter", {}).get("Key", {}).get("FilterRules", [])
        found.append(
            (
                entry["QueueArn"],
                tuple(sorted(entry["Events"])),
                tuple(sorted((rule["Name"].lower(), rule["Value"]) for rule in rules)),
            )
        )
    return sorted(found)


def ensure_bucket_exists(s3: Any, name: str, region: str) -> None:
    try:
        s3.head_bucket(Bucket=name)
    except ClientError as error:
        if _error_code(error) not in ("404", "NoSuchBucket", "NotFound"):
            raise
        arguments: dict[str, Any] = {"Bucket": name}
        if region != "us-east-1":
            arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            s3.create_bucket(**arguments)
        except ClientError as create_error:
            if _error_code(create_error) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise


def _ensure_bucket(s3: Any, bucket: BucketSpec, region: str, queues: dict[str, ProvisionedQueue]) -> None:
    ensure_bucket_exists(s3, bucket.name, region)
    if bucket.cors_rules:
        try:
            current = s3.get_bucket_cors(Bucket=bucket.name).get("CORSRules", [])
        except ClientError:
            current = []
        if current != list(bucket.cors_rules):
            s3.put_bucket_cors(Bucket=bucket.name, CORSConfiguration={"CORSRules": list(bucket.cors_rules)})
    wanted = _notification_configuration(bucket, queues)
    current_notifications = s3.get_bucket_notification_configuration(Bucket=bucket.name)
    if _comparable_notifications(current_notifications) != _comparable_notifications(wanted):
        # S3 (and moto) sends an s3:TestEvent to every destination queue on each write: write only on change.
        s3.put_bucket_notification_configuration(Bucket=bucket.name, NotificationConfiguration=wanted)


def _ensure_secret(client: Any, name: str, value: str, description: str) -> str:
    try:
        current = client.get_secret_value(SecretId=name)
    except ClientError as error:
        if _error_code(error) != "ResourceNotFoundException":
            raise
        arguments = {"Name": name, "SecretString": value}
        if description:
            arguments["Description"] = description
        arn: str = client.create_secret(**arguments)["ARN"]
        return arn
    if current.get("SecretString") != value:
        client.put_secret_value(SecretId=name, SecretString=value)
    existing: str = current["ARN"]
    return existing


def provision(
    stack: StackSpec,
    *,
    clients: Clients | None = None,
    session: Any = None,
    endpoint_url: str | None = None,
    visibility_timeout_override: int | None = None,
) -> ProvisionedStack:
    """Create (or confirm) every emulated resource of ``stack``; return their local URLs, ARNs and names.

    ``visibility_timeout_override`` replaces every queue's VisibilityTimeout: a
    local knob so end-to-end tests need not wait a worker's real visibility
    timeout (file_import: 30 minutes) for a redelivery. None (the default) is faithful.
    """
    clients = clients or Clients.create(stack.region, session=session, endpoint_url=endpoint_url)
    queues: dict[str, ProvisionedQueue] = {}
    for queue in _queue_order(stack):
        attributes = dict(queue.attributes)
        if visibility_timeout_override is not None:
            attributes["VisibilityTimeout"] = str(visibility_timeout_override)
        url, arn = _ensure_queue(clients.sqs, queue, attributes)
        if queue.url and url != queue.url:
            raise RuntimeError(
                f"the emulator's URL for queue {queue.name} is {url}, but the functions were given {queue.url}: "
                "load the stack with the emulator's endpoint (or a queue_url callback for its URL shape)"
            )
        if queue.arn and arn != queue.arn:
            raise RuntimeError(f"the emulator's ARN for queue {queue.name} is {arn}, expected {queue.arn}")
        queues[queue.logical_id] = ProvisionedQueue(queue.logical_id, queue.name, url, arn, queue.dead_letter_queue)

    topics: dict[str, str] = {}
    for topic in stack.topics.values():
        # create_topic is idempotent for the same name and attributes.
        topics[topic.logical_id] = clients.sns.create_topic(Name=topic.name, Attributes=dict(topic.attributes))[
            "TopicArn"
        ]
    emails: list[EmailSubscription] = []
    for subscription in stack.subscriptions:
        topic_arn = topics[subscription.topic]
        existing = [
            s
            for page in clients.sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
            for s in page["Subscriptions"]
            if s["Protocol"] == subscription.protocol and s["Endpoint"] == subscription.endpoint
        ]
        if existing:
            subscription_arn = existing[0]["SubscriptionArn"]
        else:
            arguments: dict[str, Any] = {
                "TopicArn": topic_arn,
                "Protocol": subscription.protocol,
                "Endpoint": subscription.endpoint,
                "ReturnSubscriptionArn": True,
            }
            if subscription.attributes:
                arguments["Attributes"] = dict(subscription.attributes)
            subscription_arn = clients.sns.subscribe(**arguments)["SubscriptionArn"]
        if subscription.protocol in ("email", "email-json"):
            emails.append(
                EmailSubscription(
                    subscription.topic, topic_arn, subscription.protocol, subscription.endpoint, subscription_arn
                )
            )

    buckets: dict[str, str] = {}
    for bucket in stack.buckets.values():
        _ensure_bucket(clients.s3, bucket, stack.region, queues)
        buckets[bucket.logical_id] = bucket.name

    secrets = {
        secret.logical_id: _ensure_secret(clients.secretsmanager, secret.name, secret.secret_string, secret.description)
        for secret in stack.secrets.values()
    }
    return ProvisionedStack(
        region=stack.region,
        account_id=stack.account_id,
        queues=queues,
        topics=topics,
        buckets=buckets,
        secrets=secrets,
        email_subscriptions=tuple(emails),
    )
