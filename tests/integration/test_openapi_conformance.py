"""Schemathesis over the whole OpenAPI document, through the local gateway, with a valid token.

Every operation gets a bounded number of generated requests, valid and invalid
(the document's schemas decide which), sent over HTTP to the gateway, which
verifies the token and invokes the real handlers (in this process). No answer
may be a server error or contradict the document: its status, content type and
body schema must be ones the document lists for the operation.
"""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.runtime import openapi
from tests.support.api import ApiClient
from tests.support.http_events import ALL_PERMISSIONS
from tests.support.in_process_api import RunningApi, running_api
from tests.support.tenants import new_tenant

EXAMPLES_PER_OPERATION = 15  # per generation mode (valid, invalid): bounded, under a minute in all
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def api(platform: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    with running_api(tmp_path_factory.mktemp("identity")) as running:
        yield running


@pytest.fixture(scope="module")
def tenant(platform: Any) -> str:
    return new_tenant(platform.owner_url)


@pytest.fixture(scope="module")
def token(api: RunningApi, tenant: str) -> str:
    return api.identity.mint_token(tenant=tenant, permissions=ALL_PERMISSIONS)


def existing_ids(tenant: str) -> dict[str, str]:
    """A fresh project with a property, a keyword and a job, so valid requests reach past the 404s."""
    from functions.api_projects.handler import handler

    client = ApiClient(handler, "api_projects", tenant)
    project = client.post("/v1/projects", {"name": "Schemathesis", "domain": f"{uuid.uuid4().hex[:12]}.example"}).json
    base = f"/v1/projects/{project['id']}"
    prop = client.post(f"{base}/properties", {"site_url": "sc-domain:example.com"}).json
    keyword = client.post(f"{base}/keywords", {"text": "kestrel"}).json
    job = client.post(f"{base}/keyword-imports", {}).json["job"]
    return {"project_id": project["id"], "property_id": prop["id"], "keyword_id": keyword["id"], "job_id": job["id"]}


@pytest.fixture(scope="module")
def api_schema(api: RunningApi) -> Any:
    return schemathesis.openapi.from_dict(openapi.build_document(openapi.http_apps(), issuer=api.identity.issuer))


def _check_operation(operation: Any, mode: GenerationMode, api: RunningApi, token: str, tenant: str) -> None:
    ids = existing_ids(tenant) if mode is GenerationMode.POSITIVE else {}

    # Plain Hypothesis around schemathesis' strategies: its pytest plugin's subtests do not run on pytest 9.
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        for name in (case.path_parameters or {}).keys() & ids.keys():
            case.path_parameters[name] = ids[name]
        case.call_and_validate(base_url=api.url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    run()


@pytest.mark.timeout(240)
def test_every_answer_is_one_the_document_lists(api_schema: Any, api: RunningApi, token: str, tenant: str) -> None:
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == sum(len(item) for item in api_schema.raw_schema["paths"].values())
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _check_operation(operation, mode, api, token, tenant)
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, operation.label  # nothing to get wrong: no parameters
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
    stats = api.gateway.stats
    assert {key: s.server_errors for key, s in stats.items() if s.server_errors} == {}
