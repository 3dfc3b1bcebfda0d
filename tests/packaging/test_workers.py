"""Every SQS worker (a function with `worker:` in serverless.yml) gets the whole pattern infra/kestrel-workers.js
promises: its queue, a DLQ it redrives to, partial batch responses, bounded concurrency, least-privilege
access and the four alarms to the ops topic. Numbers are read from the worker's block, not restated."""

import json
from typing import Any

import pytest

from tests.packaging.sls import PackagedStage
from tests.packaging.template import (
    SQS_CONSUME_ACTIONS,
    alarms_on,
    as_list,
    environment_of,
    function_logical_id,
    function_resources,
    grants,
    mapping_of,
    queue_ids_of,
    queues_sent_to,
    role_of,
    role_statements,
    workers,
)

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]

# AWS's guidance for a Lambda consumer: visibility timeout at least six times the function timeout.
VISIBILITY_TIMEOUT_FACTOR = 6
# SQS keeps a message at most 14 days: a quarantined message waits as long as SQS allows.
SQS_MAX_RETENTION_SECONDS = 14 * 24 * 3600
SQS_DEFAULT_RETENTION_SECONDS = 4 * 24 * 3600
# AWS's lower bound for an SQS event source mapping's ScalingConfig.MaximumConcurrency.
MIN_MAXIMUM_CONCURRENCY = 2


def settings(pkg: PackagedStage) -> dict[str, str]:
    kestrel_workers: dict[str, str] = pkg.config["custom"]["kestrelWorkers"]
    return kestrel_workers


def ops_topic(pkg: PackagedStage) -> dict[str, str]:
    return {"Ref": settings(pkg)["alarmTopicLogicalId"]}


def stack_key_arn(pkg: PackagedStage) -> dict[str, Any]:
    return {"Fn::GetAtt": [settings(pkg)["kmsKeyLogicalId"], "Arn"]}


def test_there_are_workers_and_each_has_one_event_source_mapping(pkg: PackagedStage) -> None:
    assert workers(pkg)
    mappings = pkg.of_type("AWS::Lambda::EventSourceMapping")
    assert len(mappings) == len(workers(pkg))
    for name in workers(pkg):
        mapping_of(pkg, name)  # exactly one


