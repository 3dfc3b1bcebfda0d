"""The packaged stack's own resources (infra/resources/*.yml) hold the architecture's invariants.

Encryption with the stack key everywhere, private TLS-only buckets, the ops topic, the network, the
database and its proxy, the migration on deploy, the deployment artifact. Stage values come from
serverless.yml's params; the functions, workers, IAM and routes have test modules of their own.
"""

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory

from tests.packaging.sls import ROOT, PackagedStage
from tests.packaging.template import as_list, function_logical_id, grants, role_of, role_statements

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]

STACK_KEY_ARN = {"Fn::GetAtt": ["StackKey", "Arn"]}
STACK_KEY = {"Ref": "StackKey"}
POSTGRES_PORT = 5432


def own_buckets(pkg: PackagedStage) -> dict[str, dict[str, Any]]:
    """The stack's buckets, without osls' deployment bucket."""
    return {name: b for name, b in pkg.of_type("AWS::S3::Bucket").items() if name != "ServerlessDeploymentBucket"}


# ---------------------------------------------------------------- encryption


def test_kms_key_rotates_and_encrypts_queues_topics_buckets_database_and_secrets(pkg: PackagedStage) -> None:
    key = pkg.resources["StackKey"]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    for kind in ("AWS::SQS::Queue", "AWS::SNS::Topic"):
        resources = pkg.of_type(kind)
        assert resources, kind
        for name, resource in resources.items():
            assert resource["Properties"]["KmsMasterKeyId"] == STACK_KEY, name
    assert own_buckets(pkg)
    for name, bucket in own_buckets(pkg).items():
        [sse] = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        by_default = sse["ServerSideEncryptionByDefault"]
        assert by_default == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": STACK_KEY_ARN}, name
        assert sse["BucketKeyEnabled"] is True, name
    cluster = pkg.resources["DbCluster"]["Properties"]
    assert cluster["StorageEncrypted"] is True
    assert cluster["KmsKeyId"] == STACK_KEY_ARN
    assert cluster["MasterUserSecret"] == {"KmsKeyId": STACK_KEY}
    for name, secret in pkg.of_type("AWS::SecretsManager::Secret").items():
        assert secret["Properties"]["KmsKeyId"] == STACK_KEY, name


# ---------------------------------------------------------------- buckets


def test_every_bucket_is_private_and_tls_only(pkg: PackagedStage) -> None:
    policies = {
        policy["Properties"]["Bucket"]["Ref"]: policy["Properties"]
        for policy in pkg.of_type("AWS::S3::BucketPolicy").values()
    }
    for name, bucket in pkg.of_type("AWS::S3::Bucket").items():
        blocks = bucket["Properties"]["PublicAccessBlockConfiguration"]
        assert set(blocks) == {"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"}
        assert set(blocks.values()) == {True}, name
        statements = as_list(policies[name]["PolicyDocument"]["Statement"])
        insecure = [{"Bool": {"aws:SecureTransport": value}} for value in ("false", False)]
        assert any(s["Effect"] == "Deny" and s["Condition"] in insecure for s in statements), name


def test_the_buckets_are_named_after_the_stage_and_expire_what_they_hold(pkg: PackagedStage) -> None:
    """Uploads, chunks, crawled HTML, topic-fit corpora and screenshots are kept for a while: each prefix expires.

    Topic models (``nlp/models/``) are kept: the pages' topic weights belong to a model version.
    """
    prefixes = {
        "UploadsBucket": ("uploads", "uploads/"),
        "ChunksBucket": ("chunks", "gsc-chunks/"),
        "RawPagesBucket": ("raw-pages", "raw-html/"),
        "NlpModelsBucket": ("nlp-models", "nlp/corpora/"),
        "ScreenshotsBucket": ("screenshots", "screenshots/"),
    }
    assert set(own_buckets(pkg)) == set(prefixes)
    for name, (kind, prefix) in prefixes.items():
        props = pkg.resources[name]["Properties"]
        assert props["BucketName"] == {
            "Fn::Join": ["-", [pkg.config["service"], pkg.stage, kind, {"Ref": "AWS::AccountId"}]]
        }
        [rule] = props["LifecycleConfiguration"]["Rules"]
        assert (rule["Prefix"], rule["Status"]) == (prefix, "Enabled"), name
        assert rule["ExpirationInDays"] > 0, name


def test_browsers_only_put_uploads_and_nothing_notifies_on_chunks(pkg: PackagedStage) -> None:
    uploads = pkg.resources["UploadsBucket"]["Properties"]
    [cors] = uploads["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedMethods"] == ["PUT"]
    [notification] = uploads["NotificationConfiguration"]["QueueConfigurations"]
    assert notification["Event"] == "s3:ObjectCreated:*"
    assert notification["Filter"] == {"S3Key": {"Rules": [{"Name": "prefix", "Value": "uploads/"}]}}
    assert "NotificationConfiguration" not in pkg.resources["ChunksBucket"]["Properties"]


