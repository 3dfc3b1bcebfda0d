"""The file_import worker: S3 upload notifications through a real queue, into the real handler."""

import json
import uuid
from urllib.parse import unquote_plus

import pytest
from sqlalchemy import text

from shared.db import tenant_transaction
from tests.integration.conftest import UPLOADS_BUCKET
from tests.support.queues import (
    create_worker_queues,
    deliver,
    notify_on_uploads,
    put_presigned,
    queue_depth,
    receive,
    s3,
    sqs,
    worker_handler,
)
from tests.support.tenants import owner_connection

VALID_CSV = "keyword,country,device,tags\nrunning shoes,us,desktop,shoes;sale\ntrail shoes,GB,mobile,\n"


@pytest.fixture(scope="module")
def queues(platform):
    queues = create_worker_queues(f"file-import-{uuid.uuid4().hex[:6]}", max_receive_count=5)
    notify_on_uploads(UPLOADS_BUCKET, queues)
    return queues


@pytest.fixture(scope="module")
def worker(queues):
    with worker_handler("file_import", queues) as handler:
        yield handler


def start_import(api, project, data: bytes) -> dict:
    reply = api.post(f"/v1/projects/{project['id']}/keyword-imports", {"filename": "keywords.csv"})
    assert reply.status == 202, reply.raw
    body = reply.json
    assert body["job"]["status"] == "pending"
    assert body["upload"]["url"].startswith("http://127.0.0.1")
    assert f"uploads/{api.tenant_id}/keyword-imports/{body['job']['id']}.csv" in body["upload"]["url"]
    put_presigned(body["upload"], data)
    return body["job"]


def job_status(api, project, job_id) -> dict:
    reply = api.get(f"/v1/projects/{project['id']}/keyword-imports/{job_id}")
    assert reply.status == 200
    return reply.json


def keyword_texts(api, project) -> list[str]:
    return sorted(
        kw["text"] for kw in api.get(f"/v1/projects/{project['id']}/keywords", query={"limit": "200"}).json["items"]
    )


def dlq_messages(queues) -> list[dict]:
    found: list[dict] = []
    while True:
        batch = (
            sqs()
            .receive_message(
                QueueUrl=queues.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
            )
            .get("Messages", [])
        )
        if not batch:
            return found
        for message in batch:
            sqs().delete_message(QueueUrl=queues.dlq_url, ReceiptHandle=message["ReceiptHandle"])
        found += batch


def test_keyword_import_end_to_end(api, project, queues, worker):
    csv_text = (
        "\ufeffKeyword,Country,Device,Tags,Target URL\n"
        "Running Shoes,us,desktop,shoes;sale,https://acme.com/running\n"
        "running  shoes,US,desktop,,\n"  # the same keyword again: counted, not an error
        ",US,desktop,,\n"  # line 4: no keyword
        "trail shoes,USA,mobile,,\n"  # line 5: bad country
        '"shoes, red",GB,mobile,red|shoes,\n'
        "\n"
        "hiking boots,de,tablet,,\n"  # line 8: bad device
    )
    job = start_import(api, project, csv_text.encode())
    messages = receive(queues.url, 1)
    assert deliver(worker, messages, queues, function_name="file_import") == set()

    status = job_status(api, project, job["id"])
    assert status["status"] == "succeeded_with_errors"
    assert status["progress_percent"] == 100
    assert status["counters"]["keywords_created"] == 2
    assert status["counters"]["lines_repeated"] == 1
    assert status["counters"]["lines_invalid"] == 3
    assert status["counters"]["bytes_read"] == len(csv_text.encode())
    assert status["error_count"] == 3
    errors = {error["line"]: error["reason"] for error in status["errors"]}
    assert set(errors) == {4, 5, 8}
    assert errors[4].startswith("keyword:")
    assert errors[5].startswith("country:")
    assert errors[8].startswith("device:")
    assert status["finished_at"] is not None
    assert keyword_texts(api, project) == ["running shoes", "shoes, red"]
    assert queue_depth(queues.url) == 0
    listed = api.get(f"/v1/projects/{project['id']}/keyword-imports").json["items"]
    assert [item["id"] for item in listed] == [job["id"]]