def test_worker_event_source_mapping_reports_partial_batch_failures(pkg: PackagedStage) -> None:
    for name, worker in workers(pkg).items():
        props = mapping_of(pkg, name)["Properties"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"], name
        assert props["BatchSize"] == worker["batchSize"], name
        assert props.get("MaximumBatchingWindowInSeconds") == worker.get("maximumBatchingWindow"), name


def test_maximum_concurrency_never_exceeds_reserved_concurrency(pkg: PackagedStage) -> None:
    """The plugin's rule: min(reserved, maximumConcurrency); omitted below AWS's minimum of 2, where the
    reserved concurrency (then 1: the singleton) caps the worker alone."""
    for name, worker in workers(pkg).items():
        props = mapping_of(pkg, name)["Properties"]
        reserved = function_resources(pkg)[name]["Properties"]["ReservedConcurrentExecutions"]
        assert reserved == pkg.functions[name]["reservedConcurrency"] >= 1, name
        expected = min(reserved, worker.get("maximumConcurrency") or reserved)
        if "ScalingConfig" in props:
            maximum = props["ScalingConfig"]["MaximumConcurrency"]
            assert MIN_MAXIMUM_CONCURRENCY <= maximum <= reserved, name
            assert maximum == expected, name
        else:
            assert expected < MIN_MAXIMUM_CONCURRENCY, name
            assert reserved == 1, f"{name}: maximum concurrency missing although reserved is {reserved}"


def test_worker_queue_redrives_to_its_own_encrypted_dlq(pkg: PackagedStage) -> None:
    for name, worker in workers(pkg).items():
        queue_id, dlq_id = queue_ids_of(pkg, name)
        queue = pkg.resources[queue_id]["Properties"]
        dlq = pkg.resources[dlq_id]["Properties"]
        suffix = ".fifo" if worker.get("fifo") else ""
        dashed = name.replace("_", "-")
        assert queue["QueueName"] == f"{pkg.config['service']}-{pkg.stage}-{dashed}{suffix}"
        assert dlq["QueueName"] == f"{pkg.config['service']}-{pkg.stage}-{dashed}-dlq{suffix}"
        assert queue["RedrivePolicy"]["maxReceiveCount"] == worker["maxReceiveCount"], name
        assert "RedrivePolicy" not in dlq, name
        assert dlq["MessageRetentionPeriod"] == SQS_MAX_RETENTION_SECONDS, name
        assert dlq["MessageRetentionPeriod"] >= queue.get("MessageRetentionPeriod", SQS_DEFAULT_RETENTION_SECONDS)
        timeout = function_resources(pkg)[name]["Properties"]["Timeout"]
        assert queue["VisibilityTimeout"] >= VISIBILITY_TIMEOUT_FACTOR * timeout, name
        # No other queue shares this DLQ.
        for other_id, other in pkg.of_type("AWS::SQS::Queue").items():
            if other_id != queue_id and "RedrivePolicy" in other["Properties"]:
                assert other["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0] != dlq_id
        env = environment_of(pkg, name)
        assert env["KESTREL_QUEUE_URL"] == {"Ref": queue_id}, name
        assert env["KESTREL_DLQ_URL"] == {"Ref": dlq_id}, name


def test_every_queue_is_a_workers_queue_or_dlq(pkg: PackagedStage) -> None:
    owned = {queue for name in workers(pkg) for queue in queue_ids_of(pkg, name)}
    assert set(pkg.of_type("AWS::SQS::Queue")) == owned


def test_worker_role_consumes_its_queue_and_quarantines_to_its_dlq(pkg: PackagedStage) -> None:
    for name in workers(pkg):
        queue_id, dlq_id = queue_ids_of(pkg, name)
        statements = role_statements(role_of(pkg, name)[1])
        for action in SQS_CONSUME_ACTIONS:
            assert grants(statements, action, {"Fn::GetAtt": [queue_id, "Arn"]}), f"{name}: {action}"
        assert grants(statements, "sqs:SendMessage", {"Fn::GetAtt": [dlq_id, "Arn"]}), name
        assert grants(statements, "kms:Decrypt", stack_key_arn(pkg)), name
        assert grants(statements, "kms:GenerateDataKey", stack_key_arn(pkg)), name


def test_a_function_sends_to_exactly_the_queues_its_environment_names(pkg: PackagedStage) -> None:
    """Besides a worker's own DLQ (where it quarantines), a function may send to a queue only if it is
    configured with that queue's URL, and every queue URL it is given it may send to. Queues are
    KMS-encrypted: a sender needs a data key."""
    queues = set(pkg.of_type("AWS::SQS::Queue"))
    for name in pkg.functions:
        statements = role_statements(role_of(pkg, name)[1])
        sent_to = queues_sent_to(statements)
        if name in workers(pkg):
            sent_to.discard(queue_ids_of(pkg, name)[1])
        env = environment_of(pkg, name)
        named = {
            value["Ref"]
            for key, value in env.items()
            if key not in ("KESTREL_QUEUE_URL", "KESTREL_DLQ_URL")
            and isinstance(value, dict)
            and value.get("Ref") in queues
        }
        assert sent_to == named, name
        if sent_to:
            assert grants(statements, "kms:GenerateDataKey", stack_key_arn(pkg)), name


def test_worker_alarms_notify_ops(pkg: PackagedStage) -> None:
    for name, worker in workers(pkg).items():
        queue_id, dlq_id = queue_ids_of(pkg, name)
        function_ref = {"Ref": function_logical_id(pkg, name)}
        alarms = {
            "dlq-depth": alarms_on(
                pkg,
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                {"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}},
            ),
            "oldest-message-age": alarms_on(
                pkg,
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}},
            ),
            "errors": alarms_on(pkg, "AWS/Lambda", "Errors", {"Name": "FunctionName", "Value": function_ref}),
            "throttles": alarms_on(pkg, "AWS/Lambda", "Throttles", {"Name": "FunctionName", "Value": function_ref}),
        }
        for kind, found in alarms.items():
            assert len(found) == 1, f"{name}: {len(found)} {kind} alarms"
            alarm = found[0]
            assert alarm["AlarmName"] == f"{pkg.config['service']}-{pkg.stage}-{name.replace('_', '-')}-{kind}"
            assert alarm["TreatMissingData"] == "notBreaching", f"{name}: {kind}"
        # One quarantined message is enough to page.
        dlq_depth = alarms["dlq-depth"][0]
        assert (dlq_depth["Statistic"], dlq_depth["Threshold"]) == ("Maximum", 1), name
        assert dlq_depth["ComparisonOperator"] == "GreaterThanOrEqualToThreshold", name
        oldest = alarms["oldest-message-age"][0]
        assert oldest["ComparisonOperator"] == "GreaterThanThreshold", name
        if "oldestMessageAlarmSeconds" in worker:
            assert oldest["Threshold"] == worker["oldestMessageAlarmSeconds"], name
        for kind, setting in (("errors", "errorsAlarmThreshold"), ("throttles", "throttlesAlarmThreshold")):
            alarm = alarms[kind][0]
            assert alarm["Statistic"] == "Sum", f"{name}: {kind}"
            if setting in worker:
                assert alarm["Threshold"] == worker[setting], f"{name}: {kind}"


def test_every_alarm_notifies_the_ops_topic_both_ways(pkg: PackagedStage) -> None:
    alarms = pkg.of_type("AWS::CloudWatch::Alarm")
    assert len(alarms) >= 4 * len(workers(pkg))
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [ops_topic(pkg)], name
        assert alarm["Properties"]["OKActions"] == [ops_topic(pkg)], name


def test_schedules_send_to_a_workers_queue_and_only_they_may(pkg: PackagedStage) -> None:
    """Each EventBridge rule targets one worker's queue, whose policy lets that rule, and only it, send."""
    worker_queues = {queue_ids_of(pkg, name)[0]: name for name in workers(pkg)}
    rules = pkg.of_type("AWS::Events::Rule")
    assert rules
    for rule_id, rule in rules.items():
        props = rule["Properties"]
        assert props["Name"].startswith(f"{pkg.config['service']}-{pkg.stage}-"), props["Name"]
        assert props["State"] == "ENABLED", rule_id
        [target] = props["Targets"]
        queue_id = target["Arn"]["Fn::GetAtt"][0]
        assert queue_id in worker_queues, f"{rule_id} targets {queue_id}, not a worker's queue"
        assert isinstance(json.loads(target["Input"]), dict), rule_id
        [policy] = [
            p["Properties"]
            for p in pkg.of_type("AWS::SQS::QueuePolicy").values()
            if p["Properties"]["Queues"] == [{"Ref": queue_id}]
        ]
        [statement] = as_list(policy["PolicyDocument"]["Statement"])
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}, rule_id
        assert statement["Action"] == "sqs:SendMessage", rule_id
        assert statement["Resource"] == {"Fn::GetAtt": [queue_id, "Arn"]}, rule_id
        assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}


