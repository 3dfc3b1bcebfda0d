"""Entities and topics end to end: the demo site crawled by page_crawl, its changes relayed to nlp_entities, the
real NLP service (started once, S3 on moto), topic_model's fits, and api_content's routes.

Messages go through moto's SQS to the real handlers, one invocation per message as the event source mapping
delivers them. What the service finds is read from its answers, not restated: the tests check how the workers
store it (per page, in the aggregates, per model version) and when they call it.
"""

import importlib
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from kestrel_local.demo_site import DemoSiteServer
from kestrel_local.nlp_service import NlpServiceProcess
from shared.auth import Principal
from shared.crawl import crawls
from shared.crawl.models import CrawlIn
from shared.crawl.tables import CrawledPage, PageChangedEvent
from shared.db import app_engine, tenant_transaction
from shared.jobs.models import LIVE_STATUSES, JobKind, JobStatus
from shared.jobs.tables import Job
from shared.nlp import client as nlp_client
from shared.nlp import extraction
from shared.nlp.tables import NLP_PARTITIONS, NlpPageState, PageEntity, PageTopic, ProjectEntity, Topic, TopicModel
from shared.projects import projects
from shared.projects.models import ProjectIn
from shared.runtime.cache import reset_cached_runtime
from tests.integration.conftest import NLP_MODELS_BUCKET
from tests.support.api import ApiClient
from tests.support.queues import REGION, WorkerQueues, create_worker_queues, deliver, queue_depth, s3, sqs
from tests.support.tenants import new_tenant, owner_connection

DOMAIN = "demo-outdoor.example.com"
RAW_PAGES_BUCKET = "kestrel-test-nlp-raw-pages"  # test_page_crawl.py creates its own
NLP_BUCKET = NLP_MODELS_BUCKET
USER_AGENT = "KestrelBot/1.0 (+https://test.kestrel.example/bot)"
WORKERS = ("page_crawl", "nlp_entities", "topic_model")


@dataclass
class Env:
    site: DemoSiteServer
    queues: dict[str, WorkerQueues]
    handlers: dict[str, Any]
    owner_url: str
    service: NlpServiceProcess


@dataclass(frozen=True)
class Project:
    tenant_id: str
    id: uuid.UUID

    @property
    def principal(self) -> Principal:
        return Principal(subject="auth0|nlp-test", tenant_id=self.tenant_id, permissions=frozenset())


