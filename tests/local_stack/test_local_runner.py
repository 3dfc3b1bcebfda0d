"""The event source mapping runner against real queues in the emulator and real execution environments."""

import json
import time
import uuid

import pytest
from aws_lambda_powertools.utilities.parser.models import SqsModel

from kestrel_local.environments import Environments
from kestrel_local.model import EventSourceSpec, FunctionSpec
from kestrel_local.runner import QueueRunner, settle
from tests.support.queues import REGION, create_worker_queues, queue_depth, sqs


def _runner(tmp_path, *, reserved=2, batch_size=10, window=0, timeout=10, max_concurrency=None, visibility=2):
    record_file = tmp_path / "records.jsonl"
    record_file.touch()
    spec = FunctionSpec(
        name="worker",
        logical_id="WorkerLambdaFunction",
        physical_name="kestrel-local-worker",
        handler="tests/support/handlers.sqs_batch",
        timeout_seconds=timeout,
        memory_mb=256,
        environment={"RECORD_FILE": str(record_file)},
        reserved_concurrency=reserved,
    )
    environments = Environments({"worker": spec}, overrides={}, log_dir=tmp_path / "logs")
    queues = create_worker_queues(f"runner-{uuid.uuid4().hex[:8]}", max_receive_count=2, visibility_timeout=visibility)
    source = EventSourceSpec(
        function="worker",
        queue="WorkerQueue",
        batch_size=batch_size,
        maximum_batching_window_seconds=window,
        report_batch_item_failures=True,
        maximum_concurrency=max_concurrency,
    )
    runner = QueueRunner(
        source, queue_url=queues.url, queue_arn=queues.arn, region=REGION, pool=environments.pools["worker"], sqs=sqs()
    )
    return runner, environments, queues, record_file


def _records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def _wait(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.fixture
def stoppable():
    started: list[tuple[QueueRunner, Environments]] = []
    yield started.append
    for runner, environments in started:
        runner.stop()
        environments.close()


def _send(queues, bodies):
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start : start + 10])]
        sqs().send_message_batch(QueueUrl=queues.url, Entries=entries)


def test_batches_succeed_fail_and_redrive_like_lambda(tmp_path, stoppable):
    runner, environments, queues, record_file = _runner(tmp_path, batch_size=5, window=1)
    _send(queues, ["ok-1", "ok-2", "fail", "ok-3"])
    stoppable((runner.start(), environments))
    # "fail" is redelivered once (maxReceiveCount 2), then the queue's redrive policy moves it to the DLQ.
    _wait(lambda: queue_depth(queues.dlq_url) == 1 and queue_depth(queues.url) == 0)
    records = _records(record_file)
    assert sorted(r["body"] for r in records if r["body"] != "fail") == ["ok-1", "ok-2", "ok-3"]
    assert [r["receive_count"] for r in records if r["body"] == "fail"] == ["1", "2"]
    assert records[0]["batch_size"] == 4  # one batch within the window
    SqsModel.model_validate({"Records": [records[0]["record"]]})
    record = records[0]["record"]
    assert set(record) == {
        "messageId", "receiptHandle", "body", "attributes", "messageAttributes",
        "md5OfBody", "eventSource", "eventSourceARN", "awsRegion",
    }  # fmt: skip
    assert record["eventSourceARN"] == queues.arn
    assert runner.stats.messages_deleted == 3


def test_an_exception_fails_the_whole_batch(tmp_path, stoppable):
    runner, environments, queues, record_file = _runner(tmp_path, batch_size=10, window=1)
    _send(queues, ["a", "raise", "b"])
    stoppable((runner.start(), environments))
    _wait(lambda: queue_depth(queues.dlq_url) == 3)
    assert _records(record_file) == []
    assert runner.stats.batch_errors == 2
    assert environments.pools["worker"].stats.errors == 2


def test_a_timeout_fails_the_whole_batch(tmp_path, stoppable):
    runner, environments, queues, record_file = _runner(tmp_path, timeout=1, batch_size=2, window=1)
    _send(queues, ["sleep:3", "x"])
    stoppable((runner.start(), environments))
    _wait(lambda: queue_depth(queues.dlq_url) == 2)
    assert _records(record_file) == []
    assert environments.pools["worker"].stats.environments_replaced == 2


def test_a_burst_never_exceeds_reserved_concurrency(tmp_path, stoppable):
    runner, environments, queues, record_file = _runner(tmp_path, reserved=3, batch_size=2, window=0, visibility=60)
    _send(queues, ["sleep:0.05"] * 60)
    stoppable((runner.start(), environments))
    _wait(lambda: len(_records(record_file)) == 60)
    spans = {(r["started"], r["ended"], r["pid"]) for r in _records(record_file)}
    most_at_once = max(sum(1 for s, e, _ in spans if s <= start < e) for start, _, _ in spans)
    assert most_at_once <= 3
    assert runner.stats.peak_in_flight <= 3
    assert environments.pools["worker"].stats.peak_in_use <= 3
    assert queue_depth(queues.url) == 0


def test_settle_reads_lambda_responses():
    from kestrel_local.model import InvocationResult

    messages = [{"MessageId": "a"}, {"MessageId": "b"}]
    ok = lambda response: InvocationResult("f", "r", True, response)  # noqa: E731
    assert settle(messages, ok({"batchItemFailures": []}), True) == set()
    assert settle(messages, ok(None), True) == set()
    assert settle(messages, ok({"batchItemFailures": [{"itemIdentifier": "b"}]}), True) == {"b"}
    assert settle(messages, ok({"batchItemFailures": [{"itemIdentifier": "zzz"}]}), True) == {"a", "b"}
    assert settle(messages, ok({"batchItemFailures": [{"itemIdentifier": ""}]}), True) == {"a", "b"}
    assert settle(messages, ok({"batchItemFailures": [{"itemIdentifier": "b"}]}), False) == set()
    assert settle(messages, InvocationResult("f", "r", False, None, "Timeout"), True) == {"a", "b"}