def test_bucket_notifications_reach_a_workers_queue_through_a_policy_for_that_bucket(pkg: PackagedStage) -> None:
    worker_queues = {queue_ids_of(pkg, name)[0] for name in workers(pkg)}
    notified = 0
    for bucket_id, bucket in pkg.of_type("AWS::S3::Bucket").items():
        for notification in bucket["Properties"].get("NotificationConfiguration", {}).get("QueueConfigurations", []):
            notified += 1
            queue_id = notification["Queue"]["Fn::GetAtt"][0]
            assert queue_id in worker_queues, f"{bucket_id} notifies {queue_id}, not a worker's queue"
            [(policy_id, policy)] = [
                (logical_id, policy)
                for logical_id, policy in pkg.of_type("AWS::SQS::QueuePolicy").items()
                if policy["Properties"]["Queues"] == [{"Ref": queue_id}]
            ]
            assert policy_id in as_list(bucket["DependsOn"]), bucket_id  # the policy exists before S3 tests it
            [statement] = as_list(policy["Properties"]["PolicyDocument"]["Statement"])
            assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
            assert statement["Action"] == "sqs:SendMessage"
            assert statement["Resource"] == {"Fn::GetAtt": [queue_id, "Arn"]}
            conditions = statement["Condition"]
            assert conditions["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
            source_arn = json.dumps(conditions["ArnEquals"]["aws:SourceArn"])
            assert bucket_id not in source_arn  # built from the bucket's name: no circular dependency
            separator, parts = bucket["Properties"]["BucketName"]["Fn::Join"]
            named = separator.join(part for part in parts if isinstance(part, str))
            assert f":s3:::{named}{separator}" in source_arn, f"{bucket_id}: {source_arn}"
    assert notified