def settings_for(site: DemoSiteServer, queues: dict[str, WorkerQueues], service_url: str) -> dict[str, str]:
    return {
        "KESTREL_CRAWL_USER_AGENT": USER_AGENT,
        "KESTREL_CRAWL_PINNED_HOSTS": json.dumps(dict.fromkeys(site.catalogue.hosts, site.address)),
        "KESTREL_CRAWL_CA_FILE": str(site.ca_file),
        "KESTREL_CRAWL_HOST_LIMIT": json.dumps({"concurrency": 4, "requests_per_second": 100}),
        "KESTREL_RAW_PAGES_BUCKET": RAW_PAGES_BUCKET,
        "KESTREL_PAGE_CRAWL_QUEUE_URL": queues["page_crawl"].url,
        "KESTREL_NLP_ENTITIES_QUEUE_URL": queues["nlp_entities"].url,
        "KESTREL_TOPIC_MODEL_QUEUE_URL": queues["topic_model"].url,
        "KESTREL_NLP_MODELS_BUCKET": NLP_BUCKET,
        "KESTREL_NLP_SERVICE_URL": service_url,
        "KESTREL_NLP_BACKOFF_SECONDS": "0.05",
        # one DLQ for the three workers of this process; every test checks it stays empty unless it says otherwise
        "KESTREL_DLQ_URL": queues["nlp_entities"].dlq_url,
    }


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
def env(platform: Any, nlp_service: NlpServiceProcess) -> Iterator[Env]:
    site = DemoSiteServer(crawl_delay=0.0).start()
    suffix = uuid.uuid4().hex[:6]
    queues = {
        name: create_worker_queues(f"{name.replace('_', '-')}-{suffix}", visibility_timeout=300) for name in WORKERS
    }
    s3().create_bucket(Bucket=RAW_PAGES_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    with configured(settings_for(site, queues, nlp_service.url)):
        handlers = {name: importlib.import_module(f"functions.{name}.handler").handler for name in WORKERS}
        yield Env(site, queues, handlers, platform.owner_url, nlp_service)
    site.stop()


def new_project(env: Env, domain: str = DOMAIN) -> Project:
    tenant_id = new_tenant(env.owner_url)
    principal = Principal(subject="auth0|nlp-test", tenant_id=tenant_id, permissions=frozenset())
    project = projects.create_project(principal, ProjectIn(name="Demo Outdoor", domain=domain))
    return Project(tenant_id, project.id)


def receive_one(env: Env, worker: str, *, wait: int = 1) -> list[dict[str, Any]]:
    return (
        sqs()
        .receive_message(
            QueueUrl=env.queues[worker].url,
            MaxNumberOfMessages=1,
            WaitTimeSeconds=wait,
            VisibilityTimeout=300,
            AttributeNames=["All"],
        )
        .get("Messages", [])
    )


def deliver_to(env: Env, worker: str, messages: list[dict[str, Any]]) -> set[str]:
    return deliver(env.handlers[worker], messages, env.queues[worker], function_name=worker)


def drain(env: Env, worker: str, *, timeout: float = 600.0) -> int:
    """Deliver the worker's messages one by one until its queue is empty; each must succeed."""
    deadline, delivered = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        messages = receive_one(env, worker)
        if not messages:
            if not queue_depth(env.queues[worker].url):
                return delivered
            continue
        assert not deliver_to(env, worker, messages), f"{worker} failed {messages[0]['Body']}"
        delivered += 1
    raise AssertionError(f"{worker}'s queue did not empty in {timeout} s")


def assert_no_quarantine(env: Env) -> None:
    quarantined = sqs().receive_message(
        QueueUrl=env.queues["nlp_entities"].dlq_url, WaitTimeSeconds=0, MessageAttributeNames=["All"]
    )
    assert not quarantined.get("Messages"), json.dumps(quarantined["Messages"][0].get("MessageAttributes"))


def crawl(env: Env, project: Project, **settings: Any) -> uuid.UUID:
    """A crawl of the project driven to its end (page_crawl's messages only; its relays wait on nlp_entities')."""
    started = crawls.start(project.principal, project.id, CrawlIn(**settings))
    drain(env, "page_crawl")
    assert crawls.get_crawl(project.principal, project.id, started.id).status not in LIVE_STATUSES
    return started.id


def send_page_changes(env: Env, project: Project) -> None:
    body = json.dumps({"kind": "page_changes", "tenant_id": project.tenant_id, "project_id": str(project.id)})
    sqs().send_message(QueueUrl=env.queues["nlp_entities"].url, MessageBody=body)


# ---------------------------------------------------------------- reading what was stored


def states(project: Project) -> dict[uuid.UUID, NlpPageState]:
    with tenant_transaction(project.tenant_id) as session:
        rows = session.scalars(select(NlpPageState).where(NlpPageState.project_id == project.id))
        return {row.page_id: row for row in rows}


def aggregates(project: Project) -> dict[uuid.UUID, tuple[str, str, int, int]]:
    with tenant_transaction(project.tenant_id) as session:
        rows = session.scalars(select(ProjectEntity).where(ProjectEntity.project_id == project.id))
        return {row.id: (row.label, row.normalized, row.pages, row.mentions) for row in rows}


def page_entity_rows(project: Project) -> dict[tuple[uuid.UUID, uuid.UUID], tuple[int, int, str]]:
    with tenant_transaction(project.tenant_id) as session:
        rows = session.scalars(select(PageEntity).where(PageEntity.project_id == project.id))
        return {(row.page_id, row.entity_id): (row.mentions, row.first_offset, row.text) for row in rows}


def assert_aggregates_match_the_pages(project: Project) -> None:
    """Every aggregate equals the sum over the pages' rows, and every page row has its aggregate."""
    sums: dict[uuid.UUID, tuple[int, int]] = {}
    for (_, entity_id), (mentions, _, _) in page_entity_rows(project).items():
        pages, total = sums.get(entity_id, (0, 0))
        sums[entity_id] = (pages + 1, total + mentions)
    stored = {entity_id: (pages, mentions) for entity_id, (_, _, pages, mentions) in aggregates(project).items()}
    assert stored == sums


def unconsumed(project: Project) -> int:
    with tenant_transaction(project.tenant_id) as session:
        return (
            session.scalar(
                select(func.count()).where(
                    PageChangedEvent.project_id == project.id, PageChangedEvent.consumed_at.is_(None)
                )
            )
            or 0
        )


def topic_jobs(project: Project) -> list[Job]:
    with tenant_transaction(project.tenant_id) as session:
        rows = session.scalars(
            select(Job)
            .where(Job.project_id == project.id, Job.kind == JobKind.TOPIC_MODEL)
            .order_by(Job.created_at, Job.id)
        )
        return list(rows)


def current_model(project: Project) -> TopicModel | None:
    with tenant_transaction(project.tenant_id) as session:
        return session.scalar(select(TopicModel).where(TopicModel.project_id == project.id, TopicModel.current))


@contextmanager
def counting_service_documents() -> Iterator[list[str]]:
    """The ids of the documents nlp_entities sends to the service (the real one still answers)."""
    sent: list[str] = []
    real = nlp_client.NlpClient.entities

    def spy(self: nlp_client.NlpClient, documents: Any) -> Any:
        sent.extend(document.id for document in documents)
        return real(self, documents)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nlp_client.NlpClient, "entities", spy)
        yield sent


