"""The packaged CloudFormation templates of dev and prod say what the architecture says."""

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory

from shared.reports.registry import REPORTS
from tests.packaging.sls import ROOT, PackagedStage

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]

FUNCTIONS = (
    "api_projects",
    "api_imports",
    "api_reports",
    "file_import",
    "gsc_sync",
    "gsc_ingest",
    "rollup",
    "db_migrate",
)
API_FUNCTIONS = ("api_projects", "api_imports", "api_reports")
WORKERS = ("file_import", "gsc_sync", "gsc_ingest", "rollup")

# Reserved concurrency per function and stage (ARCHITECTURE.md); absent = unreserved.
RESERVED_CONCURRENCY = {
    "dev": {"file_import": 1, "gsc_sync": 2, "gsc_ingest": 2, "rollup": 1, "db_migrate": 1},
    "prod": {"file_import": 1, "gsc_sync": 10, "gsc_ingest": 4, "rollup": 4, "db_migrate": 1},
}
# Queues a worker sends to besides its own DLQ (where it quarantines).
SENDS_TO: dict[str, tuple[str, ...]] = {
    "file_import": ("GscIngestQueue",),
    "gsc_sync": ("GscSyncQueue", "GscIngestQueue"),
    "gsc_ingest": ("RollupQueue",),
    "rollup": ("RollupQueue",),  # the nightly sweep fans out into its own queue
}
WORKER_SETTINGS: dict[str, dict[str, int | None]] = {
    "file_import": {"batch_size": 10, "batching_window": 5, "max_receive_count": 5, "oldest_age": 900},
    "gsc_sync": {"batch_size": 1, "batching_window": None, "max_receive_count": 8, "oldest_age": 3600},
    "gsc_ingest": {"batch_size": 1, "batching_window": None, "max_receive_count": 5, "oldest_age": 3600},
    "rollup": {"batch_size": 10, "batching_window": 5, "max_receive_count": 5, "oldest_age": 3600},
}
STAGE_PARAMS = {
    "dev": {
        "issuer": "https://kestrel-dev.eu.auth0.com/",
        "audience": ["https://api.dev.kestrel.example"],
        "ops_email": "ops+dev@kestrel.example",
        "deletion_protection": False,
        "backup_days": 7,
        "provisioned": 0,
    },
    "prod": {
        "issuer": "https://kestrel.eu.auth0.com/",
        "audience": ["https://api.kestrel.example"],
        "ops_email": "ops@kestrel.example",
        "deletion_protection": True,
        "backup_days": 35,
        "provisioned": 2,
    },
}

READ, WRITE = "read:projects", "write:projects"
ROUTES = {
    "GET /v1/health": None,
    "GET /v1/openapi.json": None,
    "GET /v1/docs": None,
    "GET /v1/docs/{asset}": None,
    "GET /v1/projects": READ,
    "POST /v1/projects": WRITE,
    "GET /v1/projects/{project_id}": READ,
    "PATCH /v1/projects/{project_id}": WRITE,
    "DELETE /v1/projects/{project_id}": WRITE,
    "GET /v1/projects/{project_id}/properties": READ,
    "POST /v1/projects/{project_id}/properties": WRITE,
    "GET /v1/projects/{project_id}/properties/{property_id}": READ,
    "PATCH /v1/projects/{project_id}/properties/{property_id}": WRITE,
    "DELETE /v1/projects/{project_id}/properties/{property_id}": WRITE,
    "GET /v1/projects/{project_id}/keywords": READ,
    "POST /v1/projects/{project_id}/keywords": WRITE,
    "POST /v1/projects/{project_id}/keywords/bulk": WRITE,
    "GET /v1/projects/{project_id}/keywords/{keyword_id}": READ,
    "PATCH /v1/projects/{project_id}/keywords/{keyword_id}": WRITE,
    "DELETE /v1/projects/{project_id}/keywords/{keyword_id}": WRITE,
    "GET /v1/projects/{project_id}/keyword-imports": READ,
    "POST /v1/projects/{project_id}/keyword-imports": WRITE,
    "GET /v1/projects/{project_id}/keyword-imports/{job_id}": READ,
    "GET /v1/projects/{project_id}/properties/{property_id}/connection": READ,
    "PUT /v1/projects/{project_id}/properties/{property_id}/connection": WRITE,
    "DELETE /v1/projects/{project_id}/properties/{property_id}/connection": WRITE,
    "POST /v1/projects/{project_id}/properties/{property_id}/connection/verify": WRITE,
    "POST /v1/projects/{project_id}/properties/{property_id}/syncs": WRITE,
    "POST /v1/projects/{project_id}/properties/{property_id}/backfills": WRITE,
    "POST /v1/projects/{project_id}/properties/{property_id}/gsc-imports": WRITE,
    "GET /v1/projects/{project_id}/jobs": READ,
    "GET /v1/projects/{project_id}/jobs/{job_id}": READ,
    "GET /v1/projects/{project_id}/jobs/{job_id}/days": READ,
    "POST /v1/projects/{project_id}/jobs/{job_id}/cancel": WRITE,
    **{f"GET {spec.path}": READ for spec in REPORTS.values()},
}

# The only IAM actions allowed with Resource "*": X-Ray accepts no resource-level permissions.
RESOURCE_STAR_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
# The only managed policy: AWS's ENI policy for VPC Lambdas (ec2:CreateNetworkInterface & co.
# support no resource-level scoping for Lambda's use).
ALLOWED_MANAGED_POLICY = ":iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"

