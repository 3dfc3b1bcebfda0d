"""rank_check end to end: the daily schedule, a project's post and collects, live checks and api_content's route,
against the DataForSEO stand-in over real HTTP (kestrel_local/dataforseo, its login a secret in moto).

Messages go through moto's SQS to the real handler, one invocation per message as the event source mapping
delivers them. What DataForSEO answers is read back from the stand-in, not restated: the tests check what
the worker posts (how often, how many at once), what it stores of each SERP, and what it charges.
"""

import datetime as dt
import importlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text

from kestrel_local.dataforseo import (
    FORCE_ALL_FEATURES,
    NEVER_READY,
    NO_RESULTS,
    UNKNOWN_ITEM_TYPE,
    UNPARSEABLE,
    DataForSeoServer,
    task_cost,
)
from kestrel_local.demo import DEMO_DOMAIN
from shared.auth import Principal
from shared.db import tenant_transaction
from shared.jobs.models import JobKind, JobStatus
from shared.jobs.tables import Job
from shared.projects import projects
from shared.projects.models import ProjectIn
from shared.ranks.data import tasks as task_data
from shared.ranks.tables import RankTask, SerpItem, SerpSnapshot
from shared.runtime.cache import reset_cached_runtime
from tests.support.api import ApiClient
from tests.support.dataforseo import dataforseo_stand_in
from tests.support.queues import WorkerQueues, create_worker_queues, deliver, queue_depth, sqs
from tests.support.tenants import new_tenant

SCREENSHOT_QUEUE = "kestrel-test-serp-screenshot"


@dataclass
class Env:
    server: DataForSeoServer
    queues: WorkerQueues
    screenshots_url: str
    handler: Any
    content: Any
    owner_url: str


@dataclass(frozen=True)
class Project:
    tenant_id: str
    id: uuid.UUID

    @property
    def principal(self) -> Principal:
        return Principal(subject="auth0|ranks-test", tenant_id=self.tenant_id, permissions=frozenset())


@contextmanager
def configured(settings: dict[str, str]) -> Iterator[None]:
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in settings.items():
                patch.setenv(name, value)
            reset_cached_runtime()
            yield
    finally:
        reset_cached_runtime()


@pytest.fixture(scope="module")
def env(platform: Any) -> Iterator[Env]:
    suffix = uuid.uuid4().hex[:6]
    queues = create_worker_queues(f"rank-check-{suffix}", visibility_timeout=300)
    screenshots_url = sqs().create_queue(QueueName=f"{SCREENSHOT_QUEUE}-{suffix}")["QueueUrl"]
    with dataforseo_stand_in() as server:
        settings = {
            "KESTREL_DLQ_URL": queues.dlq_url,
            "KESTREL_RANK_CHECK_QUEUE_URL": queues.url,
            "KESTREL_SERP_SCREENSHOT_QUEUE_URL": screenshots_url,
            "KESTREL_RANK_COLLECT_DELAY_SECONDS": "0",
        }
        with configured(settings):
            handler = importlib.import_module("functions.rank_check.handler").handler
            content = importlib.import_module("functions.api_content.handler").handler
            yield Env(server, queues, screenshots_url, handler, content, platform.owner_url)


def new_project(env: Env, keywords: list[str], *, depth: int = 10, device: str = "desktop") -> Project:
    tenant_id = new_tenant(env.owner_url)
    principal = Principal(subject="auth0|ranks-test", tenant_id=tenant_id, permissions=frozenset())
    project = projects.create_project(principal, ProjectIn(name="Demo Outdoor", domain=DEMO_DOMAIN))
    with tenant_transaction(tenant_id) as session:
        session.execute(
            text("UPDATE projects SET rank_depth = :depth WHERE id = :id"), {"depth": depth, "id": project.id}
        )
        for keyword in keywords:
            session.execute(
                text(
                    "INSERT INTO keywords (tenant_id, project_id, text, locale, country, device)"
                    " VALUES (:t, :p, :k, 'en', 'US', :d)"
                ),
                {"t": tenant_id, "p": project.id, "k": keyword, "d": device},
            )
    return Project(tenant_id, project.id)


def receive(queue_url: str, *, wait: int = 1) -> list[dict[str, Any]]:
    return (
        sqs()
        .receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait,
            VisibilityTimeout=300,
            AttributeNames=["All"],
        )
        .get("Messages", [])
    )