# ---------------------------------------------------------------- the demo site, crawled and analysed


@dataclass(frozen=True)
class Analysed:
    project: Project
    crawl_id: uuid.UUID
    pages: dict[str, uuid.UUID]  # url -> page id
    documents_sent: list[str]


@pytest.fixture(scope="module")
def demo(env: Env) -> Analysed:
    """The demo site crawled, then page_crawl's relays delivered to nlp_entities (whose threshold starts a fit)."""
    project = new_project(env)
    crawl_id = crawl(env, project)
    assert queue_depth(env.queues["nlp_entities"].url) > 0, "page_crawl relayed nothing"
    with counting_service_documents() as sent:
        drain(env, "nlp_entities")
    with tenant_transaction(project.tenant_id) as session:
        rows = session.execute(select(CrawledPage.url, CrawledPage.id).where(CrawledPage.project_id == project.id))
        pages = {row.url: row.id for row in rows}
    assert_no_quarantine(env)
    return Analysed(project, crawl_id, pages, list(sent))


def case(env: Env, name: str) -> tuple[str, ...]:
    return env.site.catalogue.cases[name]


def test_every_crawled_page_with_text_is_analysed_once(env: Env, demo: Analysed) -> None:
    with tenant_transaction(demo.project.tenant_id) as session:
        with_content = set(
            session.scalars(
                select(CrawledPage.id).where(
                    CrawledPage.project_id == demo.project.id, CrawledPage.content_hash.is_not(None)
                )
            )
        )
    analysed = states(demo.project)
    assert set(analysed) == with_content
    assert unconsumed(demo.project) == 0
    assert sorted(demo.documents_sent) == sorted(set(demo.documents_sent))  # no page sent twice
    english = [state for state in analysed.values() if state.supported]
    assert len(english) > 100
    assert all(state.pipeline_name and state.pipeline_version and state.words > 0 for state in english)
    with tenant_transaction(demo.project.tenant_id) as session:
        hashes = dict(
            session.execute(
                select(CrawledPage.id, CrawledPage.content_hash).where(CrawledPage.project_id == demo.project.id)
            ).all()
        )
    assert all(state.content_hash == hashes[page_id] for page_id, state in analysed.items())