SQS_CONSUME_ACTIONS = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ChangeMessageVisibility",
}
COMMON_ENVIRONMENT_KEYS = {
    "KESTREL_STAGE",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "KESTREL_DB_HOST",
    "KESTREL_DB_NAME",
    "KESTREL_DB_SECRET_ARN",
    "KESTREL_DB_SSLMODE",
    "KESTREL_UPLOADS_BUCKET",
    "KESTREL_CHUNKS_BUCKET",
    "KESTREL_GSC_SECRET_PREFIX",
    "KESTREL_SENTRY_DSN_SECRET_NAME",
}
STACK_KEY_ARN = {"Fn::GetAtt": ["StackKey", "Arn"]}
OPS_TOPIC = {"Ref": "OpsTopic"}


# ---------------------------------------------------------------- helpers


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def function_resources(pkg: PackagedStage) -> dict[str, dict[str, Any]]:
    """Lambda functions by their serverless.yml name."""
    prefix = f"kestrel-{pkg.stage}-"
    functions = {}
    for resource in pkg.of_type("AWS::Lambda::Function").values():
        name = resource["Properties"]["FunctionName"]
        assert name.startswith(prefix), name
        functions[name.removeprefix(prefix)] = resource
    return functions


def function_logical_id(pkg: PackagedStage, name: str) -> str:
    for logical_id, resource in pkg.of_type("AWS::Lambda::Function").items():
        if resource["Properties"]["FunctionName"] == f"kestrel-{pkg.stage}-{name}":
            return logical_id
    raise AssertionError(f"no function {name}")


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
    queue_id = source["Fn::GetAtt"][0]
    dlq_id = pkg.resources[queue_id]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    return queue_id, dlq_id


def role_of(pkg: PackagedStage, name: str) -> tuple[str, dict[str, Any]]:
    role_ref = function_resources(pkg)[name]["Properties"]["Role"]
    role_id = role_ref["Fn::GetAtt"][0]
    return role_id, pkg.resources[role_id]


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


def alarms_on(pkg: PackagedStage, namespace: str, metric: str, dimension: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        a["Properties"]
        for a in pkg.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["Namespace"] == namespace
        and a["Properties"]["MetricName"] == metric
        and dimension in a["Properties"]["Dimensions"]
    ]


# ---------------------------------------------------------------- functions


def test_functions_run_python_312_in_the_private_subnets_with_tracing(pkg: PackagedStage) -> None:
    functions = function_resources(pkg)
    assert set(functions) == set(FUNCTIONS)
    for name, resource in functions.items():
        props = resource["Properties"]
        assert props["Runtime"] == "python3.12", name
        assert props["Architectures"] == ["x86_64"], name
        assert props["Handler"] == f"functions/{name}/handler.handler"
        assert props["VpcConfig"]["SubnetIds"] == [{"Ref": "PrivateSubnetA"}, {"Ref": "PrivateSubnetB"}]
        assert props["VpcConfig"]["SecurityGroupIds"] == [{"Ref": "LambdaSecurityGroup"}]
        assert props["TracingConfig"] == {"Mode": "Active"}
    assert functions["api_projects"]["Properties"]["MemorySize"] == 1024
    assert functions["api_projects"]["Properties"]["Timeout"] == 29
    assert functions["file_import"]["Properties"]["MemorySize"] == 1024
    assert functions["file_import"]["Properties"]["Timeout"] == 300
    assert functions["db_migrate"]["Properties"]["MemorySize"] == 512
    assert functions["db_migrate"]["Properties"]["Timeout"] == 300
    assert functions["api_imports"]["Properties"]["Timeout"] == 29
    assert functions["gsc_sync"]["Properties"]["Timeout"] == 300
    # gsc_ingest's peak for a 25,000-row chunk is measured by `make bench-ingest` against this.
    assert functions["gsc_ingest"]["Properties"]["MemorySize"] == 1024
    assert (
        functions["api_reports"]["Properties"]["MemorySize"],
        functions["api_reports"]["Properties"]["Timeout"],
    ) == (
        1024,
        29,
    )
    assert (functions["rollup"]["Properties"]["MemorySize"], functions["rollup"]["Properties"]["Timeout"]) == (
        1024,
        300,
    )


def test_no_lambda_layers(pkg: PackagedStage) -> None:
    assert not pkg.of_type("AWS::Lambda::LayerVersion")
    assert all("Layers" not in f["Properties"] for f in function_resources(pkg).values())


def test_reserved_concurrency_per_function(pkg: PackagedStage) -> None:
    reserved = {
        name: f["Properties"]["ReservedConcurrentExecutions"]
        for name, f in function_resources(pkg).items()
        if "ReservedConcurrentExecutions" in f["Properties"]
    }
    assert reserved == RESERVED_CONCURRENCY[pkg.stage]


def test_log_retention(pkg: PackagedStage) -> None:
    expected = {"dev": 14, "prod": 90}[pkg.stage]
    for name, group in pkg.of_type("AWS::Logs::LogGroup").items():
        assert group["Properties"]["RetentionInDays"] == expected, name


