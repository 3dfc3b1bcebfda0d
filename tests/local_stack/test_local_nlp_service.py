"""The NLP service in the local stack: AWS-only resources tolerated, the process started, the functions given its URL.

In AWS the functions reach the service through the internal load balancer's DNS name, which means
nothing here; `kestrel up` starts the service as a process (kestrel_local.nlp_service) and gives the
functions its URL instead. Here: the stack's own start of it, and a function environment built from
the packaged local template calling it at the URL it was given.
"""

import dataclasses
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kestrel_local.config import LocalSettings
from kestrel_local.environments import Environments
from kestrel_local.intrinsics import UNAVAILABLE
from kestrel_local.moto_server import MotoServer, free_port
from kestrel_local.stack import NLP_SERVICE_LOG, NLP_SERVICE_URL_VARIABLE, LocalStack, function_overrides
from kestrel_local.template import load_stack
from tests.support.local_stack import REGION, isolated_stack, local_template

pytestmark = pytest.mark.timeout(600)

TEXT = "Salomon opened a new store in Annecy, and Decathlon answered with one in Lyon."


@pytest.fixture(scope="module")
def started(moto: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The NLP service as `kestrel up` starts it: against the emulator, logging to the state directory."""
    settings = LocalSettings(
        state_dir=tmp_path_factory.mktemp("state"), nlp_port=free_port(), aws_endpoint_url=moto.endpoint
    )
    stack = LocalStack(settings)
    starting = stack.start_nlp_service_in_background()
    try:
        stack.nlp_service_url = starting.result(timeout=300)
        yield stack
    finally:
        stack.stop_nlp_service()


def get_json(url: str) -> tuple[int, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the test's own service
        return response.status, json.loads(response.read())


def test_the_local_template_loads_with_the_services_aws_resources(tmp_path: Path) -> None:
    """ECS, the load balancer, ECR and security groups are not emulated: read past, not provisioned, no crash."""
    template = local_template()
    kinds = {resource["Type"] for resource in template["Resources"].values()}
    assert {"AWS::ECS::Service", "AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::ECR::Repository"} <= kinds
    stack = load_stack(template, stage="local", region=REGION, secrets_dir=tmp_path / "secrets")
    assert "NlpModelsBucket" in stack.buckets  # the service's S3 is the emulator's: the bucket is created there
    for function in stack.functions.values():
        value = function.environment.get(NLP_SERVICE_URL_VARIABLE)
        if value is not None:  # the load balancer's DNS name: unusable here, replaced by function_overrides
            assert value == f"http://{UNAVAILABLE}NlpLoadBalancer.DNSName", function.name


def test_the_service_runs_against_the_emulator_and_logs_in_the_state_directory(started: LocalStack) -> None:
    settings = started.settings
    assert started.nlp_service is not None
    assert started.nlp_service_url == f"http://{settings.host}:{settings.nlp_port}"
    assert started.nlp_service.environment["AWS_ENDPOINT_URL"] == settings.aws_endpoint_url
    assert started.nlp_service.environment["AWS_REGION"] == settings.region
    status, ready = get_json(f"{started.nlp_service_url}/ready")
    assert (status, ready["status"]) == (200, "ready")
    log = started.paths.logs / NLP_SERVICE_LOG
    assert log.exists()
    assert log.stat().st_size > 0


def test_functions_reach_the_started_service_at_the_url_they_are_given(
    started: LocalStack, moto: MotoServer, tmp_path: Path
) -> None:
    """Every function's environment names the started service; one calls /ready and /v1/entities from there."""
    url = started.nlp_service_url
    spec = isolated_stack(moto.endpoint, tmp_path)
    overrides = function_overrides(
        "postgresql://kestrel_app@127.0.0.1/kestrel", moto.endpoint, started.settings, nlp_service_url=url
    )
    callers = [f for f in spec.functions.values() if NLP_SERVICE_URL_VARIABLE in f.environment]
    # The NLP workers once they are in the template; until then any function of it (all get the URL).
    caller = (callers or list(spec.functions.values()))[0]
    probe = dataclasses.replace(caller, handler="tests/support/handlers.nlp_entities", timeout_seconds=120)
    environments = Environments({**spec.functions, caller.name: probe}, overrides=overrides, log_dir=tmp_path / "logs")
    try:
        for name, pool in environments.pools.items():
            assert pool.environment[NLP_SERVICE_URL_VARIABLE] == url, name
        result = environments.invoke(caller.name, {"documents": [{"id": "page-1", "text": TEXT, "language": "en"}]})
    finally:
        environments.close()
    assert result.ok, (result.error_type, result.error_message)
    response = result.response
    assert response["url"] == url
    assert response["ready"]["status"] == "ready"
    [document] = response["entities"]["documents"]
    assert (document["id"], document["supported"]) == ("page-1", True)
    assert {entity["text"] for entity in document["entities"]} & {"Salomon", "Annecy", "Decathlon", "Lyon"}
    assert response["entities"]["pipeline"]["name"]


def test_a_configured_service_url_is_used_and_nothing_is_started(tmp_path: Path) -> None:
    settings = LocalSettings(state_dir=tmp_path, nlp_service_url="http://nlp.example.internal:8080/")
    stack = LocalStack(settings)
    assert stack.start_nlp_service_in_background().result(timeout=1) == "http://nlp.example.internal:8080"
    assert stack.nlp_service is None
    stack.stop_nlp_service()


def test_stopping_ends_the_process(moto: MotoServer, tmp_path: Path) -> None:
    stack = LocalStack(LocalSettings(state_dir=tmp_path, nlp_port=free_port(), aws_endpoint_url=moto.endpoint))
    url = stack.start_nlp_service_in_background().result(timeout=300)
    assert get_json(f"{url}/health")[0] == 200
    stack.stop_nlp_service()
    assert stack.nlp_service is not None
    assert stack.nlp_service.process is not None
    assert stack.nlp_service.process.poll() is not None
    with pytest.raises(urllib.error.URLError, match="refused"):
        get_json(f"{url}/health")
