"""Queue contents across restarts, and the DLQ tools, against the template's queues in the emulator."""

import json

import pytest

from kestrel_local.provision import provision
from kestrel_local.queues_state import dlq_list, dlq_redrive, restore_queues, save_queues
from tests.support.local_stack import clients, isolated_stack


@pytest.fixture
def provisioned(moto, tmp_path):
    aws = clients(moto.endpoint)
    stack = isolated_stack(moto.endpoint, tmp_path)
    result = provision(stack, clients=aws)
    aws.sqs.purge_queue(QueueUrl=result.queues["FileImportQueue"].url)  # the uploads bucket's s3:TestEvent
    return result


def _attributes(reason: str) -> dict:
    return {
        "kestrel.quarantine_reason": {"DataType": "String", "StringValue": reason},
        "kestrel.attempts": {"DataType": "Number", "StringValue": "3"},
        "kestrel.blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01binary"},
    }


def _all(sqs, url):
    found = []
    while batch := sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=0,
        VisibilityTimeout=60,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", []):
        found += batch
    return found


def _depth(sqs, url):
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_save_and_restore_round_trip_every_queue(moto, provisioned, tmp_path):
    sqs = clients(moto.endpoint).sqs
    queue, dlq = provisioned.queues["FileImportQueue"], provisioned.queues["FileImportDeadLetterQueue"]
    for index in range(13):
        sqs.send_message(QueueUrl=queue.url, MessageBody=json.dumps({"n": index}))
    sqs.send_message(QueueUrl=dlq.url, MessageBody="poison", MessageAttributes=_attributes("invalid_message"))
    path = tmp_path / "state" / "queues.json"

    result = save_queues(provisioned, path, sqs=sqs)
    assert result.saved == {"FileImportQueue": 13, "FileImportDeadLetterQueue": 1}
    assert result.left_in_flight == {}
    assert _depth(sqs, queue.url) == _depth(sqs, dlq.url) == 0
    saved = json.loads(path.read_text())["messages"]
    assert {m["queue"] for m in saved} == {"FileImportQueue", "FileImportDeadLetterQueue"}

    restored = restore_queues(path, provisioned, sqs=sqs)
    assert restored.restored == {"FileImportQueue": 13, "FileImportDeadLetterQueue": 1}
    assert not path.exists()
    assert sorted(json.loads(m["Body"])["n"] for m in _all(sqs, queue.url)) == list(range(13))
    (poison,) = _all(sqs, dlq.url)
    assert poison["Body"] == "poison"
    assert poison["MessageAttributes"] == {
        "kestrel.quarantine_reason": {"StringValue": "invalid_message", "DataType": "String"},
        "kestrel.attempts": {"StringValue": "3", "DataType": "Number"},
        "kestrel.blob": {"BinaryValue": b"\x00\x01binary", "DataType": "Binary"},
    }
    assert restore_queues(path, provisioned, sqs=sqs).restored == {}  # nothing saved: nothing to do


def test_in_flight_messages_are_reported_not_lost_silently(moto, provisioned, tmp_path):
    sqs = clients(moto.endpoint).sqs
    queue = provisioned.queues["FileImportQueue"]
    sqs.send_message(QueueUrl=queue.url, MessageBody="busy")
    sqs.send_message(QueueUrl=queue.url, MessageBody="waiting")
    assert sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=1, VisibilityTimeout=600)["Messages"]
    result = save_queues(provisioned, tmp_path / "queues.json", sqs=sqs)
    assert result.saved == {"FileImportQueue": 1}
    assert result.left_in_flight == {"FileImportQueue": 1}


def test_dlq_list_shows_messages_without_consuming_them(moto, provisioned):
    sqs = clients(moto.endpoint).sqs
    dlq = provisioned.queues["FileImportDeadLetterQueue"]
    for index in range(12):
        sqs.send_message(QueueUrl=dlq.url, MessageBody=f"bad-{index}", MessageAttributes=_attributes(f"reason-{index}"))
    listed = dlq_list(provisioned, sqs=sqs)
    assert sorted(m.body for m in listed) == sorted(f"bad-{i}" for i in range(12))
    assert {m.quarantine_reason for m in listed} == {f"reason-{i}" for i in range(12)}
    assert {m.queue for m in listed} == {"FileImportDeadLetterQueue"}
    assert all(m.receive_count == 1 for m in listed)
    again = dlq_list(provisioned, sqs=sqs, queue="FileImportQueue")  # by its source queue
    assert len(again) == 12
    assert all(m.receive_count == 2 for m in again)  # the documented cost: listing is a receive
    assert _depth(sqs, dlq.url) == 12
    assert (
        sqs.get_queue_attributes(QueueUrl=dlq.url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        == "12"
    )  # visible again at once
    with pytest.raises(KeyError):
        dlq_list(provisioned, sqs=sqs, queue="nope")


def test_dlq_redrive_moves_messages_back_with_their_attributes(moto, provisioned):
    sqs = clients(moto.endpoint).sqs
    queue, dlq = provisioned.queues["FileImportQueue"], provisioned.queues["FileImportDeadLetterQueue"]
    sqs.send_message(QueueUrl=dlq.url, MessageBody="quarantined", MessageAttributes=_attributes("unknown_tenant"))
    # One that got there by the queue's redrive policy.
    sqs.set_queue_attributes(QueueUrl=queue.url, Attributes={"VisibilityTimeout": "0"})
    sqs.send_message(QueueUrl=queue.url, MessageBody="exhausted")
    for _ in range(6):
        sqs.receive_message(QueueUrl=queue.url, WaitTimeSeconds=0)
    assert _depth(sqs, dlq.url) == 2

    result = dlq_redrive(provisioned, sqs=sqs)
    assert result.moved == {"FileImportQueue": 2}
    assert result.left == {}
    assert _depth(sqs, dlq.url) == 0
    back = {m["Body"]: m for m in _all(sqs, queue.url)}
    assert set(back) == {"quarantined", "exhausted"}
    assert back["quarantined"]["MessageAttributes"]["kestrel.quarantine_reason"]["StringValue"] == "unknown_tenant"
    assert back["quarantined"]["MessageAttributes"]["kestrel.blob"]["BinaryValue"] == b"\x00\x01binary"
    assert back["exhausted"]["Attributes"]["ApproximateReceiveCount"] == "1"  # a fresh start