def test_entities_are_stored_per_page_and_aggregated_per_project(env: Env, demo: Analysed) -> None:
    rows = page_entity_rows(demo.project)
    assert len(rows) > 500
    assert_aggregates_match_the_pages(demo.project)
    top = sorted(aggregates(demo.project).values(), key=lambda agg: (-agg[2], -agg[3]))
    assert top[0][2] > 20  # something many pages share (the site's seasons, places...)
    alps = [agg for agg in aggregates(demo.project).values() if agg[1] == "alps"]
    assert alps
    assert alps[0][2] >= 5  # the trip reports from the Alps


def test_a_page_in_an_unsupported_language_is_recorded_with_the_reason(env: Env, demo: Analysed) -> None:
    german = case(env, "hreflang_pair")[1]
    state = states(demo.project)[demo.pages[german]]
    assert not state.supported
    assert state.language == "de"
    assert state.reason
    assert "'de'" in state.reason
    assert not [key for key in page_entity_rows(demo.project) if key[0] == demo.pages[german]]


def test_a_page_analysed_already_is_not_sent_again_and_a_redelivery_changes_nothing(env: Env, demo: Analysed) -> None:
    before = (aggregates(demo.project), page_entity_rows(demo.project), states(demo.project))
    with tenant_transaction(demo.project.tenant_id) as session:  # the events come again: their hashes are analysed
        session.execute(
            update(PageChangedEvent).where(PageChangedEvent.project_id == demo.project.id).values(consumed_at=None)
        )
    send_page_changes(env, demo.project)
    messages = receive_one(env, "nlp_entities", wait=5)
    with counting_service_documents() as sent:
        assert not deliver_to(env, "nlp_entities", messages)
        assert not deliver(env.handlers["nlp_entities"], messages, env.queues["nlp_entities"], function_name="x")
    assert sent == []
    assert unconsumed(demo.project) == 0
    after = (aggregates(demo.project), page_entity_rows(demo.project), states(demo.project))
    assert after[0] == before[0]
    assert after[1] == before[1]
    assert {k: (s.content_hash, s.processed_at) for k, s in after[2].items()} == {
        k: (s.content_hash, s.processed_at) for k, s in before[2].items()
    }


def test_the_schema_partitions_page_rows_by_project_with_no_way_around_rls(env: Env, demo: Analysed) -> None:
    for table in ("page_entities", "page_topics"):
        with owner_connection(env.owner_url) as conn:
            partitioning = conn.execute(
                "SELECT partstrat, pg_get_partkeydef(%s::regclass) FROM pg_partitioned_table"
                " WHERE partrelid = %s::regclass",
                (table, table),
            ).fetchone()
            partitions = conn.execute(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_inherits i"
                " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
                (table,),
            ).fetchall()
        assert partitioning == ("h", "HASH (project_id)")
        assert len(partitions) == NLP_PARTITIONS
        assert all(secure and forced for _, secure, forced in partitions)
        with pytest.raises(Exception, match="permission denied"), app_engine().connect() as conn:
            conn.execute(text(f"SELECT count(*) FROM {partitions[0][0]}"))
    # the rows of the demo project are all in one partition of page_entities
    with owner_connection(env.owner_url) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (demo.project.tenant_id,))
        placed = conn.execute(
            "SELECT DISTINCT tableoid::regclass::text FROM page_entities WHERE project_id = %s", (demo.project.id,)
        ).fetchall()
    assert len(placed) == 1


# ---------------------------------------------------------------- topics: the threshold's fit


@pytest.fixture(scope="module")
def fitted(env: Env, demo: Analysed) -> TopicModel:
    """The fit the refit threshold started once the demo crawl's pages were analysed, run by topic_model."""
    started = topic_jobs(demo.project)
    assert [(job.created_by, job.input["trigger"]) for job in started] == [("refit-threshold", "threshold")]
    drain(env, "topic_model")
    assert_no_quarantine(env)
    job = topic_jobs(demo.project)[0]
    assert job.status == JobStatus.SUCCEEDED, job.failure_reason
    model = current_model(demo.project)
    assert model is not None
    return model