def deliver_body(env: Env, body: dict[str, Any]) -> set[str]:
    """Send ``body`` to rank_check's queue and deliver it (the only message there)."""
    sqs().send_message(QueueUrl=env.queues.url, MessageBody=json.dumps(body, default=str))
    messages = receive(env.queues.url)
    assert len(messages) == 1
    return deliver(env.handler, messages, env.queues, function_name="rank_check")


def drain(env: Env, *, limit: int = 50) -> int:
    """Deliver rank_check's messages one by one until its queue is empty; each must succeed."""
    delivered = 0
    while delivered < limit:
        messages = receive(env.queues.url)
        if not messages:
            if not queue_depth(env.queues.url):
                return delivered
            continue
        for message in messages:
            assert not deliver(env.handler, [message], env.queues, function_name="rank_check"), message["Body"]
            delivered += 1
    raise AssertionError(f"rank_check's queue did not empty after {limit} messages")


def screenshot_messages(env: Env, project: Project) -> list[dict[str, Any]]:
    """The project's messages to serp_screenshot (other tests' are dropped)."""
    bodies: list[dict[str, Any]] = []
    while messages := receive(env.screenshots_url, wait=0):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs().delete_message(QueueUrl=env.screenshots_url, ReceiptHandle=message["ReceiptHandle"])
    return [body for body in bodies if body["project_id"] == str(project.id)]


def quarantined(env: Env) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (
        sqs()
        .receive_message(
            QueueUrl=env.queues.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
        )
        .get("Messages", [])
    )
    for message in found:
        sqs().delete_message(QueueUrl=env.queues.dlq_url, ReceiptHandle=message["ReceiptHandle"])
    return found


def post(env: Env, project: Project, day: dt.date | None = None) -> set[str]:
    day = day or dt.datetime.now(dt.UTC).date()
    return deliver_body(
        env, {"kind": "post", "tenant_id": project.tenant_id, "project_id": str(project.id), "check_date": day}
    )


def the_job(project: Project) -> Job:
    with tenant_transaction(project.tenant_id) as session:
        job = session.scalars(select(Job).where(Job.project_id == project.id, Job.kind == JobKind.RANK_CHECK)).one()
        session.expunge(job)
        return job


def rank_tasks(project: Project) -> list[RankTask]:
    with tenant_transaction(project.tenant_id) as session:
        rows = list(session.scalars(select(RankTask).where(RankTask.project_id == project.id)))
        session.expunge_all()
        return rows


def stored(project: Project) -> dict[uuid.UUID, tuple[SerpSnapshot, list[SerpItem]]]:
    """Each keyword's snapshot and its items, in SERP order."""
    with tenant_transaction(project.tenant_id) as session:
        snapshots = list(session.scalars(select(SerpSnapshot).where(SerpSnapshot.project_id == project.id)))
        items = list(
            session.scalars(select(SerpItem).where(SerpItem.project_id == project.id).order_by(SerpItem.item_index))
        )
        session.expunge_all()
    return {s.keyword_id: (s, [i for i in items if i.snapshot_id == s.id]) for s in snapshots}


def keyword_ids(project: Project) -> dict[str, uuid.UUID]:
    with tenant_transaction(project.tenant_id) as session:
        rows = session.execute(text("SELECT text, id FROM keywords WHERE project_id = :p"), {"p": project.id})
        return {row.text: row.id for row in rows}


# ---------------------------------------------------------------- the daily check