def test_batch_of_ten_with_one_malformed_message(platform, api, project, queues, worker, sentry):
    jobs = [start_import(api, project, f"keyword\nkeyword {i} a\nkeyword {i} b\n".encode()) for i in range(9)]
    sqs().send_message(QueueUrl=queues.url, MessageBody='{"Records": [{"eventSource": "aws:s3"}]}')
    messages = receive(queues.url, 10)
    assert deliver(worker, messages, queues, function_name="file_import") == set()

    for job in jobs:
        assert job_status(api, project, job["id"])["status"] == "succeeded"
    assert len(keyword_texts(api, project)) == 18
    with tenant_transaction(api.tenant_id) as session:
        completed = session.scalar(text("SELECT count(*) FROM idempotency_records WHERE status = 'completed'"))
    assert completed == 9

    quarantined = dlq_messages(queues)
    assert len(quarantined) == 1
    attributes = quarantined[0]["MessageAttributes"]
    assert "Invalid message" in attributes["kestrel.quarantine_reason"]["StringValue"]
    assert "s3" in attributes["kestrel.quarantine_reason"]["StringValue"]
    assert attributes["kestrel.worker"]["StringValue"] == "file_import"
    assert attributes["kestrel.source_queue"]["StringValue"] == queues.arn
    assert quarantined[0]["Body"] == '{"Records": [{"eventSource": "aws:s3"}]}'
    assert any("Invalid message" in value for kind, value in sentry.exceptions() if kind == "PermanentError")
    assert queue_depth(queues.url) == 0

    # Redelivering the same ten (as SQS may) changes nothing and quarantines nothing twice.
    before = [job_status(api, project, job["id"]) for job in jobs]
    assert deliver(worker, messages[:9], queues, function_name="file_import") == set()
    assert [job_status(api, project, job["id"]) for job in jobs] == before
    assert len(keyword_texts(api, project)) == 18


def test_transient_database_error_is_retried_then_succeeds(platform, api, project, queues, worker):
    job = start_import(api, project, b"keyword\nlocked keyword\n")
    messages = receive(queues.url, 1, visibility_timeout=2)
    # Another transaction holds the job row: the worker's lock wait times out (SQLSTATE 55P03).
    with owner_connection(platform.owner_url) as blocker:
        blocker.execute("SELECT set_config('app.tenant_id', %s, true)", (api.tenant_id,))
        blocker.execute("SELECT 1 FROM jobs WHERE id = %s FOR UPDATE", (job["id"],))
        failed = deliver(worker, messages, queues, function_name="file_import")
        assert failed == {messages[0]["MessageId"]}
        assert job_status(api, project, job["id"])["status"] == "pending"
    assert dlq_messages(queues) == []
    retried = receive(queues.url, 1, timeout=15)  # back after its visibility timeout
    assert retried[0]["MessageId"] == messages[0]["MessageId"]
    assert int(retried[0]["Attributes"]["ApproximateReceiveCount"]) == 2
    assert deliver(worker, retried, queues, function_name="file_import") == set()
    assert job_status(api, project, job["id"])["status"] == "succeeded"
    assert keyword_texts(api, project) == ["locked keyword"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "The file is empty"),
        (b"\n\n", "The file is empty"),
        (b"keyword\n", "header but no keyword lines"),
        (b"phrase,volume\nshoes,100\n", "Wrong header: missing column(s) keyword; unknown column(s) phrase, volume"),
        (b"keyword,keyword\nshoes,shoes\n", "repeated column(s) keyword"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not UTF-8 text"),
        (b"keyword\nshoes\x00\x00\x01\n", "not readable CSV (line 2)"),
        ("keyword\ncafé\n".encode("latin-1"), "not UTF-8 text"),
        (b"keyword,country\nshoes,USA\nboots,XXX\n", "No valid keyword lines: all 2 lines have errors"),
    ],
    ids=["empty", "blank", "header-only", "wrong-header", "repeated-column", "png", "nul", "latin-1", "all-invalid"],
)
def test_bad_files_fail_the_job_with_a_reason(api, project, queues, worker, content, reason):
    job = start_import(api, project, content)
    assert deliver(worker, receive(queues.url, 1), queues, function_name="file_import") == set()
    status = job_status(api, project, job["id"])
    assert status["status"] == "failed"
    assert reason in status["failure_reason"]
    assert keyword_texts(api, project) == []
    assert dlq_messages(queues) == []


