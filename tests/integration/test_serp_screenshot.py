"""serp_screenshot end to end: a SERP snapshot of the DataForSEO stand-in, its screenshots in S3 and the database.

The snapshot comes from the stand-in (a task posted and collected as rank_check does, its items stored), the
SERP is rendered from the stand-in's ``task_get/html``, the ranking page is the local demo site's and the
competitors' pages its virtual hosts' (over TLS, pinned as ``kestrel up`` pins them). A page that cannot be
reached is recorded as failed, with the reason, and the others stand. Messages go through moto's SQS to the
real handler.
"""

import importlib
import json
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from kestrel_local.demo_site import DemoSiteServer
from kestrel_local.demo_site.competitors import COMPETITORS
from shared.auth import Principal
from shared.db import tenant_transaction
from shared.projects import keywords, projects
from shared.projects.models import KeywordIn, ProjectIn
from shared.ranks.dataforseo import SerpResult, SerpTaskIn, dataforseo_client
from shared.ranks.tables import RankTask, Screenshot, SerpItem, SerpSnapshot
from shared.runtime.cache import reset_cached_runtime
from shared.screenshots.engine import forget_engine, png_dimensions
from shared.screenshots.models import ScreenshotSnapshot
from tests.integration.conftest import SCREENSHOTS_BUCKET
from tests.support.api import ApiClient
from tests.support.chromium import local_chromium
from tests.support.dataforseo import dataforseo_stand_in
from tests.support.queues import WorkerQueues, create_worker_queues, deliver, queue_depth, s3, sqs
from tests.support.tenants import new_tenant

DOMAIN = "demo-outdoor.example.com"
KEYWORD = "waterproof hiking jacket"  # the demo site ranks 4th: three organic results above it
US = 2840
SIZES = {"desktop_fold": (1920, 1080), "mobile": (780, 1688)}


@dataclass
class Env:
    site: DemoSiteServer
    queues: WorkerQueues
    handler: Any
    owner_url: str


@pytest.fixture(scope="module")
def env(platform: Any) -> Iterator[Env]:
    site = DemoSiteServer(crawl_delay=0.0, competitors=COMPETITORS).start()
    queues = create_worker_queues(f"serp-screenshot-{uuid.uuid4().hex[:6]}", visibility_timeout=300)
    settings = {
        "KESTREL_SCREENSHOTS_BUCKET": SCREENSHOTS_BUCKET,
        "KESTREL_SCREENSHOT_RETENTION_DAYS": "30",
        "KESTREL_CHROMIUM_PATH": local_chromium(),
        "KESTREL_SCREENSHOT_NAVIGATION_TIMEOUT_SECONDS": "10",
        "KESTREL_CRAWL_PINNED_HOSTS": json.dumps(dict.fromkeys(site.hosts, site.address)),
        "KESTREL_CRAWL_CA_FILE": str(site.ca_file),
        "KESTREL_DLQ_URL": queues.dlq_url,
    }
    with pytest.MonkeyPatch.context() as patch, dataforseo_stand_in():
        for name, value in settings.items():
            patch.setenv(name, value)
        reset_cached_runtime()
        import functions.serp_screenshot.handler as module  # its cold start, with the settings above

        yield Env(site, queues, module.handler, platform.owner_url)
        forget_engine()
    reset_cached_runtime()
    site.stop()


@dataclass(frozen=True)
class Snapshot:
    tenant_id: str
    project_id: uuid.UUID
    id: uuid.UUID
    result: SerpResult

    def message(self, tenant_id: str | None = None) -> str:
        return ScreenshotSnapshot(
            tenant_id=tenant_id or self.tenant_id, project_id=self.project_id, snapshot_id=self.id
        ).model_dump_json()