def test_the_threshold_fit_stores_a_current_version_with_its_topics_and_page_weights(
    env: Env, demo: Analysed, fitted: TopicModel
) -> None:
    job = topic_jobs(demo.project)[0]
    assert job.counters["version"] == fitted.version
    assert job.counters["model_id"] == str(fitted.id)
    assert job.counters["new_version"] is True
    assert fitted.job_id == job.id
    assert fitted.k >= 2
    assert str(fitted.k) in fitted.why
    assert [candidate["k"] for candidate in fitted.candidates if candidate["chosen"]] == [fitted.k]
    analysable = [s for s in states(demo.project).values() if s.supported and s.words >= 50]
    assert fitted.documents <= len(analysable)
    with tenant_transaction(demo.project.tenant_id) as session:
        topics = session.scalars(select(Topic).where(Topic.model_id == fitted.id).order_by(Topic.topic_id)).all()
        weighted = session.execute(
            select(PageTopic.page_id, func.sum(PageTopic.weight))
            .where(PageTopic.project_id == demo.project.id, PageTopic.model_id == fitted.id)
            .group_by(PageTopic.page_id)
        ).all()
    assert [topic.topic_id for topic in topics] == list(range(fitted.k))
    assert all(topic.terms and topic.label for topic in topics)
    assert all(term["weight"] >= topic.terms[-1]["weight"] for topic in topics for term in topic.terms)
    assert len(weighted) == fitted.documents
    assert {page_id for page_id, _ in weighted} <= set(demo.pages.values())
    # weights under 0.01 are left out, and each is rounded to 4 digits: a page's total may pass 1 by half a unit each
    assert all(0 < total <= 1 + fitted.k * 0.5e-4 + 1e-9 for _, total in weighted), max(t for _, t in weighted)
    # the corpus topic_model wrote, and the model the service stored, under the project's prefixes
    corpus_key = job.counters["corpus_key"]
    assert corpus_key == f"nlp/corpora/{demo.project.tenant_id}/{demo.project.id}/{job.id}.jsonl.gz"
    s3().head_object(Bucket=NLP_BUCKET, Key=corpus_key)
    assert fitted.s3_prefix.startswith(f"nlp/models/{demo.project.tenant_id}/{demo.project.id}/{fitted.version}")
    stored = s3().list_objects_v2(Bucket=NLP_BUCKET, Prefix=fitted.s3_prefix)["Contents"]
    assert any(item["Key"].endswith("documents.jsonl.gz") for item in stored)


def test_a_redelivered_fit_changes_nothing(env: Env, demo: Analysed, fitted: TopicModel) -> None:
    job = topic_jobs(demo.project)[0]
    body = json.dumps({"kind": "fit_topics", "tenant_id": demo.project.tenant_id, "job_id": str(job.id)})
    sqs().send_message(QueueUrl=env.queues["topic_model"].url, MessageBody=body)
    drain(env, "topic_model")
    with tenant_transaction(demo.project.tenant_id) as session:
        models = session.scalars(select(TopicModel).where(TopicModel.project_id == demo.project.id)).all()
    assert [model.id for model in models] == [fitted.id]
    assert topic_jobs(demo.project)[0].finished_at == job.finished_at


# ---------------------------------------------------------------- a page changes


def a_blog_post(env: Env) -> str:
    """An article no audit case involves (its content is its own, on one URL)."""
    involved = {url for urls in env.site.catalogue.cases.values() for url in urls}
    return next(
        path
        for path, page in env.site.catalogue.pages.items()
        if page.kind == "article" and env.site.catalogue.url(path) not in involved and len(page.paragraphs) > 2
    )


EDITED = (
    "Yvon Chouinard founded Patagonia in Ventura, California, and the brand still repairs jackets there.",
    "We wore the Patagonia Nano Puff from Reykjavik to Akureyri for ten days in Iceland last March.",
)


