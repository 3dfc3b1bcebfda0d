"""The template's operations resources read into specs: CloudWatch alarms and EventBridge schedules.

Metric math alarms and event-pattern rules are not evaluated locally: they are
left out with a warning, as are target options (InputPath, InputTransformer)
the local scheduler does not apply.
"""

from collections.abc import Mapping
from typing import Any

from kestrel_local.intrinsics import TemplateError, as_str, get_att_parts
from kestrel_local.model import AlarmSpec, FunctionSpec, QueueSpec, ScheduleSpec, TopicSpec
from kestrel_local.resources import ResourceReader

TREAT_MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")


def read_alarms(reader: ResourceReader, topics: Mapping[str, TopicSpec]) -> tuple[AlarmSpec, ...]:
    """The alarms on a single metric; their actions as topic logical ids where the topic is in the stack."""
    alarms: list[AlarmSpec] = []
    for logical_id, props in reader.of_type("AWS::CloudWatch::Alarm"):
        if "Metrics" in props or "MetricName" not in props:
            reader.warnings.append(f"alarm {logical_id}: metric math alarms are not evaluated locally")
            continue
        evaluation_periods = int(reader.value(props, "EvaluationPeriods", 1))
        treat = as_str(reader.value(props, "TreatMissingData", "missing"))
        if treat not in TREAT_MISSING_DATA:
            raise TemplateError(f"alarm {logical_id}: TreatMissingData {treat!r}")

        def actions(key: str, props: Mapping[str, Any] = props) -> tuple[str, ...]:
            return tuple(reader.topic_for(raw, topics) or as_str(reader.r.resolve(raw)) for raw in props.get(key) or [])

        alarms.append(
            AlarmSpec(
                name=reader.r.physical_name(logical_id),
                namespace=as_str(reader.value(props, "Namespace")),
                metric=as_str(reader.value(props, "MetricName")),
                dimensions={as_str(d["Name"]): as_str(d["Value"]) for d in reader.value(props, "Dimensions", [])},
                statistic=as_str(reader.value(props, "Statistic") or reader.value(props, "ExtendedStatistic")),
                period_seconds=int(reader.value(props, "Period", 60)),
                evaluation_periods=evaluation_periods,
                datapoints_to_alarm=int(reader.value(props, "DatapointsToAlarm", evaluation_periods)),
                threshold=float(reader.value(props, "Threshold", 0)),
                comparison=as_str(reader.value(props, "ComparisonOperator")),
                treat_missing_data=treat,  # type: ignore[arg-type]
                alarm_actions=actions("AlarmActions"),
                ok_actions=actions("OKActions"),
                description=as_str(reader.value(props, "AlarmDescription", "")),
                insufficient_data_actions=actions("InsufficientDataActions"),
                actions_enabled=as_str(reader.value(props, "ActionsEnabled", True)) == "true",
                unit=None if "Unit" not in props else as_str(reader.value(props, "Unit")),
                logical_id=logical_id,
            )
        )
    return tuple(alarms)


def read_schedules(
    reader: ResourceReader, functions: Mapping[str, FunctionSpec], queues: Mapping[str, QueueSpec]
) -> tuple[ScheduleSpec, ...]:
    """EventBridge rules with a schedule (one spec per target) and EventBridge Scheduler schedules."""
    schedules: list[ScheduleSpec] = []
    for logical_id, props in reader.of_type("AWS::Events::Rule"):
        if "ScheduleExpression" not in props:
            reader.warnings.append(f"rule {logical_id}: event-pattern rules are not emulated locally")
            continue
        name = reader.r.physical_name(logical_id)
        enabled = as_str(reader.value(props, "State", "ENABLED")) == "ENABLED"
        for target in props.get("Targets") or []:
            spec = _schedule_target(reader, logical_id, name, props, target, enabled, functions, queues, "UTC")
            if spec is not None:
                schedules.append(spec)
    for logical_id, props in reader.of_type("AWS::Scheduler::Schedule"):
        name = reader.r.physical_name(logical_id)
        enabled = as_str(reader.value(props, "State", "ENABLED")) == "ENABLED"
        timezone = as_str(reader.value(props, "ScheduleExpressionTimezone", "UTC"))
        spec = _schedule_target(
            reader, logical_id, name, props, props.get("Target") or {}, enabled, functions, queues, timezone
        )
        if spec is not None:
            schedules.append(spec)
    return tuple(schedules)


def _schedule_target(
    reader: ResourceReader,
    logical_id: str,
    name: str,
    props: Mapping[str, Any],
    target: Mapping[str, Any],
    enabled: bool,
    functions: Mapping[str, FunctionSpec],
    queues: Mapping[str, QueueSpec],
    timezone: str,
) -> ScheduleSpec | None:
    raw_arn = target.get("Arn")
    parts = get_att_parts(raw_arn)
    queue = parts[0] if parts and parts[0] in queues else reader.queue_by_arn(as_str(reader.r.resolve(raw_arn)))
    function = None if queue else reader.function_for(raw_arn, functions)
    if queue is None and function is None:
        reader.warnings.append(f"schedule {logical_id}: target {target.get('Id', '')} is not a queue or function")
        return None
    for unsupported in ("InputPath", "InputTransformer"):
        if unsupported in target:
            reader.warnings.append(f"schedule {logical_id}: {unsupported} is not applied locally")
    given_input = reader.value(target, "Input")
    sqs_parameters = reader.value(target, "SqsParameters", {})
    return ScheduleSpec(
        name=name,
        expression=as_str(reader.value(props, "ScheduleExpression")),
        enabled=enabled,
        target_queue=queue,
        target_function=function,
        input=None if given_input is None else as_str(given_input),
        arn=reader.r.rule_arn(name),
        target_id=as_str(reader.value(target, "Id", "")),
        message_group_id=sqs_parameters.get("MessageGroupId"),
        timezone=timezone,
    )