def stored_snapshot(
    env: Env,
    device: str = "desktop",
    *,
    task_id: str | None = None,
    unreachable: str | None = None,
    mode: str = "standard",
) -> Snapshot:
    """A project with one keyword and a snapshot of its SERP at the stand-in, stored as rank_check stores it.

    ``unreachable`` replaces the first organic result's URL (a host that does not resolve here, say).
    """
    tenant_id = new_tenant(env.owner_url)
    principal = Principal(subject="auth0|screenshots", tenant_id=tenant_id, permissions=frozenset())
    project = projects.create_project(principal, ProjectIn(name="Demo Outdoor", domain=DOMAIN))
    keyword = keywords.add_keyword(principal, project.id, KeywordIn(text=KEYWORD, device=device))
    client = dataforseo_client()
    [posted] = client.post_tasks([SerpTaskIn(str(uuid.uuid4()), KEYWORD, US, "en", device, 10)])  # type: ignore[arg-type]
    assert posted.task_id is not None
    result = client.task_get_advanced(posted.task_id)
    ours = [item for item in result.organic() if item.domain == f"www.{DOMAIN}"]
    best = min(ours, key=lambda item: item.rank_group or 100, default=None)
    snapshot_id = uuid.uuid4()
    first_organic = next(index for index, item in enumerate(result.items) if item.type == "organic")
    rank_task_id = uuid.uuid4()
    with tenant_transaction(tenant_id) as session:
        session.add(
            RankTask(
                tenant_id=tenant_id,
                id=rank_task_id,
                project_id=project.id,
                keyword_id=keyword.id,
                check_date=result.datetime.date(),
                mode=mode,
                depth=10,
                status="collected",
                provider_task_id=posted.task_id,
            )
        )
        session.flush()
        session.add(
            SerpSnapshot(
                tenant_id=tenant_id,
                project_id=project.id,
                id=snapshot_id,
                keyword_id=keyword.id,
                check_date=result.datetime.date(),
                device=device,
                location_code=US,
                language_code="en",
                depth=10,
                rank_task_id=rank_task_id,
                provider_task_id=task_id or posted.task_id,
                check_url=result.check_url,
                fetched_at=datetime.now(UTC),
                se_results_count=result.se_results_count,
                items_count=result.items_count,
                item_types=result.item_types,
                position=best.rank_group if best else None,
                rank_absolute=best.rank_absolute if best else None,
                url=best.url if best else None,
            )
        )
        session.flush()
        session.add_all(
            SerpItem(
                tenant_id=tenant_id,
                project_id=project.id,
                snapshot_id=snapshot_id,
                item_index=index,
                type=item.type,
                rank_group=item.rank_group,
                rank_absolute=item.rank_absolute,
                domain=item.domain,
                url=unreachable if unreachable and index == first_organic else item.url,
                title=item.title,
                description=item.description,
                known=True,
            )
            for index, item in enumerate(result.items)
        )
    return Snapshot(tenant_id, project.id, snapshot_id, result)


def send(env: Env, body: str) -> set[str]:
    sqs().send_message(QueueUrl=env.queues.url, MessageBody=body)
    messages = sqs().receive_message(QueueUrl=env.queues.url, MaxNumberOfMessages=1, WaitTimeSeconds=2)["Messages"]
    return deliver(env.handler, messages, env.queues, function_name="serp_screenshot")


def rows_of(snapshot: Snapshot, tenant_id: str | None = None) -> list[Screenshot]:
    with tenant_transaction(tenant_id or snapshot.tenant_id) as session:
        query = select(Screenshot).where(Screenshot.snapshot_id == snapshot.id).order_by(Screenshot.captured_at)
        rows = list(session.execute(query).scalars())
        session.expunge_all()
    return rows


def png(key: str) -> bytes:
    body: bytes = s3().get_object(Bucket=SCREENSHOTS_BUCKET, Key=key)["Body"].read()
    return body