def test_a_changed_page_replaces_its_entities_and_the_aggregates_follow(
    env: Env, demo: Analysed, fitted: TopicModel
) -> None:
    path = a_blog_post(env)
    page_id = demo.pages[env.site.catalogue.url(path)]
    before = {entity for page, entity in page_entity_rows(demo.project) if page == page_id}
    before_aggregates = aggregates(demo.project)
    original = env.site.catalogue.pages[path]
    env.site.revise(path, paragraphs=EDITED)
    try:
        crawl(env, demo.project)
    finally:
        env.site.revise(path, paragraphs=original.paragraphs)
    with counting_service_documents() as sent:
        drain(env, "nlp_entities")
    assert sent == [str(page_id)]  # only the edited page's content is new
    after = {entity for page, entity in page_entity_rows(demo.project) if page == page_id}
    assert after != before
    after_aggregates = aggregates(demo.project)
    assert {after_aggregates[entity][1] for entity in after - before} & {"patagonia", "iceland", "reykjavik"}
    for entity in before - after:  # on one page fewer, or gone with the page's mentions
        pages_before = before_aggregates[entity][2]
        assert (after_aggregates[entity][2] if entity in after_aggregates else 0) == pages_before - 1
    assert_aggregates_match_the_pages(demo.project)
    # one page of over a hundred changed since the fit: under the 10% threshold, no refit
    assert len(topic_jobs(demo.project)) == 1
    assert_no_quarantine(env)


def test_a_refit_through_the_api_fits_a_new_version_and_makes_it_current(
    env: Env, demo: Analysed, fitted: TopicModel, content_api: Any
) -> None:
    api = client(content_api, demo.project)
    reply = api.post(f"/v1/projects/{demo.project.id}/topics/refit")
    assert reply.status == 202, reply.raw
    job = reply.json
    assert (job["kind"], job["status"]) == ("topic_model", "pending")
    assert api.post(f"/v1/projects/{demo.project.id}/topics/refit").status == 409
    drain(env, "topic_model")
    finished = next(j for j in topic_jobs(demo.project) if str(j.id) == job["id"])
    assert finished.status == JobStatus.SUCCEEDED, finished.failure_reason
    model = current_model(demo.project)
    assert model is not None
    assert model.id != fitted.id
    assert model.version != fitted.version  # the edited page changed the corpus
    assert finished.counters["version"] == model.version
    with tenant_transaction(demo.project.tenant_id) as session:
        versions = session.execute(
            select(TopicModel.id, TopicModel.current).where(TopicModel.project_id == demo.project.id)
        ).all()
    assert dict(versions) == {fitted.id: False, model.id: True}  # the earlier version is kept
    topics = api.get(f"/v1/projects/{demo.project.id}/topics").json
    assert topics["model"]["version"] == model.version


# ---------------------------------------------------------------- a small site: the service down, too few pages


@pytest.fixture(scope="module")
def small(env: Env) -> Project:
    """A project whose crawl stops at a few pages: too few for a topic model."""
    project = new_project(env)
    crawl(env, project, max_pages=8)
    return project


def test_the_service_down_is_transient_and_nothing_is_lost(env: Env, small: Project) -> None:
    waiting = unconsumed(small)
    assert waiting > 0
    with configured({"KESTREL_NLP_SERVICE_URL": "http://127.0.0.1:9", "KESTREL_NLP_MAX_ATTEMPTS": "2"}):
        messages = receive_one(env, "nlp_entities", wait=5)
        assert deliver_to(env, "nlp_entities", messages) == {messages[0]["MessageId"]}  # handed back to SQS
    assert unconsumed(small) == waiting
    assert states(small) == {}
    assert_no_quarantine(env)
    # SQS redelivers it once its visibility timeout ends: now, here
    sqs().change_message_visibility(
        QueueUrl=env.queues["nlp_entities"].url, ReceiptHandle=messages[0]["ReceiptHandle"], VisibilityTimeout=0
    )
    drain(env, "nlp_entities")
    assert unconsumed(small) == 0
    assert len(states(small)) == waiting
    assert topic_jobs(small) == []  # under the minimum number of pages: no fit starts by itself
    assert_aggregates_match_the_pages(small)


