"""The local stack reading a CloudFormation template: intrinsics, conditions and names resolved offline.

Synthetic templates only; the packaged local template itself (its functions, queues, routes, alarms)
and its packaging are tests/local_stack/test_local_template.py.
"""

import json
from typing import Any

import pytest

from kestrel_local.intrinsics import TemplateError
from kestrel_local.template import load_stack

ENDPOINT = "http://127.0.0.1:4566"
ACCOUNT = "123456789012"


SYNTHETIC = {
    "Conditions": {
        "IsLocal": {"Fn::Equals": [{"Ref": "Stage"}, "local"]},
        "NotLocal": {"Fn::Not": [{"Condition": "IsLocal"}]},
    },
    "Parameters": {"Stage": {"Type": "String", "Default": "local"}},
    "Resources": {
        "JobsDlq": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "jobs-dlq.fifo", "FifoQueue": True}},
        "JobsQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": {"Fn::Sub": "jobs-${AWS::Region}.fifo"},
                "FifoQueue": True,
                "ContentBasedDeduplication": True,
                "DelaySeconds": 2,
                "ReceiveMessageWaitTimeSeconds": 20,
                "KmsMasterKeyId": "alias/x",
                "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": "JobsDlq.Arn"}, "maxReceiveCount": "3"},
            },
        },
        "Unnamed": {"Type": "AWS::SQS::Queue", "Condition": "IsLocal"},
        "Skipped": {"Type": "AWS::SQS::Queue", "Condition": "NotLocal"},
        "MyDashfnUnderscorexLambdaFunction": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Handler": "h.handler",
                "FunctionName": "svc-local-my-fn_x",
                "Environment": {
                    "Variables": {
                        "SUB": {"Fn::Sub": ["${A}/${JobsQueue.QueueName}/${!Literal}/${AWS::AccountId}", {"A": "a"}]},
                        "AZ": {"Fn::Select": [1, {"Fn::GetAZs": ""}]},
                        "IF": {"Fn::If": ["IsLocal", "yes", "no"]},
                        "SPLIT": {"Fn::Select": ["2", {"Fn::Split": [",", "a,b,c"]}]},
                        "GONE": {"Fn::If": ["NotLocal", "x", {"Ref": "AWS::NoValue"}]},
                        "NUMBER": 5,
                        "UNNAMED": {"Ref": "Unnamed"},
                        "STACK": {"Ref": "AWS::StackName"},
                    }
                },
            },
        },
        "Ops": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"Subscription": [{"Protocol": "sqs", "Endpoint": {"Fn::GetAtt": ["JobsDlq", "Arn"]}}]},
        },
        "Nightly": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "ScheduleExpression": "cron(0 5 * * ? *)",
                "State": "DISABLED",
                "Targets": [
                    {"Id": "q", "Arn": {"Fn::GetAtt": ["JobsQueue", "Arn"]}, "SqsParameters": {"MessageGroupId": "g"}},
                    {
                        "Id": "f",
                        "Arn": {"Fn::GetAtt": ["MyDashfnUnderscorexLambdaFunction", "Arn"]},
                        "Input": '{"a": 1}',
                    },
                ],
            },
        },
        "Depth": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["JobsDlq", "QueueName"]}}],
                "ExtendedStatistic": "p90",
                "Period": 60,
                "EvaluationPeriods": 5,
                "DatapointsToAlarm": 3,
                "Threshold": 2,
                "ComparisonOperator": "LessThanThreshold",
                "AlarmActions": [{"Ref": "Ops"}],
            },
        },
    },
    "Outputs": {"B": {"Value": "x", "Export": {"Name": "sls-svc-local-ServerlessDeploymentBucketName"}}},
}


