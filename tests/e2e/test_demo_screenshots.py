"""Screenshots through the stack: an on-demand rank check of a demo keyword -> rank_check (the DataForSEO
stand-in) -> serp_screenshot, the container-image function run as a Python handler with the Chromium
`make setup` unpacked -> PNGs in the emulator's S3 -> api_content's list and its presigned link.

An on-demand check's SERP has no HTML at DataForSEO (live/advanced keeps none): its SERP rows say so, and the
ranking and competing pages (the demo site and its competitors' virtual hosts) are taken. The SERP rendered
from task_get/html is test_serp_screenshot.py's (the daily check's path)."""

import struct
import urllib.request
from typing import Any

import pytest

from kestrel_local.demo import DEMO_DOMAIN, DEMO_TENANT
from tests.e2e.conftest import RunningStack
from tests.e2e.test_local_stack import request, tenant_token, wait_for

pytestmark = pytest.mark.timeout(600)

KEYWORD = "waterproof hiking jacket"  # the demo site ranks 4th for it at the stand-in


def test_a_rank_check_leaves_screenshots_of_its_serp_and_pages(local_stack: RunningStack) -> None:
    stack = local_stack
    token = tenant_token(stack, DEMO_TENANT)
    _, projects = request("GET", f"{stack.api}/v1/projects", token=token)
    project = next(item for item in projects["items"] if item["domain"] == DEMO_DOMAIN)
    base = f"{stack.api}/v1/projects/{project['id']}"
    status, keywords = request("GET", f"{base}/keywords?limit=200", token=token)
    assert status == 200, keywords
    keyword = next(item for item in keywords["items"] if item["text"] == KEYWORD and item["device"] == "desktop")
    status, job = request("POST", f"{base}/rank-checks", token=token, body={"keyword_ids": [keyword["id"]]})
    assert status == 202, job

    def screenshots() -> list[dict[str, Any]] | None:
        status, body = request("GET", f"{base}/screenshots?keyword_id={keyword['id']}&limit=200", token=token)
        assert status == 200, body
        items: list[dict[str, Any]] = body["items"]
        # the SERP (fold and full page) and four pages in three variants each
        return items if len(items) >= 2 + 4 * 3 else None

    items = wait_for(screenshots, timeout=300, interval=2, what="the keyword's screenshots")
    assert {item["kind"] for item in items} == {"serp", "page"}
    pages = [item for item in items if item["kind"] == "page"]
    failed = [(item["url"], item["variant"], item["error"]) for item in pages if item["status"] != "stored"]
    assert failed == []
    serp = [item for item in items if item["kind"] == "serp"]
    assert {item["variant"] for item in serp} == {"desktop_fold", "desktop_full"}
    assert all(item["status"] == "failed" and "live" in item["error"] for item in serp), serp
    assert any(DEMO_DOMAIN in item["url"] for item in pages)
    mobile = next(item for item in items if item["variant"] == "mobile")
    status, detail = request("GET", f"{base}/screenshots/{mobile['id']}", token=token)
    assert status == 200, detail
    with urllib.request.urlopen(detail["download_url"], timeout=30) as response:  # noqa: S310 (the emulator's URL)
        png = response.read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (detail["width"], detail["height"]) == (780, 1688)