def test_a_fit_of_too_few_pages_fails_with_the_reason(env: Env, small: Project, content_api: Any) -> None:
    api = client(content_api, small)
    missing = api.get(f"/v1/projects/{small.id}/topics")
    assert missing.status == 404
    assert "no topic model yet" in missing.json["detail"]
    assert "topics/refit" in missing.json["detail"]
    reply = api.post(f"/v1/projects/{small.id}/topics/refit")
    assert reply.status == 202, reply.raw
    drain(env, "topic_model")
    [job] = topic_jobs(small)
    assert job.status == JobStatus.FAILED
    assert job.failure_reason is not None
    assert job.failure_reason.startswith("Too few pages to find topics in")
    assert "needs 20" in job.failure_reason
    assert current_model(small) is None
    assert_no_quarantine(env)


def test_work_is_bounded_per_invocation_and_the_rest_is_sent_on(env: Env) -> None:
    """An invocation stops once its time is spent and sends its project's message again for the rest."""
    project = new_project(env)
    crawl(env, project, max_pages=8)
    waiting, queued = unconsumed(project), queue_depth(env.queues["nlp_entities"].url)
    assert waiting > 2
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(extraction, "EVENTS_PER_BATCH", 2)
        patch.setattr(extraction, "TIME_BUDGET_SECONDS", 0.0)  # one batch per invocation
        assert not deliver_to(env, "nlp_entities", receive_one(env, "nlp_entities", wait=5))
        assert unconsumed(project) == waiting - 2
        assert queue_depth(env.queues["nlp_entities"].url) == queued  # one taken, one sent on
        drain(env, "nlp_entities")
    assert unconsumed(project) == 0
    assert len(states(project)) == waiting
    assert_aggregates_match_the_pages(project)


def test_a_bad_message_is_quarantined_with_its_reason(env: Env) -> None:
    sqs().send_message(QueueUrl=env.queues["nlp_entities"].url, MessageBody=json.dumps({"kind": "page_changes"}))
    messages = receive_one(env, "nlp_entities", wait=5)
    assert not deliver_to(env, "nlp_entities", messages)
    quarantined = sqs().receive_message(
        QueueUrl=env.queues["nlp_entities"].dlq_url, WaitTimeSeconds=2, MessageAttributeNames=["All"]
    )["Messages"]
    assert "project_id" in json.dumps(quarantined[0]["MessageAttributes"])
    sqs().delete_message(QueueUrl=env.queues["nlp_entities"].dlq_url, ReceiptHandle=quarantined[0]["ReceiptHandle"])


# ---------------------------------------------------------------- api_content's routes


@pytest.fixture(scope="module")
def content_api(env: Env) -> Any:
    return importlib.import_module("functions.api_content.handler").handler


def client(handler: Any, project: Project) -> ApiClient:
    return ApiClient(handler, "api_content", project.tenant_id, subject="auth0|nlp-test")


