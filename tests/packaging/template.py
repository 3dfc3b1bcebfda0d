"""Reading a packaged CloudFormation template: functions, workers, roles and references, by serverless.yml name."""

import json
from typing import Any

from tests.packaging.sls import PackagedStage

# The only IAM actions allowed with Resource "*" (infra/kestrel-iam.js): X-Ray accepts no
# resource-level permissions.
RESOURCE_STAR_ACTIONS = frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"})
# The same for roles only ECS tasks assume (the NLP service's execution role): the ECR registry token.
ECS_TASK_RESOURCE_STAR_ACTIONS = RESOURCE_STAR_ACTIONS | {"ecr:GetAuthorizationToken"}
# What a worker's role needs on its own queue (infra/kestrel-workers.js, and Lambda's SQS poller).
SQS_CONSUME_ACTIONS = frozenset(
    {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"}
)
# The environment the worker plugin adds to each worker: its own queue and DLQ.
WORKER_ENVIRONMENT = frozenset({"KESTREL_QUEUE_URL", "KESTREL_DLQ_URL"})


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def workers(pkg: PackagedStage) -> dict[str, dict[str, Any]]:
    """serverless.yml's `worker:` blocks by function name."""
    return {name: function["worker"] for name, function in pkg.functions.items() if "worker" in function}


def function_resources(pkg: PackagedStage) -> dict[str, dict[str, Any]]:
    """Lambda functions by their serverless.yml name."""
    prefix = f"{pkg.config['service']}-{pkg.stage}-"
    functions = {}
    for resource in pkg.of_type("AWS::Lambda::Function").values():
        name = resource["Properties"]["FunctionName"]
        assert name.startswith(prefix), name
        functions[name.removeprefix(prefix)] = resource
    return functions


def function_logical_id(pkg: PackagedStage, name: str) -> str:
    for logical_id, resource in pkg.of_type("AWS::Lambda::Function").items():
        if resource["Properties"]["FunctionName"] == f"{pkg.config['service']}-{pkg.stage}-{name}":
            return logical_id
    raise AssertionError(f"no function {name}")


def environment_of(pkg: PackagedStage, name: str) -> dict[str, Any]:
    variables: dict[str, Any] = function_resources(pkg)[name]["Properties"]["Environment"]["Variables"]
    return variables


def mapping_of(pkg: PackagedStage, name: str) -> dict[str, Any]:
    logical_id = function_logical_id(pkg, name)
    mappings = [
        m
        for m in pkg.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Fn::GetAtt": [logical_id, "Arn"]}
    ]
    assert len(mappings) == 1, f"{name}: {len(mappings)} event source mappings"
    return mappings[0]


def queue_ids_of(pkg: PackagedStage, name: str) -> tuple[str, str]:
    """(queue, DLQ) logical ids of a worker, followed from its event source mapping."""
    source = mapping_of(pkg, name)["Properties"]["EventSourceArn"]
    queue_id: str = source["Fn::GetAtt"][0]
    dlq_id: str = pkg.resources[queue_id]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    return queue_id, dlq_id


def role_of(pkg: PackagedStage, name: str) -> tuple[str, dict[str, Any]]:
    role_ref = function_resources(pkg)[name]["Properties"]["Role"]
    role_id: str = role_ref["Fn::GetAtt"][0]
    return role_id, pkg.resources[role_id]


def trusted_services(role: dict[str, Any]) -> set[str | None]:
    """The service principals a role's trust policy names (None for any other kind of principal)."""
    found: set[str | None] = set()
    for statement in as_list(role["Properties"]["AssumeRolePolicyDocument"]["Statement"]):
        principal = statement.get("Principal") or {}
        if set(principal) == {"Service"}:
            found.update(as_list(principal["Service"]))
        else:
            found.add(None)
    return found


def role_statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy in role["Properties"].get("Policies", [])
        for statement in as_list(policy["PolicyDocument"]["Statement"])
    ]


def grants(statements: list[dict[str, Any]], action: str, resource: Any) -> bool:
    return any(
        s["Effect"] == "Allow" and action in as_list(s["Action"]) and resource in as_list(s["Resource"])
        for s in statements
    )


def granted(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """Every (action, resource) pair the Allow statements grant (resources as canonical JSON)."""
    return {
        (action, json.dumps(resource, sort_keys=True))
        for s in statements
        if s["Effect"] == "Allow"
        for action in as_list(s["Action"])
        for resource in as_list(s["Resource"])
    }


def queues_sent_to(statements: list[dict[str, Any]]) -> set[str]:
    """Logical ids of the queues the statements allow sqs:SendMessage to."""
    return {
        resource["Fn::GetAtt"][0]
        for s in statements
        if s["Effect"] == "Allow" and "sqs:SendMessage" in as_list(s["Action"])
        for resource in as_list(s["Resource"])
    }


def referenced_ids(value: Any) -> set[str]:
    """Logical ids a value refers to through Ref, Fn::GetAtt or Fn::Sub's ${Name} (pseudo parameters left out)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= referenced_ids(item)
    elif isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else inner.split(".", 1)[0])
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                for part in text.split("${")[1:]:
                    found.add(part.split("}", 1)[0].split(".", 1)[0])
                if not isinstance(inner, str):
                    found |= referenced_ids(inner[1])
            else:
                found |= referenced_ids(inner)
    return {name for name in found if not name.startswith("AWS::")}


def alarms_on(pkg: PackagedStage, namespace: str, metric: str, dimension: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        a["Properties"]
        for a in pkg.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["Namespace"] == namespace
        and a["Properties"]["MetricName"] == metric
        and dimension in a["Properties"]["Dimensions"]
    ]
