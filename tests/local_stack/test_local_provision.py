"""Provisioning the packaged template's resources in the emulator (moto over HTTP), idempotently."""

import json
import time

import pytest

from kestrel_local.provision import provision
from kestrel_local.template import load_stack
from tests.support.local_stack import REGION, clients, isolated, isolated_stack, local_template


def _receive(sqs, url, *, wait=1):
    return sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait, MessageAttributeNames=["All"]
    ).get("Messages", [])


def _depth(sqs, url):
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
def stack(moto, tmp_path):
    return isolated_stack(moto.endpoint, tmp_path)


def test_the_file_import_queue_redrives_to_its_dlq(moto, stack):
    aws = clients(moto.endpoint)
    provisioned = provision(stack, clients=aws)
    queue, dlq = provisioned.queues["FileImportQueue"], provisioned.queues["FileImportDeadLetterQueue"]
    environment = stack.functions["file_import"].environment
    assert (environment["KESTREL_QUEUE_URL"], environment["KESTREL_DLQ_URL"]) == (queue.url, dlq.url)
    attributes = aws.sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
    assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 5}
    assert attributes["VisibilityTimeout"] == "1800"
    assert "KmsMasterKeyId" not in attributes
    dlq_attributes = aws.sqs.get_queue_attributes(QueueUrl=dlq.url, AttributeNames=["All"])["Attributes"]
    assert dlq_attributes["MessageRetentionPeriod"] == "1209600"
    # Each worker's queue redrives to a DLQ of its own, and only those are DLQs.
    worker_queues = {source.queue for source in stack.event_sources}
    assert "FileImportQueue" in worker_queues
    assert provisioned.dead_letter_queues() == {
        queue.removesuffix("Queue") + "DeadLetterQueue" for queue in worker_queues
    }

    # The redrive policy works: a fifth failed receive moves the message to the DLQ.
    aws.sqs.purge_queue(QueueUrl=queue.url)  # the s3:TestEvent the uploads bucket sent
    aws.sqs.set_queue_attributes(QueueUrl=queue.url, Attributes={"VisibilityTimeout": "0"})
    aws.sqs.send_message(QueueUrl=queue.url, MessageBody="poison")
    for _ in range(5):
        assert _receive(aws.sqs, queue.url)
    assert not _receive(aws.sqs, queue.url, wait=0)
    assert [m["Body"] for m in _receive(aws.sqs, dlq.url)] == ["poison"]


def test_an_upload_notifies_the_import_queue(moto, stack):
    aws = clients(moto.endpoint)
    provisioned = provision(stack, clients=aws)
    bucket = provisioned.buckets["UploadsBucket"]
    url = provisioned.queues["FileImportQueue"].url
    assert aws.s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] == REGION
    (test_event,) = _receive(aws.sqs, url)
    assert json.loads(test_event["Body"])["Event"] == "s3:TestEvent"  # as S3 sends on configuration
    aws.sqs.delete_message(QueueUrl=url, ReceiptHandle=test_event["ReceiptHandle"])

    aws.s3.put_object(Bucket=bucket, Key="elsewhere/a.csv", Body=b"keyword\n")
    aws.s3.put_object(Bucket=bucket, Key="uploads/org_x/job.csv", Body=b"keyword\nseo\n")
    (message,) = _receive(aws.sqs, url)
    (record,) = json.loads(message["Body"])["Records"]
    assert record["eventName"].startswith("ObjectCreated:")
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["object"]["key"] == "uploads%2Forg_x%2Fjob.csv"
    assert not _receive(aws.sqs, url, wait=0)

    cors = aws.s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert cors[0]["AllowedMethods"] == ["PUT"]
    assert "http://localhost:3000" in cors[0]["AllowedOrigins"]


def test_provisioning_twice_is_a_no_op(moto, stack):
    aws = clients(moto.endpoint)
    first = provision(stack, clients=aws)
    secret = stack.secrets["DbAppSecret"]

    def versions():
        listed = aws.secretsmanager.list_secret_version_ids(SecretId=secret.name)["Versions"]
        return [(version["VersionId"], version["VersionStages"]) for version in listed]

    before = versions()
    topic = first.topics["OpsTopic"]
    started = time.monotonic()
    second = provision(stack, clients=aws)
    assert time.monotonic() - started < 5
    assert second == first
    assert _depth(aws.sqs, first.queues["FileImportQueue"].url) == 1  # one s3:TestEvent, not two
    assert versions() == before
    subscriptions = aws.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", "ops+local@kestrel.example")]
    (email,) = second.email_subscriptions
    assert (email.topic, email.endpoint, email.topic_arn) == ("OpsTopic", "ops+local@kestrel.example", topic)
    value = aws.secretsmanager.get_secret_value(SecretId=secret.arn)["SecretString"]  # the partial ARN works
    assert value == secret.secret_string
    assert second.secrets["DbAppSecret"].startswith(secret.arn + "-")


def test_a_changed_secret_or_queue_attribute_is_updated_in_place(moto, stack, tmp_path):
    aws = clients(moto.endpoint)
    first = provision(stack, clients=aws)
    queue = first.queues["FileImportQueue"]
    overridden = provision(stack, clients=aws, visibility_timeout_override=2)
    assert overridden.queues["FileImportQueue"].url == queue.url
    for logical in ("FileImportQueue", "FileImportDeadLetterQueue"):
        attributes = aws.sqs.get_queue_attributes(QueueUrl=first.queues[logical].url, AttributeNames=["All"])
        assert attributes["Attributes"]["VisibilityTimeout"] == "2"
    name = stack.secrets["DbAppSecret"].name
    aws.secretsmanager.put_secret_value(SecretId=name, SecretString="tampered")
    provision(stack, clients=aws)
    assert (
        aws.secretsmanager.get_secret_value(SecretId=name)["SecretString"] == stack.secrets["DbAppSecret"].secret_string
    )
    attributes = aws.sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["VisibilityTimeout"])
    assert attributes["Attributes"]["VisibilityTimeout"] == "1800"


def test_functions_given_another_endpoints_urls_are_refused(moto, tmp_path):
    template, _ = isolated(local_template())
    stack = load_stack(template, stage="local", region=REGION, endpoint_url="http://127.0.0.1:1")
    with pytest.raises(RuntimeError, match="the functions were given"):
        provision(stack, clients=clients(moto.endpoint))