def test_common_environment(pkg: PackagedStage) -> None:
    for name, resource in function_resources(pkg).items():
        env = resource["Properties"]["Environment"]["Variables"]
        assert set(env) >= COMMON_ENVIRONMENT_KEYS, name
        assert env["KESTREL_STAGE"] == pkg.stage
        assert env["POWERTOOLS_SERVICE_NAME"] == "kestrel"
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == f"Kestrel/{pkg.stage}"
        assert env["KESTREL_DB_HOST"] == {"Fn::GetAtt": ["DbProxy", "Endpoint"]}
        assert env["KESTREL_DB_NAME"] == "kestrel"
        assert env["KESTREL_DB_SECRET_ARN"] == {"Ref": "DbAppSecret"}
        assert env["KESTREL_DB_SSLMODE"] == "require"
        assert env["KESTREL_UPLOADS_BUCKET"] == {"Ref": "UploadsBucket"}
        assert env["KESTREL_CHUNKS_BUCKET"] == {"Ref": "ChunksBucket"}
        assert env["KESTREL_GSC_SECRET_PREFIX"] == f"kestrel/{pkg.stage}/gsc/"
        assert env["KESTREL_SENTRY_DSN_SECRET_NAME"] == f"kestrel/{pkg.stage}/sentry-dsn"
    migrate_env = function_resources(pkg)["db_migrate"]["Properties"]["Environment"]["Variables"]
    assert migrate_env["KESTREL_DB_OWNER_SECRET_ARN"] == {"Fn::GetAtt": ["DbCluster", "MasterUserSecret.SecretArn"]}


# ---------------------------------------------------------------- workers


@pytest.mark.parametrize("worker", WORKERS)
def test_worker_event_source_mapping(pkg: PackagedStage, worker: str) -> None:
    props = mapping_of(pkg, worker)["Properties"]
    settings = WORKER_SETTINGS[worker]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BatchSize"] == settings["batch_size"]
    assert props.get("MaximumBatchingWindowInSeconds") == settings["batching_window"]


