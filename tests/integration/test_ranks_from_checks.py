"""api_content's rank routes over what rank_check stored from the DataForSEO stand-in (real item shapes:
``www.`` hosts, SERP features, unknown item types, the demo site's pages swapping on some days).

Three days of checks go through the real worker (post, then collects until its queue is empty). What the
routes answer is checked against the stored snapshots and items, recomputed here by plain Python from the
routes' definitions; the project has no Search Console property, so visibility uses the fallback curve
with every keyword weighing 1.
"""

import datetime as dt
import importlib
import itertools
import json
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag

import pytest
from sqlalchemy import select, text

from kestrel_local.demo import DEMO_DOMAIN
from shared.auth import Principal
from shared.db import tenant_transaction
from shared.projects import projects
from shared.projects.models import ProjectIn
from shared.ranks.tables import SerpItem, SerpSnapshot
from shared.runtime.cache import reset_cached_runtime
from tests.support.api import ApiClient
from tests.support.dataforseo import dataforseo_stand_in
from tests.support.queues import create_worker_queues, deliver, queue_depth, sqs
from tests.support.tenants import new_tenant

KEYWORDS = ["hiking boots", "waterproof jacket", "trail running shoes", "tent", "sleeping bag", "camping stove"]
TODAY = dt.datetime.now(dt.UTC).date()
DAYS = [TODAY - dt.timedelta(days=n) for n in (2, 1, 0)]


def fallback_ctr(position: int) -> float:
    return min(1.0, 0.28 * position**-1.05)


def site(host: str) -> str:
    host = host.lower()
    return host[4:] if host.startswith("www.") else host


def is_demo(host: str) -> bool:
    return site(host) == DEMO_DOMAIN or site(host).endswith("." + DEMO_DOMAIN)


@dataclass(frozen=True)
class Checked:
    tenant_id: str
    project_id: uuid.UUID
    keywords: dict[str, uuid.UUID]
    snapshots: list[SerpSnapshot]
    organic: dict[uuid.UUID, list[SerpItem]]  # snapshot id -> its organic items
    api: ApiClient

    @property
    def base(self) -> str:
        return f"/v1/projects/{self.project_id}"


def _drain(handler: Any, queues: Any) -> None:
    for _ in range(100):
        messages = (
            sqs()
            .receive_message(QueueUrl=queues.url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=300)
            .get("Messages", [])
        )
        if not messages and not queue_depth(queues.url):
            return
        for message in messages:
            assert not deliver(handler, [message], queues, function_name="rank_check"), message["Body"]
    raise AssertionError("rank_check's queue did not empty")


@pytest.fixture(scope="module")
def checked(platform: Any) -> Iterator[Checked]:
    suffix = uuid.uuid4().hex[:6]
    queues = create_worker_queues(f"ranks-routes-{suffix}", visibility_timeout=300)
    screenshots = sqs().create_queue(QueueName=f"kestrel-test-ranks-routes-shots-{suffix}")["QueueUrl"]
    tenant_id = new_tenant(platform.owner_url)
    principal = Principal(subject="auth0|ranks-routes", tenant_id=tenant_id, permissions=frozenset())
    project = projects.create_project(principal, ProjectIn(name="Demo Outdoor", domain=DEMO_DOMAIN))
    with tenant_transaction(tenant_id) as session:
        for keyword in KEYWORDS:
            session.execute(
                text(
                    "INSERT INTO keywords (tenant_id, project_id, text, locale, country, device)"
                    " VALUES (:t, :p, :k, 'en', 'US', 'desktop')"
                ),
                {"t": tenant_id, "p": project.id, "k": keyword},
            )
    settings = {
        "KESTREL_DLQ_URL": queues.dlq_url,
        "KESTREL_RANK_CHECK_QUEUE_URL": queues.url,
        "KESTREL_SERP_SCREENSHOT_QUEUE_URL": screenshots,
        "KESTREL_RANK_COLLECT_DELAY_SECONDS": "0",
    }
    with dataforseo_stand_in(), pytest.MonkeyPatch.context() as patch:
        for name, value in settings.items():
            patch.setenv(name, value)
        reset_cached_runtime()
        try:
            handler = importlib.import_module("functions.rank_check.handler").handler
            content = importlib.import_module("functions.api_content.handler").handler
            for day in DAYS:
                body = {"kind": "post", "tenant_id": tenant_id, "project_id": str(project.id), "check_date": day}
                sqs().send_message(QueueUrl=queues.url, MessageBody=json.dumps(body, default=str))
                _drain(handler, queues)
            with tenant_transaction(tenant_id) as session:
                ids = {
                    row.text: row.id
                    for row in session.execute(
                        text("SELECT text, id FROM keywords WHERE project_id = :p"), {"p": project.id}
                    )
                }
                snapshots = list(
                    session.scalars(
                        select(SerpSnapshot)
                        .where(SerpSnapshot.project_id == project.id)
                        .order_by(SerpSnapshot.keyword_id, SerpSnapshot.check_date)
                    )
                )
                organic: dict[uuid.UUID, list[SerpItem]] = defaultdict(list)
                for item in session.scalars(
                    select(SerpItem).where(SerpItem.project_id == project.id, SerpItem.type == "organic")
                ):
                    organic[item.snapshot_id].append(item)
                session.expunge_all()
            assert len(snapshots) == len(KEYWORDS) * len(DAYS)
            api = ApiClient(content, "api_content", tenant_id, subject="auth0|ranks-routes")
            yield Checked(tenant_id, project.id, ids, snapshots, dict(organic), api)
        finally:
            reset_cached_runtime()