def test_a_file_that_goes_bad_half_way_leaves_nothing_written(api, project, queues, worker):
    good = "".join(f"keyword {i}\n" for i in range(2500)).encode()  # more than two write batches
    job = start_import(api, project, b"keyword\n" + good + b"caf\xe9\n")
    assert deliver(worker, receive(queues.url, 1), queues, function_name="file_import") == set()
    status = job_status(api, project, job["id"])
    assert status["status"] == "failed"
    assert "not UTF-8" in status["failure_reason"]
    assert keyword_texts(api, project) == []


def test_importing_the_same_file_twice_adds_nothing_the_second_time(api, project, queues, worker):
    data = b"keyword,tags\nshoes,a\nboots,b\nsocks,c\n"
    first = start_import(api, project, data)
    deliver(worker, receive(queues.url, 1), queues, function_name="file_import")
    second = start_import(api, project, data)
    deliver(worker, receive(queues.url, 1), queues, function_name="file_import")
    assert job_status(api, project, first["id"])["counters"]["keywords_created"] == 3
    again = job_status(api, project, second["id"])
    assert again["status"] == "succeeded"
    assert again["counters"]["keywords_created"] == 0
    assert again["counters"]["keywords_already_tracked"] == 3
    assert keyword_texts(api, project) == ["boots", "shoes", "socks"]


UNKNOWN_GHOST = "Unknown tenant 'org_ghost': the organization has no Kestrel account."


def test_upload_for_an_unknown_tenant_is_quarantined(api, queues, worker, sentry):
    key = f"uploads/org_ghost/keyword-imports/{uuid.uuid4()}.csv"
    s3().put_object(Bucket=UPLOADS_BUCKET, Key=key, Body=b"keyword\nx\n")
    assert deliver(worker, receive(queues.url, 1), queues, function_name="file_import") == set()
    quarantined = dlq_messages(queues)
    assert len(quarantined) == 1
    assert quarantined[0]["MessageAttributes"]["kestrel.quarantine_reason"]["StringValue"] == UNKNOWN_GHOST
    assert unquote_plus(json.loads(quarantined[0]["Body"])["Records"][0]["s3"]["object"]["key"]) == key
    assert quarantined[0]["MessageAttributes"]["kestrel.error_type"]["StringValue"] == "UnknownTenant"
    assert ("UnknownTenant", UNKNOWN_GHOST) in sentry.exceptions()


def test_upload_outside_the_key_layout_is_quarantined(queues, worker):
    s3().put_object(Bucket=UPLOADS_BUCKET, Key="uploads/stray-file.csv", Body=b"keyword\nx\n")
    assert deliver(worker, receive(queues.url, 1), queues, function_name="file_import") == set()
    reason = dlq_messages(queues)[0]["MessageAttributes"]["kestrel.quarantine_reason"]["StringValue"]
    assert "is not a Kestrel upload" in reason


def test_s3_test_event_is_acknowledged(queues, worker):
    sqs().send_message(
        QueueUrl=queues.url,
        MessageBody=json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": UPLOADS_BUCKET}),
    )
    assert deliver(worker, receive(queues.url, 1), queues, function_name="file_import") == set()
    assert queue_depth(queues.url) == 0
    assert dlq_messages(queues) == []
