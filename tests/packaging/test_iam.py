"""IAM in the packaged templates: one role per function granting what serverless.yml declares and no more,
no wildcards beyond the documented exceptions (infra/kestrel-iam.js)."""

import json
from typing import Any

import pytest

from tests.packaging.sls import PackagedStage
from tests.packaging.template import (
    ECS_TASK_RESOURCE_STAR_ACTIONS,
    RESOURCE_STAR_ACTIONS,
    SQS_CONSUME_ACTIONS,
    as_list,
    function_resources,
    granted,
    queue_ids_of,
    role_of,
    role_statements,
    trusted_services,
    workers,
)

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]

# The only managed policy: AWS's ENI policy for VPC Lambdas (ec2:CreateNetworkInterface & co.
# support no resource-level scoping for Lambda's use; see serverless.yml's provider.vpc).
ALLOWED_MANAGED_POLICY = ":iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
LOG_ACTIONS = frozenset({"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"})


def declared_grants(pkg: PackagedStage, name: str) -> set[tuple[str, str]]:
    """What serverless.yml's iamRoleStatements grant the function, plus what the worker plugin adds."""
    statements: list[dict[str, Any]] = list(pkg.functions[name].get("iamRoleStatements", []))
    if name in workers(pkg):
        queue_id, dlq_id = queue_ids_of(pkg, name)
        key = {"Fn::GetAtt": [pkg.config["custom"]["kestrelWorkers"]["kmsKeyLogicalId"], "Arn"]}
        statements += [
            {"Effect": "Allow", "Action": sorted(SQS_CONSUME_ACTIONS), "Resource": {"Fn::GetAtt": [queue_id, "Arn"]}},
            {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": {"Fn::GetAtt": [dlq_id, "Arn"]}},
            {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": key},
        ]
    return granted(statements)


def test_one_role_per_function(pkg: PackagedStage) -> None:
    functions = function_resources(pkg)
    role_ids = {name: role_of(pkg, name)[0] for name in functions}
    assert len(set(role_ids.values())) == len(functions)
    assert "IamRoleLambdaExecution" not in pkg.resources
    lambda_roles = {
        name
        for name, role in pkg.of_type("AWS::IAM::Role").items()
        if "lambda.amazonaws.com" in json.dumps(role["Properties"]["AssumeRolePolicyDocument"])
    }
    assert lambda_roles == set(role_ids.values())


def test_no_wildcard_actions_or_resources_in_iam_policies(pkg: PackagedStage) -> None:
    documents = []
    star_actions = {}
    for name, role in pkg.of_type("AWS::IAM::Role").items():
        documents += [(name, p["PolicyDocument"]) for p in role["Properties"].get("Policies", [])]
        ecs_only = trusted_services(role) == {"ecs-tasks.amazonaws.com"}
        star_actions[name] = ECS_TASK_RESOURCE_STAR_ACTIONS if ecs_only else RESOURCE_STAR_ACTIONS
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            assert ALLOWED_MANAGED_POLICY in json.dumps(arn), f"{name}: managed policy {arn}"
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        documents += [(name, p["Properties"]["PolicyDocument"]) for name, p in pkg.of_type(kind).items()]
    assert documents
    for name, document in documents:
        for statement in as_list(document["Statement"]):
            assert "NotAction" not in statement, name
            assert "NotResource" not in statement, name
            actions = as_list(statement["Action"])
            assert not [a for a in actions if "*" in a], f"{name}: wildcard action in {statement}"
            if "*" in as_list(statement["Resource"]):
                allowed = star_actions.get(name, RESOURCE_STAR_ACTIONS)
                assert set(actions) <= allowed, f"{name}: Resource * in {statement}"


def test_each_role_grants_what_serverless_yml_declares_and_no_more(pkg: PackagedStage) -> None:
    """Besides the declared statements and the worker plugin's: the function's own logs and X-Ray."""
    for name in pkg.functions:
        role_grants = granted(role_statements(role_of(pkg, name)[1]))
        declared = declared_grants(pkg, name)
        assert declared <= role_grants, f"{name}: missing {declared - role_grants}"
        extra = role_grants - declared
        for action, resource in extra:
            if action in LOG_ACTIONS:
                assert f":log-group:/aws/lambda/{pkg.config['service']}-{pkg.stage}-{name}:" in resource, resource
            else:
                assert action in RESOURCE_STAR_ACTIONS, f"{name}: {action} on {resource}"
                assert resource == '"*"', f"{name}: {action} on {resource}"


def test_the_reports_api_only_reads(pkg: PackagedStage) -> None:
    """api_reports serves reports over the aggregates: it reads its secrets and writes nothing but logs."""
    actions = {a for s in role_statements(role_of(pkg, "api_reports")[1]) for a in as_list(s["Action"])}
    assert actions - LOG_ACTIONS - RESOURCE_STAR_ACTIONS == {"secretsmanager:GetSecretValue", "kms:Decrypt"}


def test_key_policy_names_its_service_principals_and_no_kms_star(pkg: PackagedStage) -> None:
    statements = pkg.resources["StackKey"]["Properties"]["KeyPolicy"]["Statement"]
    services = {s["Principal"]["Service"] for s in statements if "Service" in s["Principal"]}
    assert {"s3.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com"} <= services
    for statement in statements:
        assert "kms:*" not in as_list(statement["Action"])
        assert statement["Resource"] == "*"  # key policies: AWS requires "*" (= this key)
