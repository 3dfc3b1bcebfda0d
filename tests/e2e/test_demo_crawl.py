"""The first `kestrel up` crawls the demo site: gateway -> api_content -> page_crawl (queue runner) -> the audit."""

import urllib.request
from typing import Any

import pytest

from kestrel_local.demo import DEMO_DOMAIN, DEMO_TENANT
from tests.e2e.conftest import RunningStack
from tests.e2e.test_local_stack import request, tenant_token, wait_for

pytestmark = pytest.mark.timeout(600)


def test_the_demo_sites_crawl_runs_through_the_stack_and_is_audited(local_stack: RunningStack) -> None:
    stack = local_stack
    token = tenant_token(stack, DEMO_TENANT)
    status, projects = request("GET", f"{stack.api}/v1/projects", token=token)
    assert status == 200, projects
    project = next(item for item in projects["items"] if item["domain"] == DEMO_DOMAIN)
    base = f"{stack.api}/v1/projects/{project['id']}"
    status, crawls = request("GET", f"{base}/crawls", token=token)
    assert status == 200, crawls
    [crawl] = crawls["items"]  # started by `up`, once

    def finished() -> dict[str, Any] | None:
        status, body = request("GET", f"{base}/crawls/{crawl['id']}", token=token)
        assert status == 200, body
        return body if body["status"] not in ("pending", "running") else None

    done = wait_for(finished, timeout=480, interval=2, what="the demo crawl")
    assert done["status"] in ("succeeded", "succeeded_with_errors"), done
    assert done["progress"]["fetched"] > 150
    assert done["progress"]["blocked"] > 0  # robots.txt's disallowed section
    status, audit = request("GET", f"{base}/audit", token=token)
    assert status == 200, audit
    codes = {issue["code"] for issue in audit["issues"]}
    assert {"orphan_page", "redirect_chain", "redirect_loop", "broken_internal_link", "title_duplicate"} <= codes
    csv_request = urllib.request.Request(  # noqa: S310
        f"{base}/pages?format=csv&issue=orphan_page", headers={"authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(csv_request, timeout=30) as response:  # noqa: S310
        rows = response.read().decode().splitlines()
    assert rows[0].startswith("id,crawl_id,url")
    assert any("winter-camping-checklist" in row for row in rows[1:])


def test_the_demo_sites_pages_get_entities_and_topics_through_the_stack(local_stack: RunningStack) -> None:
    """page_crawl's relays -> nlp_entities -> the NLP service process -> the refit threshold -> topic_model."""
    stack = local_stack
    token = tenant_token(stack, DEMO_TENANT)
    _, projects = request("GET", f"{stack.api}/v1/projects", token=token)
    project = next(item for item in projects["items"] if item["domain"] == DEMO_DOMAIN)
    base = f"{stack.api}/v1/projects/{project['id']}"

    def topics() -> dict[str, Any] | None:
        status, body = request("GET", f"{base}/topics", token=token)
        assert status in (200, 404), body
        return body if status == 200 else None

    fitted = wait_for(topics, timeout=480, interval=3, what="the demo project's topic model")
    assert fitted["model"]["k"] == len(fitted["items"]) >= 2
    assert all(item["terms"] for item in fitted["items"])
    status, places = request("GET", f"{base}/entities?label=LOC&q=alps", token=token)
    assert status == 200, places
    assert places["items"]
    assert places["items"][0]["pages"] > 5
    status, pages = request("GET", f"{base}/entities/{places['items'][0]['id']}/pages", token=token)
    assert status == 200, pages
    assert pages["items"]
    status, on_page = request("GET", f"{base}/pages/{pages['items'][0]['id']}/entities", token=token)
    assert status == 200, on_page
    assert (on_page["analysed"], on_page["supported"], on_page["language"]) == (True, True, "en")