def all_pages_of(api: ApiClient, path: str, **query: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        reply = api.get(path, query={**query, **({"cursor": cursor} if cursor else {})})
        assert reply.status == 200, reply.raw
        items += reply.json["items"]
        cursor = reply.json["next_cursor"]
        if cursor is None:
            return items


def test_the_top_entities_paginate_filter_and_come_as_csv(env: Env, demo: Analysed, content_api: Any) -> None:
    api = client(content_api, demo.project)
    path = f"/v1/projects/{demo.project.id}/entities"
    first = api.get(path, query={"limit": "5"}).json
    assert len(first["items"]) == 5
    assert first["next_cursor"]
    every = all_pages_of(api, path, limit="37")
    assert every[:5] == first["items"]
    keys = [(-item["pages"], -item["mentions"]) for item in every]
    assert keys == sorted(keys)
    assert len(every) == len({item["id"] for item in every}) == len(aggregates(demo.project))
    places = api.get(path, query={"label": "GPE", "limit": "200"}).json["items"]
    assert places
    assert {item["label"] for item in places} == {"GPE"}
    alps = api.get(path, query={"q": "ALP"}).json["items"]
    assert alps
    assert all("alp" in item["normalized"] for item in alps)
    csv = api.get(path, query={"format": "csv", "label": "GPE"})
    assert csv.status == 200
    assert csv.headers["Content-Type"].startswith("text/csv")
    header, *rows = csv.raw.strip().splitlines()
    assert header == "id,label,text,normalized,pages,mentions"
    assert len(rows) == len(places)
    assert api.get(path, query={"label": "gpe"}).status == 422
    assert api.get(path, query={"cursor": "not-a-cursor"}).status == 400


def test_the_pages_of_an_entity_and_the_entities_of_a_page(env: Env, demo: Analysed, content_api: Any) -> None:
    api = client(content_api, demo.project)
    base = f"/v1/projects/{demo.project.id}"
    entity = next(item for item in all_pages_of(api, f"{base}/entities", limit="200") if item["normalized"] == "alps")
    pages = all_pages_of(api, f"{base}/entities/{entity['id']}/pages", limit="3")
    assert len(pages) == entity["pages"]
    assert sum(page["mentions"] for page in pages) == entity["mentions"]
    assert [page["mentions"] for page in pages] == sorted((page["mentions"] for page in pages), reverse=True)
    assert all(page["url"].startswith("https://") for page in pages)
    on_page = api.get(f"{base}/pages/{pages[0]['id']}/entities", query={"limit": "200"}).json
    assert on_page["analysed"]
    assert on_page["supported"]
    assert on_page["language"] == "en"
    assert on_page["pipeline"]["name"]
    assert entity["id"] in {item["id"] for item in on_page["items"]}
    german = demo.pages[case(env, "hreflang_pair")[1]]
    unsupported = api.get(f"{base}/pages/{german}/entities").json
    assert (unsupported["supported"], unsupported["language"], unsupported["items"]) == (False, "de", [])
    assert "not supported" in unsupported["reason"]
    csv = api.get(f"{base}/pages/{pages[0]['id']}/entities", headers={"Accept": "text/csv"})
    assert csv.raw.splitlines()[0] == "id,label,text,normalized,mentions,first_offset"
    assert api.get(f"{base}/entities/{uuid.uuid4()}/pages").status == 404
    assert api.get(f"{base}/pages/{uuid.uuid4()}/entities").status == 404


def test_the_topics_and_a_topics_pages(env: Env, demo: Analysed, fitted: TopicModel, content_api: Any) -> None:
    api = client(content_api, demo.project)
    base = f"/v1/projects/{demo.project.id}"
    reply = api.get(f"{base}/topics")
    assert reply.status == 200, reply.raw
    body = reply.json
    model = body["model"]
    assert (model["k"], model["why"]) == (len(body["items"]), model["why"])
    assert model["coherence_measure"]
    assert [item["id"] for item in body["items"]] == list(range(model["k"]))
    assert all(item["terms"] and item["label"] and item["pages"] > 0 for item in body["items"])
    paged = all_pages_of(api, f"{base}/topics", limit="1")
    assert paged == body["items"]
    csv = api.get(f"{base}/topics", query={"format": "csv"}).raw.strip().splitlines()
    assert csv[0] == "id,label,terms.term,terms.weight,coherence,pages"
    assert len(csv) - 1 == sum(len(item["terms"]) for item in body["items"])  # a row per term
    topic = body["items"][0]
    pages = all_pages_of(api, f"{base}/topics/{topic['id']}/pages", limit="7")
    assert len(pages) == topic["pages"]
    weights = [page["weight"] for page in pages]
    assert weights == sorted(weights, reverse=True)
    assert api.get(f"{base}/topics/{model['k'] + 5}/pages").status == 404


def test_another_tenants_entities_and_topics_are_not_found(env: Env, demo: Analysed, content_api: Any) -> None:
    stranger = client(content_api, new_project(env, domain="stranger-outdoor.example.com"))
    base = f"/v1/projects/{demo.project.id}"
    entity = next(iter(aggregates(demo.project)))
    page = next(iter(demo.pages.values()))
    for path in (
        f"{base}/entities",
        f"{base}/entities/{entity}/pages",
        f"{base}/pages/{page}/entities",
        f"{base}/topics",
        f"{base}/topics/0/pages",
    ):
        assert stranger.get(path).status == 404, path
    assert stranger.post(f"{base}/topics/refit").status == 404
    own = client(content_api, demo.project)
    assert own.post(f"{base}/topics/refit", permissions=("read:projects",)).status == 403
