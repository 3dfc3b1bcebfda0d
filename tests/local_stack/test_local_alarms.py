"""CloudWatch alarms evaluated locally: the decision, live metrics, notifications and the ops mailbox."""

import dataclasses
import json

import pytest

from kestrel_local.alarms import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    AlarmEvaluator,
    Datapoint,
    LiveMetrics,
    MetricKey,
    decide,
    statistic,
)
from kestrel_local.environments import FunctionStats
from kestrel_local.mail import Mailbox, TopicPublisher
from kestrel_local.model import AlarmSpec
from kestrel_local.provision import provision
from kestrel_local.runner import RunnerStats
from tests.support.local_stack import REGION, FakeClock, clients, isolated_stack

START = 1_800_000_000.0 + 1  # one second into a minute (and a five-minute period)


BASE = AlarmSpec(
    name="a",
    namespace="AWS/SQS",
    metric="ApproximateNumberOfMessagesVisible",
    dimensions={"QueueName": "q"},
    statistic="Maximum",
    period_seconds=60,
    evaluation_periods=3,
    datapoints_to_alarm=3,
    threshold=1.0,
    comparison="GreaterThanOrEqualToThreshold",
    treat_missing_data="missing",
    alarm_actions=(),
    ok_actions=(),
)


def _alarm(**overrides) -> AlarmSpec:
    return dataclasses.replace(BASE, **overrides)


def _decide(spec: AlarmSpec, window: list[Datapoint], current: str = OK) -> tuple[str, str]:
    decided = decide(spec, window, current)
    return decided if decided is not None else (RETAIN, "")


def _window(pattern: str) -> list[Datapoint]:
    """CloudWatch docs notation, oldest first: X breaching, 0 not breaching, - missing."""
    values = {"X": 5.0, "0": 0.0, "-": None}
    points = [Datapoint(float(i * 60), values[c]) for i, c in enumerate(pattern.replace(" ", ""))]
    return points[::-1]


RETAIN = "retain"


@pytest.mark.parametrize(
    ("pattern", "missing", "ignore", "breaching", "not_breaching"),
    [
        ("0 - X - X", OK, OK, ALARM, OK),
        ("- - - - 0", OK, OK, OK, OK),
        ("- - - - -", INSUFFICIENT_DATA, RETAIN, ALARM, OK),
        ("0 X X - X", ALARM, ALARM, ALARM, OK),
        ("- - X - -", RETAIN, RETAIN, ALARM, OK),
        ("X X X X X", ALARM, ALARM, ALARM, ALARM),
    ],
)
def test_missing_data_treatments_follow_cloudwatchs_table(pattern, missing, ignore, breaching, not_breaching):
    """3 of 3 datapoints to alarm, evaluation range 5: the table in CloudWatch's documentation."""
    for treatment, expected in (
        ("missing", missing),
        ("ignore", ignore),
        ("breaching", breaching),
        ("notBreaching", not_breaching),
    ):
        spec = _alarm(treat_missing_data=treatment)
        assert _decide(spec, _window(pattern))[0] == expected, (pattern, treatment)


def test_m_of_n_and_every_comparison_operator():
    two_of_three = _alarm(datapoints_to_alarm=2, treat_missing_data="notBreaching")
    assert _decide(two_of_three, _window("X 0 X"))[0] == ALARM
    assert _decide(two_of_three, _window("X - 0"), ALARM)[0] == OK
    expectations = {
        "GreaterThanOrEqualToThreshold": ALARM,
        "GreaterThanThreshold": OK,
        "LessThanThreshold": OK,
        "LessThanOrEqualToThreshold": ALARM,
    }
    for operator, expected in expectations.items():
        spec = _alarm(comparison=operator, evaluation_periods=1, datapoints_to_alarm=1)
        assert _decide(spec, [Datapoint(0.0, 1.0)])[0] == expected, operator  # at the threshold
    single = _alarm(evaluation_periods=1, datapoints_to_alarm=1)
    reason = _decide(single, [Datapoint(0.0, 2.0)])[1]
    assert reason == (
        "Threshold Crossed: 1 out of the last 1 datapoints [2.0 (01/01/70 00:00:00)] was greater than or equal to "
        "the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition)."
    )
    missing = _decide(dataclasses.replace(single, treat_missing_data="notBreaching"), [Datapoint(0.0, None)], ALARM)
    assert missing == (
        OK,
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as "
        "[NonBreaching].",
    )


def test_statistics_and_unsupported_alarms_are_skipped():
    samples = [3.0, 1.0, 2.0, 10.0]
    assert [statistic(s, samples) for s in ("Sum", "Average", "Minimum", "Maximum", "SampleCount", "p50")] == [
        16.0,
        4.0,
        1.0,
        10.0,
        4.0,
        2.0,
    ]
    evaluator = AlarmEvaluator(
        [_alarm(name="band", comparison="GreaterThanUpperThreshold"), _alarm(name="ok")],
        LiveMetrics(None, queue_urls={}),
        region=REGION,
        account_id="123456789012",
    )
    assert set(evaluator.alarms) == {"ok"}
    assert "anomaly" in evaluator.skipped["band"]


