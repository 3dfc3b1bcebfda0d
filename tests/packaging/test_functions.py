"""The packaged functions are serverless.yml's functions: code, runtime, network, concurrency, environment."""

import json

import pytest

from tests.packaging.sls import ROOT, PackagedStage
from tests.packaging.template import (
    WORKER_ENVIRONMENT,
    environment_of,
    function_logical_id,
    function_resources,
    referenced_ids,
)

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]

# API Gateway's HTTP API gives up on an integration after 30 seconds.
HTTP_API_INTEGRATION_TIMEOUT_SECONDS = 30


def http_functions(pkg: PackagedStage) -> set[str]:
    return {name for name, f in pkg.functions.items() if any("httpApi" in e for e in f.get("events", []))}


def test_every_function_runs_its_handler_on_the_providers_runtime_in_the_private_subnets(pkg: PackagedStage) -> None:
    provider = pkg.config["provider"]
    functions = function_resources(pkg)
    assert set(functions) == set(pkg.functions)
    for name, resource in functions.items():
        declared = pkg.functions[name]
        props = resource["Properties"]
        if "image" in declared:  # a container image (serp_screenshot): its command is the handler
            assert props["PackageType"] == "Image", name
            assert "Handler" not in props, name
            assert "Runtime" not in props, name
            assert props["Code"] == {"ImageUri": declared["image"]["uri"]}, name
            [handler] = props["ImageConfig"]["Command"]
            assert handler == declared["image"]["command"][0], name
        else:
            handler = props["Handler"]
            assert handler == declared["handler"], name
            assert props["Runtime"] == declared.get("runtime", provider["runtime"]), name
        module = handler.rpartition(".")[0]
        assert (ROOT / f"{module}.py").exists(), handler
        assert props["Architectures"] == [provider["architecture"]], name
        assert props["MemorySize"] == declared.get("memorySize", provider["memorySize"]), name
        assert props["Timeout"] == declared.get("timeout", provider["timeout"]), name
        assert props["VpcConfig"]["SubnetIds"] == provider["vpc"]["subnetIds"], name
        assert props["VpcConfig"]["SecurityGroupIds"] == provider["vpc"]["securityGroupIds"], name
        assert props["TracingConfig"] == {"Mode": "Active"}, name
    for subnet in provider["vpc"]["subnetIds"]:
        assert subnet["Ref"].startswith("Private"), subnet


def test_http_functions_answer_within_the_http_apis_integration_timeout(pkg: PackagedStage) -> None:
    functions = function_resources(pkg)
    assert http_functions(pkg)
    for name in http_functions(pkg):
        assert functions[name]["Properties"]["Timeout"] < HTTP_API_INTEGRATION_TIMEOUT_SECONDS, name


def test_no_lambda_layers(pkg: PackagedStage) -> None:
    assert not pkg.of_type("AWS::Lambda::LayerVersion")
    assert all("Layers" not in f["Properties"] for f in function_resources(pkg).values())


def test_reserved_concurrency_is_serverless_ymls(pkg: PackagedStage) -> None:
    reserved = {
        name: f["Properties"]["ReservedConcurrentExecutions"]
        for name, f in function_resources(pkg).items()
        if "ReservedConcurrentExecutions" in f["Properties"]
    }
    declared = {name: f["reservedConcurrency"] for name, f in pkg.functions.items() if "reservedConcurrency" in f}
    assert reserved == declared


def test_provisioned_concurrency_only_where_serverless_yml_asks_for_it(pkg: PackagedStage) -> None:
    wanted = {name: f.get("provisionedConcurrency", 0) for name, f in pkg.functions.items()}
    warm = {name: count for name, count in wanted.items() if count}
    aliases = pkg.of_type("AWS::Lambda::Alias")
    assert {a["Properties"]["FunctionName"]["Ref"] for a in aliases.values()} == {
        function_logical_id(pkg, name) for name in warm
    }
    for alias in aliases.values():
        name = next(n for n in warm if function_logical_id(pkg, n) == alias["Properties"]["FunctionName"]["Ref"])
        assert alias["Properties"]["ProvisionedConcurrencyConfig"] == {"ProvisionedConcurrentExecutions": warm[name]}
    assert json.dumps(pkg.template).count("ProvisionedConcurrencyConfig") == len(warm)


def test_log_retention_is_the_providers(pkg: PackagedStage) -> None:
    groups = pkg.of_type("AWS::Logs::LogGroup")
    assert groups
    for name, group in groups.items():
        assert group["Properties"]["RetentionInDays"] == pkg.config["provider"]["logRetentionInDays"], name


def test_environment_is_the_providers_and_the_functions_own(pkg: PackagedStage) -> None:
    """Nothing more, nothing less: the provider's, the function's, and a worker's queue and DLQ."""
    common = pkg.config["provider"]["environment"]
    assert common["KESTREL_STAGE"] == pkg.stage
    for name, declared in pkg.functions.items():
        env = environment_of(pkg, name)
        expected = {**common, **declared.get("environment", {})}
        for key, value in expected.items():
            assert env.get(key) == value, f"{name}: {key}"
        extra = set(env) - set(expected)
        assert extra == (set(WORKER_ENVIRONMENT) if "worker" in declared else set()), name


def test_every_environment_reference_names_a_resource_of_the_stack(pkg: PackagedStage) -> None:
    kinds = {
        "_QUEUE_URL": "AWS::SQS::Queue",
        "_BUCKET": "AWS::S3::Bucket",
    }
    for name in pkg.functions:
        for key, value in environment_of(pkg, name).items():
            for logical_id in referenced_ids(value):
                assert logical_id in pkg.resources, f"{name}: {key} refers to {logical_id}, not in the template"
            for suffix, kind in kinds.items():
                if key.endswith(suffix):
                    assert set(value) == {"Ref"}, f"{name}: {key}"
                    assert pkg.resources[value["Ref"]]["Type"] == kind, f"{name}: {key}"


def test_the_database_name_the_functions_use_is_the_clusters(pkg: PackagedStage) -> None:
    cluster = pkg.resources["DbCluster"]["Properties"]
    for name in pkg.functions:
        assert environment_of(pkg, name)["KESTREL_DB_NAME"] == cluster["DatabaseName"], name


def test_functions_reach_the_database_through_the_proxy_over_tls(pkg: PackagedStage) -> None:
    for name in pkg.functions:
        env = environment_of(pkg, name)
        assert env["KESTREL_DB_HOST"] == {"Fn::GetAtt": ["DbProxy", "Endpoint"]}, name
        assert env["KESTREL_DB_SSLMODE"] == "require", name
    assert pkg.resources["DbProxy"]["Properties"]["RequireTLS"] is True