# ---------------------------------------------------------------- ops


def test_ops_topic_emails_the_stages_ops_address(pkg: PackagedStage) -> None:
    ops = {"Ref": pkg.config["custom"]["kestrelWorkers"]["alarmTopicLogicalId"]}
    topic = pkg.resources[ops["Ref"]]["Properties"]
    assert topic["TopicName"] == f"{pkg.config['service']}-{pkg.stage}-ops"
    subscriptions = [s["Properties"] for s in pkg.of_type("AWS::SNS::Subscription").values()]
    assert subscriptions == [{"TopicArn": ops, "Protocol": "email", "Endpoint": pkg.params["opsEmail"]}]
    policy = pkg.resources["OpsTopicPolicy"]["Properties"]
    assert policy["Topics"] == [ops]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


# ---------------------------------------------------------------- network


def test_one_nat_gateway_one_elastic_ip_and_the_egress_ip_output(pkg: PackagedStage) -> None:
    """One stable egress IP that partners can allow-list."""
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
    assert output["Export"] == {"Name": f"{pkg.config['service']}-{pkg.stage}-egress-ip"}


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
    """The NLP service's groups have tests of their own (test_nlp_service.py)."""
    ingress = [r["Properties"] for r in pkg.of_type("AWS::EC2::SecurityGroupIngress").values()]
    into_db = {r["SourceSecurityGroupId"]["Ref"] for r in ingress if r["GroupId"] == {"Ref": "DbSecurityGroup"}}
    assert into_db == {"LambdaSecurityGroup", "DbProxySecurityGroup"}
    into_proxy = {r["SourceSecurityGroupId"]["Ref"] for r in ingress if r["GroupId"] == {"Ref": "DbProxySecurityGroup"}}
    assert into_proxy == {"LambdaSecurityGroup"}
    for rule in ingress:
        assert "CidrIp" not in rule
        assert "CidrIpv6" not in rule
        if rule["GroupId"]["Ref"] in ("DbSecurityGroup", "DbProxySecurityGroup"):
            assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", POSTGRES_PORT, POSTGRES_PORT)
    for name, group in pkg.of_type("AWS::EC2::SecurityGroup").items():
        assert "SecurityGroupIngress" not in group["Properties"], name


# ---------------------------------------------------------------- database


def test_aurora_postgres_cluster_follows_the_stage_params(pkg: PackagedStage) -> None:
    params = pkg.params
    cluster = pkg.resources["DbCluster"]["Properties"]
    assert cluster["Engine"] == "aurora-postgresql"
    assert str(cluster["EngineVersion"]) == str(params["dbEngineVersion"])
    assert str(cluster["EngineVersion"]).startswith("16.")  # the PostgreSQL the tests and the local stack run
    assert cluster["ManageMasterUserPassword"] is True
    assert cluster["DBSubnetGroupName"] == {"Ref": "DbSubnetGroup"}
    assert pkg.resources["DbSubnetGroup"]["Properties"]["SubnetIds"] == pkg.config["provider"]["vpc"]["subnetIds"]
    assert cluster["DeletionProtection"] is params["dbDeletionProtection"]
    assert cluster["BackupRetentionPeriod"] == params["dbBackupRetentionDays"]
    instances = [i["Properties"] for i in pkg.of_type("AWS::RDS::DBInstance").values()]
    assert len(instances) == 2  # a writer and a reader to fail over to
    assert all(i["DBClusterIdentifier"] == {"Ref": "DbCluster"} for i in instances)
    assert all(i["Engine"] == "aurora-postgresql" for i in instances)
    zones = [json.dumps(i["AvailabilityZone"], sort_keys=True) for i in instances]
    assert len(set(zones)) == 2
    assert {i["DBInstanceClass"] for i in instances} == {params["dbInstanceClass"]}


def test_app_secret_generates_the_kestrel_app_password(pkg: PackagedStage) -> None:
    """The role the migrations create for the functions (kestrel_app): punctuation-free for connection URLs."""
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
    assert proxy["VpcSubnetIds"] == pkg.config["provider"]["vpc"]["subnetIds"]
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
    assert pkg.functions["db_migrate"]["environment"]["KESTREL_DB_OWNER_SECRET_ARN"] == (
        {"Fn::GetAtt": ["DbCluster", "MasterUserSecret.SecretArn"]}
    )


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
    # Wheels for the functions' runtime and architecture (manylinux), not for whatever machine packaged them.
    provider = pkg.config["provider"]
    abi = f"cpython-{provider['runtime'].removeprefix('python').replace('.', '')}-{provider['architecture']}-linux-gnu"
    native = [n for n in names if n.endswith(".so")]
    assert any(n.startswith("pydantic_core/") and abi in n for n in native), abi
    assert not [n for n in native if "darwin" in n or "aarch64" in n]