def test_a_desktop_snapshot_gets_its_serp_and_its_pages_in_every_variant(env: Env) -> None:
    snapshot = stored_snapshot(env)
    assert snapshot.result.organic(), "the stand-in's SERP has organic results"
    assert send(env, snapshot.message()) == set()
    rows = rows_of(snapshot)
    serp = {row.variant: row for row in rows if row.kind == "serp"}
    assert set(serp) == {"desktop_fold", "desktop_full"}  # the SERP as the desktop searcher saw it
    for row in serp.values():
        assert row.status == "stored", row.error
        assert row.url == snapshot.result.check_url
        assert row.s3_key is not None
        assert row.s3_key.startswith(f"screenshots/{snapshot.tenant_id}/{snapshot.project_id}/{snapshot.id}/")
        image = png(row.s3_key)
        assert png_dimensions(image) == (row.width, row.height)
        assert row.bytes == len(image)
    assert (serp["desktop_fold"].width, serp["desktop_fold"].height) == SIZES["desktop_fold"]
    assert serp["desktop_full"].width == 1920
    assert serp["desktop_full"].height is not None
    assert serp["desktop_full"].height >= 1080
    pages = [row for row in rows if row.kind == "page"]
    ranking = [row for row in pages if DOMAIN in row.url]
    assert {row.variant for row in ranking} == {"desktop_fold", "desktop_full", "mobile"}
    for row in ranking:
        assert row.status == "stored", row.error
        assert row.s3_key is not None
        assert png_dimensions(png(row.s3_key)) == (row.width, row.height)
        if row.variant in SIZES:
            assert (row.width, row.height) == SIZES[row.variant]
        assert row.expires_at is not None
        assert (row.expires_at - row.captured_at).days == 30
    competitors = [row for row in pages if DOMAIN not in row.url]
    assert len({row.url for row in competitors}) == 3  # the three organic results above ours
    for row in competitors:  # the competitors' virtual hosts on the demo site's server
        assert row.status == "stored", row.error
        assert row.s3_key is not None
        assert png_dimensions(png(row.s3_key)) == (row.width, row.height)


def test_a_page_that_cannot_be_reached_is_recorded_and_the_others_stand(env: Env) -> None:
    gone = "https://www.gone-outfitters.example/jackets/"  # not pinned, does not resolve
    snapshot = stored_snapshot(env, unreachable=gone)
    assert send(env, snapshot.message()) == set()
    rows = rows_of(snapshot)
    failed = [row for row in rows if row.url == gone]
    assert {row.variant for row in failed} == {"desktop_fold", "desktop_full", "mobile"}
    for row in failed:
        assert row.status == "failed"
        assert row.s3_key is None
        assert "dns" in (row.error or ""), row.error
    assert all(row.status == "stored" for row in rows if row.url != gone)


def test_a_redelivery_changes_nothing(env: Env) -> None:
    snapshot = stored_snapshot(env)
    assert send(env, snapshot.message()) == set()
    first = {(row.kind, row.url, row.variant, row.status) for row in rows_of(snapshot)}
    assert send(env, snapshot.message()) == set()
    again = rows_of(snapshot)
    assert len(again) == len(first)
    assert {(row.kind, row.url, row.variant, row.status) for row in again} == first


def test_a_mobile_snapshot_gets_the_mobile_serp(env: Env) -> None:
    snapshot = stored_snapshot(env, "mobile")
    assert send(env, snapshot.message()) == set()
    serp = [row for row in rows_of(snapshot) if row.kind == "serp"]
    assert [(row.variant, row.status, row.width, row.height) for row in serp] == [
        ("mobile", "stored", *SIZES["mobile"])
    ]


def test_a_serp_whose_html_is_gone_is_recorded_and_the_pages_still_taken(env: Env) -> None:
    snapshot = stored_snapshot(env, task_id=str(uuid.uuid4()))  # a task DataForSEO does not know (any more)
    assert send(env, snapshot.message()) == set()
    rows = rows_of(snapshot)
    serp = [row for row in rows if row.kind == "serp"]
    assert {row.status for row in serp} == {"failed"}
    assert all("Not Found" in (row.error or "") for row in serp), [row.error for row in serp]
    assert any(row.status == "stored" for row in rows if row.kind == "page")


def test_an_on_demand_checks_serp_is_recorded_as_without_html_and_its_pages_taken(env: Env) -> None:
    """live/advanced keeps no HTML at DataForSEO: the SERP's rows say so (no second paid call), the pages stand."""
    snapshot = stored_snapshot(env, mode="live")
    assert send(env, snapshot.message()) == set()
    rows = rows_of(snapshot)
    serp = [row for row in rows if row.kind == "serp"]
    assert {(row.variant, row.status) for row in serp} == {("desktop_fold", "failed"), ("desktop_full", "failed")}
    assert all("on-demand (live) check" in (row.error or "") for row in serp)
    assert all(row.status == "stored" for row in rows if row.kind == "page")


def test_another_tenants_message_sees_no_snapshot_and_stores_nothing(env: Env) -> None:
    snapshot = stored_snapshot(env)
    intruder = new_tenant(env.owner_url)
    assert send(env, snapshot.message(tenant_id=intruder)) == set()
    assert rows_of(snapshot) == []
    assert rows_of(snapshot, intruder) == []