def test_maximum_concurrency_never_exceeds_reserved_concurrency(pkg: PackagedStage) -> None:
    functions_by_id = {
        logical_id: resource["Properties"] for logical_id, resource in pkg.of_type("AWS::Lambda::Function").items()
    }
    mappings = pkg.of_type("AWS::Lambda::EventSourceMapping")
    assert len(mappings) == len(WORKERS)
    for name, mapping in mappings.items():
        props = mapping["Properties"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"], name
        function = functions_by_id[props["FunctionName"]["Fn::GetAtt"][0]]
        reserved = function["ReservedConcurrentExecutions"]
        if "ScalingConfig" in props:
            assert 2 <= props["ScalingConfig"]["MaximumConcurrency"] <= reserved, name
        else:
            assert reserved < 2, f"{name}: maximum concurrency missing although reserved is {reserved}"


@pytest.mark.parametrize("worker", WORKERS)
def test_worker_queue_redrives_to_its_own_encrypted_dlq(pkg: PackagedStage, worker: str) -> None:
    queue_id, dlq_id = queue_ids_of(pkg, worker)
    queue = pkg.resources[queue_id]["Properties"]
    dlq = pkg.resources[dlq_id]["Properties"]
    dashed = worker.replace("_", "-")
    assert queue["QueueName"] == f"kestrel-{pkg.stage}-{dashed}"
    assert dlq["QueueName"] == f"kestrel-{pkg.stage}-{dashed}-dlq"
    assert queue["RedrivePolicy"]["maxReceiveCount"] == WORKER_SETTINGS[worker]["max_receive_count"]
    assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert "RedrivePolicy" not in dlq
    timeout = function_resources(pkg)[worker]["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * timeout
    # No other queue shares this DLQ.
    for other_id, other in pkg.of_type("AWS::SQS::Queue").items():
        if other_id != queue_id and "RedrivePolicy" in other["Properties"]:
            assert other["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0] != dlq_id
    env = function_resources(pkg)[worker]["Properties"]["Environment"]["Variables"]
    assert env["KESTREL_DLQ_URL"] == {"Ref": dlq_id}
    assert env["KESTREL_QUEUE_URL"] == {"Ref": queue_id}


@pytest.mark.parametrize("worker", WORKERS)
def test_worker_role_consumes_its_queue_and_quarantines_to_its_dlq(pkg: PackagedStage, worker: str) -> None:
    queue_id, dlq_id = queue_ids_of(pkg, worker)
    statements = role_statements(role_of(pkg, worker)[1])
    for action in SQS_CONSUME_ACTIONS:
        assert grants(statements, action, {"Fn::GetAtt": [queue_id, "Arn"]}), action
    assert grants(statements, "sqs:SendMessage", {"Fn::GetAtt": [dlq_id, "Arn"]})
    assert grants(statements, "kms:Decrypt", STACK_KEY_ARN)
    assert grants(statements, "kms:GenerateDataKey", STACK_KEY_ARN)
    send_targets = [s["Resource"] for s in statements if "sqs:SendMessage" in as_list(s["Action"])]
    expected = [{"Fn::GetAtt": [target, "Arn"]} for target in (dlq_id, *SENDS_TO[worker])]
    assert sorted(send_targets, key=json.dumps) == sorted(expected, key=json.dumps)


@pytest.mark.parametrize("worker", WORKERS)
def test_worker_alarms_page_ops(pkg: PackagedStage, worker: str) -> None:
    queue_id, dlq_id = queue_ids_of(pkg, worker)
    function_ref = {"Ref": function_logical_id(pkg, worker)}
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
        assert len(found) == 1, f"{worker}: {len(found)} {kind} alarms"
        alarm = found[0]
        assert alarm["AlarmName"] == f"kestrel-{pkg.stage}-{worker.replace('_', '-')}-{kind}"
        assert alarm["AlarmActions"] == [OPS_TOPIC]
        assert alarm["OKActions"] == [OPS_TOPIC]
        assert alarm["TreatMissingData"] == "notBreaching"
    dlq_depth = alarms["dlq-depth"][0]
    assert (dlq_depth["Statistic"], dlq_depth["Period"], dlq_depth["Threshold"]) == ("Maximum", 60, 1)
    assert dlq_depth["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    oldest = alarms["oldest-message-age"][0]
    assert oldest["Threshold"] == WORKER_SETTINGS[worker]["oldest_age"]
    assert oldest["ComparisonOperator"] == "GreaterThanThreshold"
    errors = alarms["errors"][0]
    assert (errors["Statistic"], errors["Period"], errors["Threshold"]) == ("Sum", 300, 5)
    throttles = alarms["throttles"][0]
    assert (throttles["Statistic"], throttles["Period"], throttles["Threshold"]) == ("Sum", 300, 1)


# ---------------------------------------------------------------- encryption and ops


def test_kms_key_rotates_and_encrypts_queues_topic_bucket_database_and_secrets(pkg: PackagedStage) -> None:
    key = pkg.resources["StackKey"]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    queues = pkg.of_type("AWS::SQS::Queue")
    assert len(queues) == 2 * len(WORKERS)
    for name, queue in queues.items():
        assert queue["Properties"]["KmsMasterKeyId"] == {"Ref": "StackKey"}, name
    topics = pkg.of_type("AWS::SNS::Topic")
    assert topics
    for name, topic in topics.items():
        assert topic["Properties"]["KmsMasterKeyId"] == {"Ref": "StackKey"}, name
    sse = pkg.resources["UploadsBucket"]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": STACK_KEY_ARN}
    assert sse["BucketKeyEnabled"] is True
    cluster = pkg.resources["DbCluster"]["Properties"]
    assert cluster["KmsKeyId"] == STACK_KEY_ARN
    assert cluster["MasterUserSecret"] == {"KmsKeyId": {"Ref": "StackKey"}}
    assert pkg.resources["DbAppSecret"]["Properties"]["KmsKeyId"] == {"Ref": "StackKey"}


def test_key_policy_names_its_service_principals_and_no_kms_star(pkg: PackagedStage) -> None:
    statements = pkg.resources["StackKey"]["Properties"]["KeyPolicy"]["Statement"]
    services = {s["Principal"]["Service"] for s in statements if "Service" in s["Principal"]}
    assert {"s3.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com"} <= services
    for statement in statements:
        assert "kms:*" not in as_list(statement["Action"])
        assert statement["Resource"] == "*"  # key policies: AWS requires "*" (= this key)


def test_ops_topic_emails_the_stage_ops_address(pkg: PackagedStage) -> None:
    topic = pkg.resources["OpsTopic"]["Properties"]
    assert topic["TopicName"] == f"kestrel-{pkg.stage}-ops"
    subscriptions = [s["Properties"] for s in pkg.of_type("AWS::SNS::Subscription").values()]
    assert subscriptions == [
        {"TopicArn": OPS_TOPIC, "Protocol": "email", "Endpoint": STAGE_PARAMS[pkg.stage]["ops_email"]}
    ]
    policy = pkg.resources["OpsTopicPolicy"]["Properties"]
    assert policy["Topics"] == [OPS_TOPIC]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


# ---------------------------------------------------------------- network


def test_one_nat_gateway_one_elastic_ip_and_the_egress_ip_output(pkg: PackagedStage) -> None:
    nats = pkg.of_type("AWS::EC2::NatGateway")
    eips = pkg.of_type("AWS::EC2::EIP")
    assert len(nats) == 1
    assert len(eips) == 1
    [(eip_id, _)] = eips.items()
    [nat] = nats.values()
    assert nat["Properties"]["AllocationId"] == {"Fn::GetAtt": [eip_id, "AllocationId"]}
    assert nat["Properties"]["SubnetId"] == {"Ref": "PublicSubnetA"}
    output = pkg.template["Outputs"]["EgressIp"]
    assert output["Value"] == {"Ref": eip_id}
    assert output["Export"] == {"Name": f"kestrel-{pkg.stage}-egress-ip"}


def test_two_azs_private_subnets_route_through_the_nat(pkg: PackagedStage) -> None:
    subnets = pkg.of_type("AWS::EC2::Subnet")
    assert set(subnets) == {"PublicSubnetA", "PublicSubnetB", "PrivateSubnetA", "PrivateSubnetB"}
    for suffix, index in (("A", 0), ("B", 1)):
        for kind in ("Public", "Private"):
            az = subnets[f"{kind}Subnet{suffix}"]["Properties"]["AvailabilityZone"]
            assert az == {"Fn::Select": [index, {"Fn::GetAZs": ""}]}
    routes = [r["Properties"] for r in pkg.of_type("AWS::EC2::Route").values()]
    private = [r for r in routes if r["RouteTableId"] == {"Ref": "PrivateRouteTable"}]
    assert private == [
        {
            "RouteTableId": {"Ref": "PrivateRouteTable"},
            "DestinationCidrBlock": "0.0.0.0/0",
            "NatGatewayId": {"Ref": "NatGateway"},
        }
    ]
    associations = {
        a["Properties"]["SubnetId"]["Ref"]: a["Properties"]["RouteTableId"]["Ref"]
        for a in pkg.of_type("AWS::EC2::SubnetRouteTableAssociation").values()
    }
    assert associations == {
        "PublicSubnetA": "PublicRouteTable",
        "PublicSubnetB": "PublicRouteTable",
        "PrivateSubnetA": "PrivateRouteTable",
        "PrivateSubnetB": "PrivateRouteTable",
    }


def test_database_accepts_postgres_only_from_lambdas_and_proxy(pkg: PackagedStage) -> None:
    ingress = [r["Properties"] for r in pkg.of_type("AWS::EC2::SecurityGroupIngress").values()]
    into_db = {r["SourceSecurityGroupId"]["Ref"] for r in ingress if r["GroupId"] == {"Ref": "DbSecurityGroup"}}
    assert into_db == {"LambdaSecurityGroup", "DbProxySecurityGroup"}
    for rule in ingress:
        assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 5432, 5432)
        assert "CidrIp" not in rule
    for name, group in pkg.of_type("AWS::EC2::SecurityGroup").items():
        assert "SecurityGroupIngress" not in group["Properties"], name


# ---------------------------------------------------------------- database


def test_aurora_postgres_16_cluster(pkg: PackagedStage) -> None:
    cluster = pkg.resources["DbCluster"]["Properties"]
    assert cluster["Engine"] == "aurora-postgresql"
    assert str(cluster["EngineVersion"]).startswith("16.")
    assert cluster["StorageEncrypted"] is True
    assert cluster["ManageMasterUserPassword"] is True
    assert cluster["DatabaseName"] == "kestrel"
    assert cluster["DBSubnetGroupName"] == {"Ref": "DbSubnetGroup"}
    assert pkg.resources["DbSubnetGroup"]["Properties"]["SubnetIds"] == [
        {"Ref": "PrivateSubnetA"},
        {"Ref": "PrivateSubnetB"},
    ]
    params = STAGE_PARAMS[pkg.stage]
    assert cluster["DeletionProtection"] is params["deletion_protection"]
    assert cluster["BackupRetentionPeriod"] == params["backup_days"]
    instances = [i["Properties"] for i in pkg.of_type("AWS::RDS::DBInstance").values()]
    assert len(instances) == 2
    assert all(i["DBClusterIdentifier"] == {"Ref": "DbCluster"} for i in instances)
    assert all(i["Engine"] == "aurora-postgresql" for i in instances)
    zones = [json.dumps(i["AvailabilityZone"], sort_keys=True) for i in instances]
    assert len(set(zones)) == 2
    classes = {i["DBInstanceClass"] for i in instances}
    assert classes == {{"dev": "db.t4g.medium", "prod": "db.r6g.large"}[pkg.stage]}


def test_app_secret_generates_the_kestrel_app_password(pkg: PackagedStage) -> None:
    generate = pkg.resources["DbAppSecret"]["Properties"]["GenerateSecretString"]
    assert json.loads(generate["SecretStringTemplate"]) == {"username": "kestrel_app"}
    assert generate["GenerateStringKey"] == "password"
    assert generate["ExcludePunctuation"] is True


def test_rds_proxy_with_both_secrets_and_a_default_target_group(pkg: PackagedStage) -> None:
    master_secret = {"Fn::GetAtt": ["DbCluster", "MasterUserSecret.SecretArn"]}
    app_secret = {"Ref": "DbAppSecret"}
    proxy = pkg.resources["DbProxy"]["Properties"]
    assert proxy["EngineFamily"] == "POSTGRESQL"
    assert proxy["RequireTLS"] is True
    assert proxy["VpcSubnetIds"] == [{"Ref": "PrivateSubnetA"}, {"Ref": "PrivateSubnetB"}]
    assert proxy["VpcSecurityGroupIds"] == [{"Ref": "DbProxySecurityGroup"}]
    assert [a["SecretArn"] for a in proxy["Auth"]] == [master_secret, app_secret]
    [target_group] = [t["Properties"] for t in pkg.of_type("AWS::RDS::DBProxyTargetGroup").values()]
    assert target_group["DBProxyName"] == {"Ref": "DbProxy"}
    assert target_group["TargetGroupName"] == "default"
    assert target_group["DBClusterIdentifiers"] == [{"Ref": "DbCluster"}]
    role = pkg.resources[proxy["RoleArn"]["Fn::GetAtt"][0]]
    statements = role_statements(role)
    [secrets] = [s for s in statements if "secretsmanager:GetSecretValue" in as_list(s["Action"])]
    assert secrets["Resource"] == [master_secret, app_secret]
    [decrypt] = [s for s in statements if "kms:Decrypt" in as_list(s["Action"])]
    assert decrypt["Resource"] == STACK_KEY_ARN
    assert decrypt["Condition"] == {
        "StringEquals": {"kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}}
    }


def test_database_migration_custom_resource_runs_the_alembic_head(pkg: PackagedStage) -> None:
    resource = pkg.resources["DatabaseMigration"]
    assert resource["Type"] == "Custom::DatabaseMigration"
    props = resource["Properties"]
    assert props["ServiceToken"] == {"Fn::GetAtt": [function_logical_id(pkg, "db_migrate"), "Arn"]}
    heads = ScriptDirectory(str(ROOT / "migrations")).get_heads()
    assert props["Revision"] == (heads[0] if heads else "base")
    assert props["StackStage"] == pkg.stage
    assert {"DbWriterInstance", "DbProxyTargetGroup"} <= set(resource["DependsOn"])
    statements = role_statements(role_of(pkg, "db_migrate")[1])
    assert grants(
        statements, "secretsmanager:GetSecretValue", {"Fn::GetAtt": ["DbCluster", "MasterUserSecret.SecretArn"]}
    )
    assert grants(statements, "secretsmanager:GetSecretValue", {"Ref": "DbAppSecret"})
    assert grants(statements, "kms:Decrypt", STACK_KEY_ARN)


# ---------------------------------------------------------------- HTTP API


def test_provisioned_concurrency_only_on_prod_api_functions(pkg: PackagedStage) -> None:
    expected = STAGE_PARAMS[pkg.stage]["provisioned"]
    aliases = pkg.of_type("AWS::Lambda::Alias")
    text = json.dumps(pkg.template)
    if expected == 0:
        assert not aliases
        assert "ProvisionedConcurrencyConfig" not in text
        return
    api_ids = {function_logical_id(pkg, name) for name in API_FUNCTIONS}
    assert {a["Properties"]["FunctionName"]["Ref"] for a in aliases.values()} == api_ids
    for alias in aliases.values():
        assert alias["Properties"]["ProvisionedConcurrencyConfig"] == {"ProvisionedConcurrentExecutions": expected}
    assert text.count("ProvisionedConcurrencyConfig") == len(API_FUNCTIONS)


def test_jwt_authorizer_uses_the_stage_auth0_tenant(pkg: PackagedStage) -> None:
    authorizers = pkg.of_type("AWS::ApiGatewayV2::Authorizer")
    [authorizer] = authorizers.values()
    props = authorizer["Properties"]
    assert props["Name"] == "auth0"
    assert props["AuthorizerType"] == "JWT"
    assert props["IdentitySource"] == ["$request.header.Authorization"]
    params = STAGE_PARAMS[pkg.stage]
    assert props["JwtConfiguration"] == {"Issuer": params["issuer"], "Audience": params["audience"]}


def test_every_route_but_health_and_openapi_requires_its_scope(pkg: PackagedStage) -> None:
    [(authorizer_id, _)] = pkg.of_type("AWS::ApiGatewayV2::Authorizer").items()
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in pkg.of_type("AWS::ApiGatewayV2::Route").values()}
    assert set(routes) == set(ROUTES)
    for key, scope in ROUTES.items():
        route = routes[key]
        if scope is None:
            assert "AuthorizerId" not in route, key
            assert route.get("AuthorizationType", "NONE") == "NONE", key
        else:
            assert route["AuthorizationType"] == "JWT", key
            assert route["AuthorizerId"] == {"Ref": authorizer_id}, key
            assert route["AuthorizationScopes"] == [scope], key


def test_http_api_cors_and_json_access_logs(pkg: PackagedStage) -> None:
    [api] = pkg.of_type("AWS::ApiGatewayV2::Api").values()
    cors = api["Properties"]["CorsConfiguration"]
    assert set(cors["AllowHeaders"]) == {"Authorization", "Content-Type"}
    assert set(cors["AllowMethods"]) == {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    assert cors["AllowOrigins"]
    assert api["Properties"]["DisableExecuteApiEndpoint"] is False
    [stage] = pkg.of_type("AWS::ApiGatewayV2::Stage").values()
    log_format = stage["Properties"]["AccessLogSettings"]["Format"]
    fields = json.loads(log_format)
    assert {"requestId", "routeKey", "status", "latency", "ip", "sub"} <= set(fields)
    assert fields["sub"] == "$context.authorizer.claims.sub"


# ---------------------------------------------------------------- IAM


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
    for name, role in pkg.of_type("AWS::IAM::Role").items():
        documents += [(name, p["PolicyDocument"]) for p in role["Properties"].get("Policies", [])]
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
                assert set(actions) <= RESOURCE_STAR_ACTIONS, f"{name}: Resource * in {statement}"


def test_api_projects_presigns_uploads_and_reads_its_secrets(pkg: PackagedStage) -> None:
    statements = role_statements(role_of(pkg, "api_projects")[1])
    uploads = {"Fn::Sub": "arn:${AWS::Partition}:s3:::${UploadsBucket}/uploads/*"}
    sentry = {
        "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
        f"kestrel/{pkg.stage}/sentry-dsn-??????"
    }
    assert grants(statements, "s3:PutObject", uploads)
    assert grants(statements, "kms:GenerateDataKey", STACK_KEY_ARN)
    assert grants(statements, "kms:Decrypt", STACK_KEY_ARN)
    assert grants(statements, "secretsmanager:GetSecretValue", {"Ref": "DbAppSecret"})
    assert grants(statements, "secretsmanager:GetSecretValue", sentry)
    assert not any(a.startswith("sqs:") for s in statements for a in as_list(s["Action"]))
    file_import = role_statements(role_of(pkg, "file_import")[1])
    assert grants(file_import, "s3:GetObject", uploads)
    assert not grants(file_import, "s3:PutObject", uploads)


# ---------------------------------------------------------------- uploads


def test_uploads_bucket_notifies_the_file_import_queue(pkg: PackagedStage) -> None:
    queue_id, _ = queue_ids_of(pkg, "file_import")
    bucket = pkg.resources["UploadsBucket"]
    props = bucket["Properties"]
    [notification] = props["NotificationConfiguration"]["QueueConfigurations"]
    assert notification["Event"] == "s3:ObjectCreated:*"
    assert notification["Queue"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert notification["Filter"] == {"S3Key": {"Rules": [{"Name": "prefix", "Value": "uploads/"}]}}
    [(policy_id, policy)] = [
        (logical_id, policy)
        for logical_id, policy in pkg.of_type("AWS::SQS::QueuePolicy").items()
        if policy["Properties"]["Queues"] == [{"Ref": queue_id}]
    ]
    assert policy_id in as_list(bucket["DependsOn"])
    assert policy["Properties"]["Queues"] == [{"Ref": queue_id}]
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    conditions = statement["Condition"]
    assert conditions["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    source_arn = json.dumps(conditions["ArnEquals"]["aws:SourceArn"])
    assert f":s3:::kestrel-{pkg.stage}-uploads-" in source_arn
    assert "UploadsBucket" not in source_arn  # built from the name: no circular dependency


def test_uploads_bucket_is_private_tls_only_with_cors_and_expiry(pkg: PackagedStage) -> None:
    props = pkg.resources["UploadsBucket"]["Properties"]
    assert props["BucketName"] == {"Fn::Join": ["-", ["kestrel", pkg.stage, "uploads", {"Ref": "AWS::AccountId"}]]}
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    [cors] = props["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedMethods"] == ["PUT"]
    [rule] = props["LifecycleConfiguration"]["Rules"]
    assert (rule["Prefix"], rule["ExpirationInDays"], rule["Status"]) == ("uploads/", 30, "Enabled")
    [deny] = pkg.resources["UploadsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


# ---------------------------------------------------------------- Search Console ingestion


def assert_schedule_sends_to(pkg: PackagedStage, worker: str, expression: str, message: dict[str, Any]) -> None:
    """One enabled rule sends ``message`` to the worker's queue, and only that rule may (queue policy)."""
    queue_id, _ = queue_ids_of(pkg, worker)
    queue_arn = {"Fn::GetAtt": [queue_id, "Arn"]}
    [(rule_id, rule)] = [
        (logical_id, rule)
        for logical_id, rule in pkg.of_type("AWS::Events::Rule").items()
        if any(target["Arn"] == queue_arn for target in rule["Properties"]["Targets"])
    ]
    props = rule["Properties"]
    assert props["Name"].startswith(f"kestrel-{pkg.stage}-"), props["Name"]
    assert props["ScheduleExpression"] == expression
    assert props["State"] == "ENABLED"
    [target] = props["Targets"]
    assert json.loads(target["Input"]) == message
    [policy] = [
        p["Properties"]
        for p in pkg.of_type("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": queue_id}]
    ]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == queue_arn
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}


def test_the_schedules_are_the_daily_sync_and_the_nightly_rollup_sweep(pkg: PackagedStage) -> None:
    names = {rule["Properties"]["Name"] for rule in pkg.of_type("AWS::Events::Rule").values()}
    assert names == {f"kestrel-{pkg.stage}-gsc-daily-sync", f"kestrel-{pkg.stage}-rollup-nightly-sweep"}


def test_daily_sync_rule_sends_the_last_three_days_to_the_sync_queue_at_five_utc(pkg: PackagedStage) -> None:
    assert_schedule_sends_to(pkg, "gsc_sync", "cron(0 5 * * ? *)", {"kind": "scheduled_sync", "days": 3})


def test_chunks_bucket_is_private_encrypted_and_expires_chunks(pkg: PackagedStage) -> None:
    props = pkg.resources["ChunksBucket"]["Properties"]
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": STACK_KEY_ARN}
    [rule] = props["LifecycleConfiguration"]["Rules"]
    assert (rule["Prefix"], rule["ExpirationInDays"]) == ("gsc-chunks/", 7)
    assert "NotificationConfiguration" not in props


def test_search_console_roles_are_least_privilege(pkg: PackagedStage) -> None:
    chunks = {"Fn::Sub": "arn:${AWS::Partition}:s3:::${ChunksBucket}/gsc-chunks/*"}
    credentials = {
        "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
        f"kestrel/{pkg.stage}/gsc/*"
    }
    sync_queue, _ = queue_ids_of(pkg, "gsc_sync")
    ingest_queue, _ = queue_ids_of(pkg, "gsc_ingest")
    api = role_statements(role_of(pkg, "api_imports")[1])
    for action in ("CreateSecret", "PutSecretValue", "GetSecretValue", "DeleteSecret"):
        assert grants(api, f"secretsmanager:{action}", credentials), action
    assert grants(api, "sqs:SendMessage", {"Fn::GetAtt": [sync_queue, "Arn"]})
    assert not grants(api, "sqs:SendMessage", {"Fn::GetAtt": [ingest_queue, "Arn"]})
    sync = role_statements(role_of(pkg, "gsc_sync")[1])
    assert grants(sync, "secretsmanager:GetSecretValue", credentials)
    assert not grants(sync, "secretsmanager:PutSecretValue", credentials)
    assert grants(sync, "s3:PutObject", chunks)
    assert grants(sync, "sqs:SendMessage", {"Fn::GetAtt": [ingest_queue, "Arn"]})
    ingest = role_statements(role_of(pkg, "gsc_ingest")[1])
    assert grants(ingest, "s3:GetObject", chunks)
    assert not grants(ingest, "sqs:SendMessage", {"Fn::GetAtt": [sync_queue, "Arn"]})
    assert not grants(ingest, "s3:PutObject", chunks)
    assert not grants(ingest, "secretsmanager:GetSecretValue", credentials)
    file_import = role_statements(role_of(pkg, "file_import")[1])
    assert grants(file_import, "s3:PutObject", chunks)
    assert grants(file_import, "sqs:SendMessage", {"Fn::GetAtt": [ingest_queue, "Arn"]})
    env = function_resources(pkg)["api_imports"]["Properties"]["Environment"]["Variables"]
    assert env["KESTREL_GSC_SYNC_QUEUE_URL"] == {"Ref": sync_queue}
    assert env["KESTREL_SECRETS_KMS_KEY_ID"] == {"Ref": "StackKey"}
    for worker in ("gsc_sync", "file_import"):
        env = function_resources(pkg)[worker]["Properties"]["Environment"]["Variables"]
        assert env["KESTREL_GSC_INGEST_QUEUE_URL"] == {"Ref": ingest_queue}, worker


# ---------------------------------------------------------------- reports and rollup


def test_nightly_sweep_rule_sends_a_sweep_to_the_rollup_queue_at_three_utc(pkg: PackagedStage) -> None:
    assert_schedule_sends_to(pkg, "rollup", "cron(0 3 * * ? *)", {"kind": "sweep"})


def test_gsc_ingest_and_rollup_reach_the_rollup_queue(pkg: PackagedStage) -> None:
    rollup_queue, _ = queue_ids_of(pkg, "rollup")
    functions = function_resources(pkg)
    for name in ("gsc_ingest", "rollup"):
        env = functions[name]["Properties"]["Environment"]["Variables"]
        assert env["KESTREL_ROLLUP_QUEUE_URL"] == {"Ref": rollup_queue}, name
        statements = role_statements(role_of(pkg, name)[1])
        assert grants(statements, "sqs:SendMessage", {"Fn::GetAtt": [rollup_queue, "Arn"]}), name
        # The queue is KMS-encrypted: sending needs a data key.
        assert grants(statements, "kms:GenerateDataKey", STACK_KEY_ARN), name
    senders = {
        name
        for name in functions
        if grants(role_statements(role_of(pkg, name)[1]), "sqs:SendMessage", {"Fn::GetAtt": [rollup_queue, "Arn"]})
    }
    with_url = {
        name
        for name, function in functions.items()
        if "KESTREL_ROLLUP_QUEUE_URL" in function["Properties"]["Environment"]["Variables"]
    }
    assert senders == with_url == {"gsc_ingest", "rollup"}


def test_rollup_mapping_concurrency_follows_the_stage_param(pkg: PackagedStage) -> None:
    props = mapping_of(pkg, "rollup")["Properties"]
    if pkg.stage == "prod":
        assert props["ScalingConfig"] == {"MaximumConcurrency": 4}
    else:  # reserved concurrency 1 caps it alone: AWS's minimum MaximumConcurrency is 2
        assert "ScalingConfig" not in props


def test_api_reports_only_reads_the_database(pkg: PackagedStage) -> None:
    statements = role_statements(role_of(pkg, "api_reports")[1])
    sentry = {
        "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
        f"kestrel/{pkg.stage}/sentry-dsn-??????"
    }
    assert grants(statements, "secretsmanager:GetSecretValue", {"Ref": "DbAppSecret"})
    assert grants(statements, "secretsmanager:GetSecretValue", sentry)
    assert grants(statements, "kms:Decrypt", STACK_KEY_ARN)
    actions = {a for s in statements for a in as_list(s["Action"])}
    assert actions == {
        "secretsmanager:GetSecretValue",
        "kms:Decrypt",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        *RESOURCE_STAR_ACTIONS,
    }
    env = function_resources(pkg)["api_reports"]["Properties"]["Environment"]["Variables"]
    assert env["KESTREL_AUTH_ISSUER"] == STAGE_PARAMS[pkg.stage]["issuer"]
    assert set(env) == COMMON_ENVIRONMENT_KEYS | {"KESTREL_AUTH_ISSUER"}


# ---------------------------------------------------------------- artifact


def test_artifact_holds_the_code_and_linux_wheels_only(pkg: PackagedStage) -> None:
    with zipfile.ZipFile(pkg.directory / "kestrel.zip") as archive:
        names = archive.namelist()
    tops = {Path(name).parts[0] for name in names}
    for required in ("functions", "shared", "migrations", "alembic.ini", "psycopg", "sqlalchemy", "alembic"):
        assert required in tops, required
    for excluded in (
        "tests",
        "node_modules",
        ".venv",
        "bench",
        "docs",
        "nlp_service",
        "kestrel_local",
        ".state",
        "infra",
    ):
        assert excluded not in tops, excluded
    assert "serverless.yml" not in tops
    assert not [n for n in names if "__pycache__" in n and n.startswith(("functions/", "shared/"))]
    # Wheels for Lambda (CPython 3.12, manylinux x86_64), not for whatever machine packaged them.
    native = [n for n in names if n.endswith(".so")]
    assert any(n.startswith("pydantic_core/") and "cpython-312-x86_64-linux-gnu" in n for n in native)
    assert not [n for n in native if "darwin" in n or "aarch64" in n]