def test_the_schedule_posts_each_project_once_and_collects_every_item(env: Env) -> None:
    words = ["hiking boots", "waterproof jacket", f"{FORCE_ALL_FEATURES} trail shoes"]
    project = new_project(env, words)
    quiet = new_project(env, ["tent"])
    with tenant_transaction(quiet.tenant_id) as session:
        session.execute(text("UPDATE keywords SET active = false"))  # a project without active keywords: no post

    assert not deliver_body(env, {"kind": "schedule"})
    posts = [json.loads(m["Body"]) for m in receive(env.queues.url)]
    while more := receive(env.queues.url, wait=0):
        posts += [json.loads(m["Body"]) for m in more]
    sqs().purge_queue(QueueUrl=env.queues.url)  # other tests' projects are posted by their own tests
    ours = [p for p in posts if p["tenant_id"] == project.tenant_id]
    assert ours == [
        {
            "kind": "post",
            "tenant_id": project.tenant_id,
            "project_id": str(project.id),
            "check_date": dt.datetime.now(dt.UTC).date().isoformat(),
        }
    ]
    assert not [p for p in posts if p["tenant_id"] == quiet.tenant_id]

    before = env.server.requests["task_post"]
    assert not deliver_body(env, ours[0])
    assert env.server.requests["task_post"] == before + 1  # three tasks, one call
    drain(env)
    assert not quarantined(env)

    job = the_job(project)
    assert job.status == JobStatus.SUCCEEDED, job.failure_reason
    assert job.counters["collected"] == 3
    ids = keyword_ids(project)
    snapshots = stored(project)
    assert set(snapshots) == set(ids.values())
    by_task = {task.id: task for task in env.server.tasks()}
    for task in rank_tasks(project):
        assert task.status == "collected"
        assert task.provider_task_id in by_task
        assert task.cost == task_cost(10)  # what the stand-in charged, recorded per task
    for snapshot, items in snapshots.values():
        assert snapshot.items_count == len(items) > 10
        assert [i.item_index for i in items] == list(range(len(items)))
        on_site = [i.rank_group or 0 for i in items if i.type == "organic" and (i.domain or "").endswith(DEMO_DOMAIN)]
        assert snapshot.position == (min(on_site) if on_site else None)  # null when not ranking, never 0
        assert snapshot.url is None or DEMO_DOMAIN in snapshot.url
        assert set(snapshot.features_owned) <= set(snapshot.features_present)
        assert "organic" not in snapshot.features_present
    featured, items = snapshots[ids[words[2]]]
    unknown = [i for i in items if i.type == UNKNOWN_ITEM_TYPE]
    assert unknown
    assert all(not i.known and i.raw and i.raw["type"] == UNKNOWN_ITEM_TYPE for i in unknown)
    assert all(i.raw is None for i in items if i.known)
    assert UNKNOWN_ITEM_TYPE in featured.features_present
    assert "people_also_ask" in featured.features_present
    shots = screenshot_messages(env, project)
    assert sorted(m["snapshot_id"] for m in shots) == sorted(str(s.id) for s, _ in snapshots.values())
    assert {m["kind"] for m in shots} == {"snapshot"}

    # the schedule's post again the same day (EventBridge delivers at least once): nothing is posted again
    calls = dict(env.server.requests)
    assert not post(env, project)
    assert dict(env.server.requests) == calls
    assert len(rank_tasks(project)) == 3


def test_tasks_are_posted_a_hundred_a_call(env: Env) -> None:
    project = new_project(env, [f"camping stove {n}" for n in range(250)])
    before, tasks_before = env.server.requests["task_post"], len(env.server.tasks())
    assert not post(env, project)
    assert env.server.requests["task_post"] == before + 3
    assert len(env.server.tasks()) == tasks_before + 250
    drain(env)
    assert the_job(project).status == JobStatus.SUCCEEDED
    assert len(stored(project)) == 250