def test_a_bad_message_is_quarantined_with_its_reason(env: Env) -> None:
    before = queue_depth(env.queues.dlq_url)
    assert send(env, json.dumps({"kind": "snapshot", "tenant_id": "t"})) == set()
    assert queue_depth(env.queues.dlq_url) == before + 1
    [message] = sqs().receive_message(
        QueueUrl=env.queues.dlq_url, MaxNumberOfMessages=1, MessageAttributeNames=["All"], WaitTimeSeconds=1
    )["Messages"]
    assert "snapshot_id" in json.dumps(message)


# ---------------------------------------------------------------- api_content's routes


@pytest.fixture(scope="module")
def content_api(env: Env) -> Any:
    return importlib.import_module("functions.api_content.handler").handler


@pytest.fixture(scope="module")
def shot(env: Env) -> Snapshot:
    """A snapshot whose screenshots were taken, one page unreachable (once for the module's route tests)."""
    snapshot = stored_snapshot(env, unreachable="https://www.gone-outfitters.example/")
    assert send(env, snapshot.message()) == set()
    return snapshot


def test_the_list_pages_newest_first_and_filters(shot: Snapshot, content_api: Any) -> None:
    api = ApiClient(content_api, "api_content", shot.tenant_id)
    path = f"/v1/projects/{shot.project_id}/screenshots"
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        reply = api.get(path, query={"limit": "4", **({"cursor": cursor} if cursor else {})})
        assert reply.status == 200, reply.raw
        seen += reply.json["items"]
        cursor = reply.json["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(rows_of(shot)) == 2 + 4 * 3  # the SERP twice; ours and three competitors, thrice each
    assert len({item["id"] for item in seen}) == len(seen)
    keys = [(item["captured_at"], item["id"]) for item in seen]
    assert keys == sorted(keys, reverse=True)
    by_snapshot = api.get(path, query={"snapshot_id": str(shot.id), "limit": "200"}).json["items"]
    assert len(by_snapshot) == len(seen)
    assert api.get(path, query={"snapshot_id": str(uuid.uuid4())}).json["items"] == []
    keyword_id = seen[0]["keyword_id"]
    assert len(api.get(path, query={"keyword_id": keyword_id, "limit": "200"}).json["items"]) == len(seen)


def test_one_screenshot_comes_with_a_short_lived_link_to_its_png(shot: Snapshot, content_api: Any) -> None:
    api = ApiClient(content_api, "api_content", shot.tenant_id)
    items = api.get(f"/v1/projects/{shot.project_id}/screenshots", query={"limit": "200"}).json["items"]
    stored = next(item for item in items if item["status"] == "stored" and item["variant"] == "mobile")
    reply = api.get(f"/v1/projects/{shot.project_id}/screenshots/{stored['id']}")
    assert reply.status == 200, reply.raw
    detail = reply.json
    assert detail["download_url"]
    expires = datetime.fromisoformat(detail["download_expires_at"])
    assert 0 < (expires - datetime.now(UTC)).total_seconds() <= 300
    with urllib.request.urlopen(detail["download_url"], timeout=10) as response:  # noqa: S310 (moto's URL)
        body = response.read()
    assert png_dimensions(body) == (detail["width"], detail["height"]) == SIZES["mobile"]
    failed = next(item for item in items if item["status"] == "failed")
    reply = api.get(f"/v1/projects/{shot.project_id}/screenshots/{failed['id']}")
    assert reply.json["download_url"] is None
    assert reply.json["error"]


def test_another_tenant_gets_404_and_a_reader_needs_the_permission(shot: Snapshot, content_api: Any, env: Env) -> None:
    api = ApiClient(content_api, "api_content", shot.tenant_id)
    [item] = api.get(f"/v1/projects/{shot.project_id}/screenshots", query={"limit": "1"}).json["items"]
    intruder = new_tenant(env.owner_url)
    assert api.get(f"/v1/projects/{shot.project_id}/screenshots", tenant_id=intruder).status == 404
    assert api.get(f"/v1/projects/{shot.project_id}/screenshots/{item['id']}", tenant_id=intruder).status == 404
    assert api.get(f"/v1/projects/{shot.project_id}/screenshots", permissions=()).status == 403