def _run(evaluator, clock, seconds, step=10):
    changes = []
    for _ in range(int(seconds // step)):
        clock.advance(step)
        changes += evaluator.tick()
    return changes


def test_dlq_depth_alarm_mails_ops_and_recovers(moto, tmp_path):
    stack = isolated_stack(moto.endpoint, tmp_path)
    aws = clients(moto.endpoint)
    provisioned = provision(stack, clients=aws)
    ops = provisioned.topics["OpsTopic"]
    capture = aws.sqs.create_queue(QueueName=f"capture-{stack.queues['FileImportQueue'].name}")["QueueUrl"]
    capture_arn = aws.sqs.get_queue_attributes(QueueUrl=capture, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.sns.subscribe(TopicArn=ops, Protocol="sqs", Endpoint=capture_arn, Attributes={"RawMessageDelivery": "true"})
    dlq = provisioned.queues["FileImportDeadLetterQueue"]
    (spec,) = [alarm for alarm in stack.alarms if alarm.logical_id == "FileImportDlqDepthAlarm"]
    mailbox = Mailbox(tmp_path / "mail")
    clock = FakeClock(START)
    evaluator = AlarmEvaluator(
        [spec],
        LiveMetrics.for_stack(provisioned, aws.sqs),
        region=REGION,
        account_id=stack.account_id,
        topic_arns=provisioned.topics,
        notifier=TopicPublisher(aws.sns, mailbox, region=REGION),
        clock=clock,
    )
    assert evaluator.tick() == []
    assert evaluator.states() == {spec.name: INSUFFICIENT_DATA}
    assert [c.new_state for c in _run(evaluator, clock, 60)] == [OK]  # an empty DLQ: OK, as on creation

    aws.sqs.send_message(
        QueueUrl=dlq.url,
        MessageBody="{}",
        MessageAttributes={"kestrel.quarantine_reason": {"DataType": "String", "StringValue": "invalid_message"}},
    )
    (change,) = _run(evaluator, clock, 120)
    assert (change.old_state, change.new_state) == (OK, ALARM)

    aws.sqs.purge_queue(QueueUrl=dlq.url)
    assert [c.new_state for c in _run(evaluator, clock, 120)] == [OK]

    mails = mailbox.list()
    assert [m.subject for m in mails] == [
        f'OK: "{spec.name}" in EU (Ireland)',
        f'ALARM: "{spec.name}" in EU (Ireland)',
        f'OK: "{spec.name}" in EU (Ireland)',
    ]
    alarm_mail = mailbox.read(mails[1].id)
    assert alarm_mail.to == "ops+local@kestrel.example"
    assert alarm_mail.sender == "Kestrel local ops <no-reply@sns.amazonaws.com>"
    assert alarm_mail.body.startswith(
        f'You are receiving this email because your Amazon CloudWatch Alarm "{spec.name}" in the EU (Ireland) '
        'region has entered the ALARM state, because "Threshold Crossed: 1 out of the last 1 datapoints [1.0 ('
    )
    assert "- State Change:               OK -> ALARM\n" in alarm_mail.body
    assert f"- Dimensions:                          [QueueName = {dlq.name}]\n" in alarm_mail.body
    assert "If you wish to stop receiving notifications from this topic" in alarm_mail.body
    notification = json.loads(alarm_mail.raw)
    assert list(notification) == [
        "AlarmName", "AlarmDescription", "AWSAccountId", "AlarmConfigurationUpdatedTimestamp", "NewStateValue",
        "NewStateReason", "StateChangeTime", "Region", "AlarmArn", "OldStateValue", "OKActions", "AlarmActions",
        "InsufficientDataActions", "Trigger",
    ]  # fmt: skip
    assert notification["NewStateValue"] == ALARM
    assert notification["OldStateValue"] == OK
    assert notification["Region"] == "EU (Ireland)"
    assert notification["AlarmArn"] == f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:{spec.name}"
    assert notification["AlarmActions"] == notification["OKActions"] == [ops]
    assert notification["Trigger"] | {"Dimensions": None} == {
        "MetricName": "ApproximateNumberOfMessagesVisible",
        "Namespace": "AWS/SQS",
        "StatisticType": "Statistic",
        "Statistic": "MAXIMUM",
        "Unit": None,
        "Dimensions": None,
        "Period": 60,
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "Threshold": 1.0,
        "TreatMissingData": "- TreatMissingData: notBreaching",
        "EvaluateLowSampleCountPercentile": "",
    }
    assert notification["Trigger"]["Dimensions"] == [{"value": dlq.name, "name": "QueueName"}]
    # Other subscribers get CloudWatch's JSON through SNS in the emulator.
    published = aws.sqs.receive_message(QueueUrl=capture, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    assert [json.loads(m["Body"])["NewStateValue"] for m in published] == [OK, ALARM, OK]


def test_lambda_errors_are_summed_per_period_and_missing_when_idle(tmp_path):
    stats = FunctionStats()
    spec = _alarm(
        name="errors",
        namespace="AWS/Lambda",
        metric="Errors",
        dimensions={"FunctionName": "kestrel-local-file_import"},
        statistic="Sum",
        period_seconds=300,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        threshold=5.0,
        treat_missing_data="notBreaching",
    )
    clock = FakeClock(START)
    evaluator = AlarmEvaluator(
        [spec],
        LiveMetrics(None, queue_urls={}, functions={"kestrel-local-file_import": stats}),
        region=REGION,
        account_id="123456789012",
        clock=clock,
        state_path=tmp_path / "alarms.json",
    )
    evaluator.tick()
    stats.invocations, stats.errors = 10, 4
    assert [c.new_state for c in _run(evaluator, clock, 300)] == [OK]
    stats.invocations, stats.errors = 20, 9  # 5 more errors in this period
    (change,) = _run(evaluator, clock, 300)
    assert change.new_state == ALARM
    assert "[5.0 (" in change.reason
    assert [c.new_state for c in _run(evaluator, clock, 300)] == [OK]  # no invocations: missing, not breaching

    # The state outlives a restart of the local stack, as an alarm outlives a deploy.
    stats.invocations, stats.errors = 30, 19
    assert [c.new_state for c in _run(evaluator, clock, 300)] == [ALARM]
    again = AlarmEvaluator(
        [spec],
        LiveMetrics(None, queue_urls={}, functions={"kestrel-local-file_import": stats}),
        region=REGION,
        account_id="123456789012",
        clock=clock,
        state_path=tmp_path / "alarms.json",
    )
    assert again.states() == {"errors": ALARM}


def test_age_of_oldest_message_from_runners_and_for_unconsumed_queues(moto, tmp_path):
    stack = isolated_stack(moto.endpoint, tmp_path)
    aws = clients(moto.endpoint)
    provisioned = provision(stack, clients=aws)
    queue, dlq = provisioned.queues["FileImportQueue"], provisioned.queues["FileImportDeadLetterQueue"]
    aws.sqs.purge_queue(QueueUrl=queue.url)
    runner = RunnerStats()
    metrics = LiveMetrics(aws.sqs, queue_urls={queue.name: queue.url, dlq.name: dlq.url}, runners={queue.name: runner})
    queue_age = MetricKey("AWS/SQS", "ApproximateAgeOfOldestMessage", (("QueueName", queue.name),))
    dlq_age = MetricKey("AWS/SQS", "ApproximateAgeOfOldestMessage", (("QueueName", dlq.name),))
    assert metrics.collect([queue_age, dlq_age], START) == {queue_age: [0.0], dlq_age: [0.0]}

    aws.sqs.send_message(QueueUrl=queue.url, MessageBody="a")
    aws.sqs.send_message(QueueUrl=dlq.url, MessageBody="b")
    runner.messages_received = 1
    runner.oldest_unfinished_sent_ms = {"m1": int((START - 1000) * 1000)}
    assert metrics.collect([queue_age, dlq_age], START + 10) == {queue_age: [1010.0], dlq_age: [0.0]}
    runner.oldest_unfinished_sent_ms = {}
    # Nothing received since: the queue's messages are at least as old as the time it has been stalled.
    assert metrics.collect([queue_age, dlq_age], START + 70) == {queue_age: [60.0], dlq_age: [60.0]}
    aws.sqs.purge_queue(QueueUrl=dlq.url)
    assert metrics.collect([dlq_age], START + 80) == {dlq_age: [0.0]}


def test_mailbox_lists_and_reads_messages(tmp_path):
    mailbox = Mailbox(tmp_path / "mail")
    assert mailbox.list() == []
    first = mailbox.deliver(
        to="a@x", subject="s1", body="b1", topic_arn="t", subscription_arn="s", message_id="1", raw="{}"
    )
    second = mailbox.deliver(
        to="a@x", subject="s2", body="b2", topic_arn="t", subscription_arn="s", message_id="2", raw="{}"
    )
    assert [m.subject for m in mailbox.list()] == ["s1", "s2"]
    assert mailbox.read(second.id) == second
    assert mailbox.read(first.id[:-2]) == first
    with pytest.raises(KeyError):
        mailbox.read("nope")
    with pytest.raises(KeyError):
        mailbox.read("../x")