def test_a_post_whose_answer_was_lost_is_not_posted_again_and_its_results_are_found_by_tag(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = new_project(env, ["sleeping bag", "trekking poles"])
    body = {
        "kind": "post",
        "tenant_id": project.tenant_id,
        "project_id": str(project.id),
        "check_date": dt.datetime.now(dt.UTC).date(),
    }
    sqs().send_message(QueueUrl=env.queues.url, MessageBody=json.dumps(body, default=str))
    [message] = receive(env.queues.url)
    before = env.server.requests["task_post"]
    with monkeypatch.context() as crash:
        crash.setattr(task_data, "record_posted", _crash)
        failed = deliver(env.handler, [message], env.queues, function_name="rank_check")
    assert failed == {message["MessageId"]}  # the invocation died after DataForSEO created the tasks
    assert env.server.requests["task_post"] == before + 1
    assert all(task.status == "posted" and task.provider_task_id is None for task in rank_tasks(project))

    sqs().change_message_visibility(  # SQS redelivers the post
        QueueUrl=env.queues.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )
    messages = receive(env.queues.url)
    assert len(messages) == 1
    assert json.loads(messages[0]["Body"])["kind"] == "post"
    assert not deliver(env.handler, messages, env.queues, function_name="rank_check")
    assert env.server.requests["task_post"] == before + 1  # never posted (nor paid) twice
    drain(env)
    tags = {task.tag: task.id for task in env.server.tasks()}
    for task in rank_tasks(project):
        assert task.status == "collected"
        assert task.provider_task_id == tags[str(task.id)]  # recovered from tasks_ready by its tag
        assert task.cost == task_cost(10)
    assert len(stored(project)) == 2
    assert the_job(project).status == JobStatus.SUCCEEDED


def _crash(*args: object, **kwargs: object) -> None:
    raise RuntimeError("the invocation died here")


def test_the_monthly_budget_stops_posting_with_a_clear_job_error(env: Env) -> None:
    project = new_project(env, [f"rain cover {n}" for n in range(5)], depth=100)
    with tenant_transaction(project.tenant_id) as session:
        task_data.set_budget(session, monthly_budget_usd=Decimal("0.01"), live_checks_per_day=10)
    before = env.server.requests["task_post"]
    assert not post(env, project)
    assert env.server.requests["task_post"] == before  # nothing posted
    job = the_job(project)
    assert job.status == JobStatus.FAILED
    assert job.failure_reason is not None
    assert job.failure_reason.startswith("Monthly DataForSEO budget of $0.01 reached ($0 spent")
    assert {task.status for task in rank_tasks(project)} == {"failed"}
    assert {task.cost for task in rank_tasks(project)} == {Decimal(0)}
    assert not queue_depth(env.queues.url)


def test_a_result_that_cannot_be_read_is_an_error_of_the_job_never_position_zero(env: Env) -> None:
    words = [f"{UNPARSEABLE} gaiters", f"{NO_RESULTS} gaiters", "gaiters"]
    project = new_project(env, words)
    assert not post(env, project)
    drain(env)
    assert not quarantined(env)
    ids = keyword_ids(project)
    job = the_job(project)
    assert job.status == JobStatus.SUCCEEDED_WITH_ERRORS
    assert job.error_count == 2
    reasons = {uuid.UUID(e["keyword_id"]): e["reason"] for e in job.errors}
    assert set(reasons) == {ids[words[0]], ids[words[1]]}
    assert "items.0.url" in reasons[ids[words[0]]] or "url" in reasons[ids[words[0]]]
    assert "40102" in reasons[ids[words[1]]]
    assert set(stored(project)) == {ids["gaiters"]}  # nothing stored for the failed checks
    statuses = {task.keyword_id: task.status for task in rank_tasks(project)}
    assert statuses == {ids[words[0]]: "failed", ids[words[1]]: "failed", ids["gaiters"]: "collected"}


def test_a_task_never_ready_fails_after_three_days(env: Env) -> None:
    project = new_project(env, [f"{NEVER_READY} stove", "gas canister"])
    assert not post(env, project)
    message = receive(env.queues.url)
    assert not deliver(env.handler, message, env.queues, function_name="rank_check")
    assert the_job(project).status == JobStatus.RUNNING  # one task waits: collect again later
    with tenant_transaction(project.tenant_id) as session:
        session.execute(text("UPDATE rank_tasks SET posted_at = posted_at - interval '4 days' WHERE status = 'posted'"))
    drain(env)
    job = the_job(project)
    assert job.status == JobStatus.SUCCEEDED_WITH_ERRORS
    assert "did not return" in job.errors[0]["reason"]


def test_a_bad_message_is_quarantined_with_its_reason(env: Env) -> None:
    assert not deliver_body(env, {"kind": "post", "tenant_id": "org_x"})
    [message] = quarantined(env)
    assert "project_id" in message["MessageAttributes"]["kestrel.quarantine_reason"]["StringValue"]


# ---------------------------------------------------------------- on demand


def api_for(env: Env, project: Project) -> ApiClient:
    return ApiClient(env.content, "api_content", project.tenant_id, subject="auth0|ranks-test")


def test_a_live_check_runs_through_live_advanced_within_the_daily_limit(env: Env) -> None:
    project = new_project(env, ["bivvy bag", "camp pillow", "head torch"])
    ids = keyword_ids(project)
    with tenant_transaction(project.tenant_id) as session:
        task_data.set_budget(session, monthly_budget_usd=Decimal("10"), live_checks_per_day=3)
    api = api_for(env, project)
    path = f"/v1/projects/{project.id}/rank-checks"
    before = env.server.requests["live/advanced"]

    reply = api.post(path, {"keyword_ids": [str(ids["bivvy bag"]), str(ids["camp pillow"])]})
    assert reply.status == 202, reply.raw
    assert reply.json["kind"] == "rank_check"
    assert reply.json["status"] == "pending"
    drain(env)
    job = the_job(project)
    assert job.status == JobStatus.SUCCEEDED, job.failure_reason
    assert env.server.requests["live/advanced"] == before + 2
    assert set(stored(project)) == {ids["bivvy bag"], ids["camp pillow"]}
    assert {t.mode for t in rank_tasks(project)} == {"live"}
    assert {t.cost for t in rank_tasks(project)} == {task_cost(10, Decimal("0.002"))}
    assert len(screenshot_messages(env, project)) == 2

    refused = api.post(path, {})  # every active keyword: three, one more than the day has left
    assert refused.status == 429, refused.raw
    assert refused.json["detail"].startswith("The daily limit of 3 on-demand keyword checks is reached: 2 used today")
    assert len(rank_tasks(project)) == 2


def test_rank_checks_of_another_tenants_project_or_keyword_are_not_found(env: Env) -> None:
    mine = new_project(env, ["tarp"])
    theirs = new_project(env, ["tarp"])
    api = api_for(env, mine)
    assert api.post(f"/v1/projects/{theirs.id}/rank-checks", {}).status == 404
    their_keyword = keyword_ids(theirs)["tarp"]
    reply = api.post(f"/v1/projects/{mine.id}/rank-checks", {"keyword_ids": [str(their_keyword)]})
    assert reply.status == 404, reply.raw
    assert rank_tasks(mine) == []
    assert rank_tasks(theirs) == []
    # and what one tenant's checks stored, the other does not see
    assert not post(env, mine)
    drain(env)
    assert len(stored(mine)) == 1
    with tenant_transaction(theirs.tenant_id) as session:
        assert session.scalar(text("SELECT count(*) FROM serp_snapshots WHERE project_id = :p"), {"p": mine.id}) == 0
        assert session.scalar(text("SELECT count(*) FROM serp_items WHERE project_id = :p"), {"p": mine.id}) == 0


def _redeliver(env: Env, message: dict[str, Any]) -> set[str]:
    sqs().change_message_visibility(
        QueueUrl=env.queues.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )
    messages = receive(env.queues.url)
    assert len(messages) == 1
    return deliver(env.handler, messages, env.queues, function_name="rank_check")


def _post_message(env: Env, project: Project) -> dict[str, Any]:
    body = {"kind": "post", "tenant_id": project.tenant_id, "project_id": str(project.id)}
    body["check_date"] = dt.datetime.now(dt.UTC).date().isoformat()
    sqs().send_message(QueueUrl=env.queues.url, MessageBody=json.dumps(body))
    [message] = receive(env.queues.url)
    return message


def test_a_post_refused_as_a_whole_is_posted_again_by_the_redelivery(env: Env) -> None:
    project = new_project(env, ["bothy bag", "mess tin"])
    message = _post_message(env, project)
    env.server.fail_next(3)  # 50000 "Internal Error." on every attempt of the invocation: nothing created
    assert deliver(env.handler, [message], env.queues, function_name="rank_check") == {message["MessageId"]}
    assert {task.status for task in rank_tasks(project)} == {"pending"}
    assert {task.cost for task in rank_tasks(project)} == {Decimal(0)}
    assert not _redeliver(env, message)
    drain(env)
    assert the_job(project).status == JobStatus.SUCCEEDED
    assert len(stored(project)) == 2


def test_a_post_that_may_have_been_carried_out_is_not_posted_again(env: Env) -> None:
    project = new_project(env, ["water filter"])
    message = _post_message(env, project)
    before = env.server.requests["task_post"] + env.server.requests["failed"]
    env.server.fail_next(1, http_status=502)  # no answer to a call DataForSEO may have carried out
    assert deliver(env.handler, [message], env.queues, function_name="rank_check") == {message["MessageId"]}
    assert not _redeliver(env, message)
    assert env.server.requests["task_post"] + env.server.requests["failed"] == before + 1  # one call, not retried
    [task] = rank_tasks(project)
    assert task.status == "posted"
    assert task.provider_task_id is None  # waits for its tag in tasks_ready