def ok(reply: Any) -> Any:
    assert reply.status == 200, reply.raw
    return reply.json


def history(checked: Checked) -> dict[uuid.UUID, list[SerpSnapshot]]:
    by_keyword: dict[uuid.UUID, list[SerpSnapshot]] = defaultdict(list)
    for snapshot in checked.snapshots:
        by_keyword[snapshot.keyword_id].append(snapshot)
    return by_keyword


def test_the_ranks_list_is_each_keywords_latest_stored_check(checked: Checked) -> None:
    items = ok(checked.api.get(f"{checked.base}/ranks"))["items"]
    assert [item["keyword"] for item in items] == sorted(KEYWORDS)
    ranked = 0
    for item in items:
        latest, previous = history(checked)[uuid.UUID(item["keyword_id"])][-2:][::-1]
        assert item["check_date"] == TODAY.isoformat()
        assert (item["position"], item["url"]) == (latest.position, latest.url)
        assert item["previous_position"] == previous.position
        positions = [s.position for s in history(checked)[latest.keyword_id] if s.position is not None]
        assert item["best_position"] == (min(positions) if positions else None)
        assert item["features_present"] == latest.features_present
        assert set(item["features_owned"]) <= set(item["features_present"])
        ranked += item["position"] is not None
    assert ranked, "the demo site ranks for some of the keywords"


def test_visibility_from_the_stored_checks_on_the_fallback_curve(checked: Checked) -> None:
    body = ok(
        checked.api.get(
            f"{checked.base}/visibility", query={"start_date": DAYS[0].isoformat(), "end_date": TODAY.isoformat()}
        )
    )
    assert body["curve"]["source"] == "fallback"
    assert body["weighting"]["source"] == "uniform"
    project = body["items"][0]
    assert project["domain"] == DEMO_DOMAIN
    for point, day in zip(project["series"], DAYS, strict=True):
        of_day = [s for s in checked.snapshots if s.check_date == day]
        expected = sum(fallback_ctr(s.position) for s in of_day if s.position) / (len(of_day) * 0.28)
        assert point["check_date"] == day.isoformat()
        assert point["keywords"] == len(KEYWORDS)
        assert point["visibility"] == pytest.approx(expected)
    for competitor in body["items"][1:]:
        total = 0.0
        for snapshot in checked.snapshots:
            ranks = [
                i.rank_group
                for i in checked.organic.get(snapshot.id, [])
                if i.rank_group is not None and site(i.domain or "") == competitor["domain"]
            ]
            total += fallback_ctr(min(ranks)) if ranks else 0.0
        assert competitor["visibility"] == pytest.approx(total / (len(checked.snapshots) * 0.28))
        assert not is_demo(competitor["domain"])


def test_competitors_are_the_top_10_domains_of_the_latest_checks(checked: Checked) -> None:
    body = ok(checked.api.get(f"{checked.base}/competitors", query={"limit": "200"}))
    expected: dict[str, list[int]] = defaultdict(list)
    for snapshots in history(checked).values():
        best: dict[str, int] = {}
        for item in checked.organic.get(snapshots[-1].id, []):
            if item.domain and not is_demo(item.domain) and item.rank_group:
                best[site(item.domain)] = min(best.get(site(item.domain), 1_000), item.rank_group)
        for domain, rank in best.items():
            if rank <= 10:
                expected[domain].append(rank)
    found = {c["domain"]: c for c in body["items"]}
    assert set(found) == set(expected)
    for domain, ranks in expected.items():
        assert found[domain]["keywords"] == len(ranks)
        assert found[domain]["average_position"] == pytest.approx(sum(ranks) / len(ranks))
    assert body["keywords_checked"] == len(KEYWORDS)
    visibilities = [c["visibility"] for c in body["items"]]
    assert visibilities == sorted(visibilities, reverse=True)


def test_url_changes_are_the_stored_swaps(checked: Checked) -> None:
    body = ok(
        checked.api.get(
            f"{checked.base}/ranks/url-changes",
            query={"start_date": DAYS[0].isoformat(), "end_date": TODAY.isoformat()},
        )
    )
    expected = set()
    for snapshots in history(checked).values():
        for before, after in itertools.pairwise(snapshots):
            if before.url and after.url and urldefrag(before.url).url != urldefrag(after.url).url:
                expected.add((str(after.keyword_id), before.check_date.isoformat(), after.check_date.isoformat()))
    assert {(c["keyword_id"], c["previous_date"], c["check_date"]) for c in body["items"]} == expected


def test_a_keywords_history_and_its_csv(checked: Checked) -> None:
    keyword_id = checked.keywords["hiking boots"]
    path = f"{checked.base}/keywords/{keyword_id}/ranks"
    body = ok(checked.api.get(path, query={"start_date": DAYS[0].isoformat()}))
    stored = history(checked)[keyword_id]
    assert [(p["check_date"], p["position"], p["url"]) for p in body["items"]] == [
        (s.check_date.isoformat(), s.position, s.url) for s in stored
    ]
    csv = checked.api.get(path, query={"start_date": DAYS[0].isoformat(), "format": "csv"}).raw.strip().splitlines()
    assert len(csv) == 1 + len(stored)