def test_intrinsics_conditions_and_generated_names():
    stack = load_stack(SYNTHETIC, stage="local", region="eu-west-1", endpoint_url=ENDPOINT)
    assert stack.stack_name == "svc-local"
    function = stack.functions["my-fn_x"]
    assert function.environment == {
        "SUB": "a/jobs-eu-west-1.fifo/${Literal}/123456789012",
        "AZ": "eu-west-1b",
        "IF": "yes",
        "SPLIT": "c",
        "NUMBER": "5",
        "UNNAMED": f"{ENDPOINT}/{ACCOUNT}/svc-local-Unnamed",
        "STACK": "svc-local",
    }
    assert set(stack.queues) == {"JobsDlq", "JobsQueue", "Unnamed"}
    jobs = stack.queues["JobsQueue"]
    assert jobs.fifo
    assert jobs.attributes == {
        "FifoQueue": "true",
        "ContentBasedDeduplication": "true",
        "DelaySeconds": "2",
        "ReceiveMessageWaitTimeSeconds": "20",
        "RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs-dlq.fifo", "maxReceiveCount": 3}
        ),
    }
    assert stack.topics["Ops"].name == "svc-local-Ops"
    assert [(s.protocol, s.endpoint) for s in stack.subscriptions] == [
        ("sqs", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs-dlq.fifo")
    ]
    queue_target, function_target = stack.schedules
    assert (queue_target.target_queue, queue_target.message_group_id, queue_target.enabled) == ("JobsQueue", "g", False)
    assert queue_target.arn == f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/svc-local-Nightly"
    assert (function_target.target_function, function_target.input) == ("my-fn_x", '{"a": 1}')
    (alarm,) = stack.alarms
    assert (alarm.statistic, alarm.datapoints_to_alarm, alarm.treat_missing_data) == ("p90", 3, "missing")
    assert alarm.dimensions == {"QueueName": "jobs-dlq.fifo"}
    assert alarm.alarm_actions == ("Ops",)
    assert alarm.name == "svc-local-Depth"


def test_a_route_with_an_unsupported_authorizer_is_refused():
    template = json.loads(json.dumps(SYNTHETIC))
    template["Resources"] |= {
        "Integration": {
            "Type": "AWS::ApiGatewayV2::Integration",
            "Properties": {"IntegrationUri": {"Fn::GetAtt": ["MyDashfnUnderscorexLambdaFunction", "Arn"]}},
        },
        "Route": {
            "Type": "AWS::ApiGatewayV2::Route",
            "Properties": {
                "RouteKey": "GET /x",
                "Target": {"Fn::Join": ["/", ["integrations", {"Ref": "Integration"}]]},
                "AuthorizationType": "AWS_IAM",
            },
        },
    }
    with pytest.raises(TemplateError, match="AWS_IAM"):
        load_stack(template, stage="local", region="eu-west-1")


def test_a_container_image_function_runs_its_command_as_a_python_handler() -> None:
    """serp_screenshot's image runs ``command`` with the Lambda Python runtime client: locally, the same handler."""
    properties: dict[str, Any] = {
        "PackageType": "Image",
        "Code": {"ImageUri": "000000000000.dkr.ecr.eu-west-1.amazonaws.com/x@sha256:" + "0" * 64},
        "ImageConfig": {"Command": ["functions/serp_screenshot/handler.handler"]},
        "FunctionName": "svc-local-serp_screenshot",
        "MemorySize": 2048,
        "Timeout": 300,
    }
    function = {"Type": "AWS::Lambda::Function", "Properties": properties}
    template = {"Resources": {"SerpUnderscorescreenshotLambdaFunction": function}}
    spec = load_stack(template, stage="local", region="eu-west-1").functions["serp_screenshot"]
    assert spec.handler == "functions/serp_screenshot/handler.handler"
    assert (spec.memory_mb, spec.timeout_seconds) == (2048, 300)
    del properties["ImageConfig"]
    with pytest.raises(TemplateError, match=r"ImageConfig\.Command"):
        load_stack(template, stage="local", region="eu-west-1")
