"""The gsc_sync worker against the local Search Console API: paging into chunks, retries, credentials, schedule."""

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from kestrel_local.search_console import SearchConsoleServer, SyntheticConfig, parse_request, run_query
from shared.dates import utc_today
from shared.db import system_transaction, tenant_transaction
from shared.errors import InvalidRequest, TransientError
from shared.jobs.data import jobs
from shared.jobs.models import JobKind
from shared.jobs.tables import Job
from shared.projects.data import projects
from shared.projects.tables import Property
from shared.runtime.cache import reset_cached_runtime
from shared.search_console import chunks as gsc_chunks
from shared.search_console import credentials as gsc_credentials
from shared.search_console import progress
from shared.search_console import sync as gsc_sync
from shared.search_console.client import SearchConsoleClient
from shared.search_console.data import schedule as gsc_schedule
from shared.search_console.models import (
    SEARCH_TYPES,
    GscCredential,
    LoadChunkMessage,
    SyncDayMessage,
)
from shared.search_console.tables import GscChunk, GscJobDay
from shared.settings import IngestQueue, settings_of
from tests.integration.conftest import CHUNKS_BUCKET
from tests.support.queues import WorkerQueues, create_worker_queues, deliver, queue_depth, receive, sqs
from tests.support.tenants import new_tenant

TODAY = dt.date(2026, 11, 22)
BIG_DAY = dt.date(2026, 11, 10)  # a Tuesday: about 28,000 web rows, so two API pages
SMALL_DAY = dt.date(2026, 11, 11)
SMALL_TYPES = ["video", "news"]  # a few hundred to a few thousand rows each: one page
CREDENTIAL: TypeAdapter[GscCredential] = TypeAdapter(GscCredential)


@dataclass(frozen=True)
class Env:
    server: SearchConsoleServer
    queues: WorkerQueues
    handler: Any
    owner_url: str


@dataclass(frozen=True)
class Prop:
    tenant_id: str
    id: uuid.UUID
    site_url: str
    credential: dict[str, str] | None


@pytest.fixture(scope="module")
def env(platform: Any) -> Iterator[Env]:
    server = SearchConsoleServer(today=TODAY, config=SyntheticConfig(rows_per_day=40_000)).start()
    queues = create_worker_queues(f"gsc-sync-{uuid.uuid4().hex[:6]}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KESTREL_GSC_API_BASE_URL", server.url + "/webmasters/v3")
        patch.setenv("KESTREL_GSC_TOKEN_URI", server.token_uri)
        patch.setenv("KESTREL_GSC_SYNC_QUEUE_URL", queues.url)  # this module's own gsc_sync queue
        patch.setenv("KESTREL_DLQ_URL", queues.dlq_url)
        patch.setenv("KESTREL_GSC_MAX_ATTEMPTS", "3")
        patch.setenv("KESTREL_GSC_BACKOFF_SECONDS", "0.01")
        reset_cached_runtime()
        from functions.gsc_sync.handler import worker

        yield Env(server=server, queues=queues, handler=worker.lambda_handler(), owner_url=platform.owner_url)
    server.stop()
    reset_cached_runtime()


# ---------------------------------------------------------------- helpers


def add_property(
    env: Env,
    tenant_id: str | None = None,
    *,
    credential: str | None = "service_account",
    granted: bool = True,
    status: str = "active",
    connection_status: str = "connected",
) -> Prop:
    """A property of a new project, with a credential stored in Secrets Manager as the API would store it."""
    tenant_id = tenant_id or new_tenant(env.owner_url)
    name = uuid.uuid4().hex[:10]
    site_url = f"sc-domain:{name}.example"
    with tenant_transaction(tenant_id) as session:
        project = projects.create(session, name=name, domain=f"https://{name}.example/", brand_terms=[], rank_depth=10)
        prop = projects.create_property(session, project.id, site_url=site_url, status=status)
        project_id, property_id = project.id, prop.id
    issued: dict[str, str] | None = None
    if credential is not None:
        sites = [site_url] if granted else ["sc-domain:someone-else.example"]
        if credential == "service_account":
            issued = env.server.register_service_account(sites)
        else:
            issued = env.server.register_refresh_token(sites)
        parsed = CREDENTIAL.validate_python(issued)
        secret = gsc_credentials.store(tenant_id, property_id, parsed)
        with tenant_transaction(tenant_id) as session:
            projects.update_property(
                session,
                project_id,
                property_id,
                {
                    "credential_type": parsed.type,
                    "credential_secret": secret,
                    "credential_identity": gsc_credentials.identity(parsed),
                    "connection_status": connection_status,
                },
            )
    return Prop(tenant_id=tenant_id, id=property_id, site_url=site_url, credential=issued)


def start_job(
    prop: Prop, days: list[dt.date], search_types: list[str], *, kind: JobKind = JobKind.GSC_BACKFILL
) -> uuid.UUID:
    with tenant_transaction(prop.tenant_id) as session:
        orm_prop = session.get(Property, prop.id)
        assert orm_prop is not None
        job = gsc_sync.create_sync_job(
            session,
            orm_prop,
            kind=kind,
            start_date=min(days),
            end_date=max(days),
            search_types=search_types,
            created_by="auth0|tester",
        )
        job_id = job.id
    gsc_sync.enqueue_sync_days(prop.tenant_id, job_id, prop.id, days, search_types)
    return job_id


def run(env: Env, count: int) -> tuple[set[str], list[dict[str, Any]]]:
    """Receive ``count`` messages from the module's gsc_sync queue and deliver them to the real handler."""
    messages = receive(env.queues.url, count)
    return deliver(env.handler, messages, env.queues, function_name="gsc_sync"), messages


def resend(env: Env, messages: list[dict[str, Any]]) -> None:
    for message in messages:
        sqs().send_message(QueueUrl=env.queues.url, MessageBody=message["Body"])


def drain(queue_url: str) -> list[dict[str, Any]]:
    """Every message now on the queue (deleted), as parsed bodies."""
    bodies: list[dict[str, Any]] = []
    while (
        batch := sqs()
        .receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        .get("Messages", [])
    ):
        for message in batch:
            sqs().delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            bodies.append(json.loads(message["Body"]))
    return bodies


def take_loads(job_id: uuid.UUID) -> list[LoadChunkMessage]:
    """This job's load messages on the (shared) ingest queue, deleted; other tests' messages are left visible."""
    queue_url = settings_of(IngestQueue).gsc_ingest_queue_url
    assert queue_url
    mine: list[LoadChunkMessage] = []
    others: list[str] = []
    while (
        batch := sqs()
        .receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        .get("Messages", [])
    ):
        for message in batch:
            try:
                load = LoadChunkMessage.model_validate_json(message["Body"])
            except ValidationError:
                load = None
            if load is not None and load.job_id == job_id:
                sqs().delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                mine.append(load)
            else:
                others.append(message["ReceiptHandle"])
    for receipt in others:
        sqs().change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=0)
    return sorted(mine, key=lambda load: load.key)


def job_row(prop: Prop, job_id: uuid.UUID) -> Job:
    with tenant_transaction(prop.tenant_id) as session:
        return jobs.get(session, job_id)


def day_rows(prop: Prop, job_id: uuid.UUID) -> list[GscJobDay]:
    with tenant_transaction(prop.tenant_id) as session:
        return list(session.scalars(select(GscJobDay).where(GscJobDay.job_id == job_id).order_by(GscJobDay.date)))


def chunk_rows(prop: Prop, job_id: uuid.UUID) -> list[GscChunk]:
    with tenant_transaction(prop.tenant_id) as session:
        return list(session.scalars(select(GscChunk).where(GscChunk.job_id == job_id).order_by(GscChunk.object_key)))


def property_row(prop: Prop) -> Property:
    with tenant_transaction(prop.tenant_id) as session:
        row = session.get(Property, prop.id)
        assert row is not None
        return row


def api_calls(env: Env, status: int | None = None) -> int:
    return env.server.requests["searchAnalytics.query" + (f".{status}" if status else "")]


def key_of(prop: Prop, job_id: uuid.UUID, part: str) -> str:
    return gsc_chunks.chunk_key(prop.tenant_id, prop.id, job_id, part)


# ---------------------------------------------------------------- jobs and ranges


def test_create_sync_job_has_one_pending_day_per_date(env: Env) -> None:
    prop = add_property(env)
    with tenant_transaction(prop.tenant_id) as session:
        orm_prop = session.get(Property, prop.id)
        assert orm_prop is not None
        job = gsc_sync.create_sync_job(
            session,
            orm_prop,
            kind=JobKind.GSC_BACKFILL,
            start_date=dt.date(2026, 10, 1),
            end_date=dt.date(2026, 10, 5),
            search_types=["web", "image"],
            created_by="auth0|tester",
        )
        assert job.kind == JobKind.GSC_BACKFILL
        assert job.status == "pending"
        assert job.project_id == orm_prop.project_id
        assert job.counters["days_total"] == 5
        assert job.input == {
            "property_id": str(prop.id),
            "site_url": prop.site_url,
            "start_date": "2026-10-01",
            "end_date": "2026-10-05",
            "search_types": ["web", "image"],
        }
        with pytest.raises(InvalidRequest, match="Not a sync job kind"):
            gsc_sync.create_sync_job(
                session,
                orm_prop,
                kind=JobKind.GSC_EXPORT_IMPORT,
                start_date=dt.date(2026, 10, 1),
                end_date=dt.date(2026, 10, 1),
                search_types=["web"],
                created_by=None,
            )
    days = day_rows(prop, job.id)
    assert [day.date for day in days] == [dt.date(2026, 10, d) for d in range(1, 6)]
    assert {day.status for day in days} == {"pending"}


def test_enqueue_sync_days_fetches_the_freshest_days_with_data_state_all(env: Env) -> None:
    today = utc_today()
    days = [today - dt.timedelta(days=n) for n in range(1, 7)]
    job_id, property_id = uuid.uuid4(), uuid.uuid4()
    gsc_sync.enqueue_sync_days("org_nobody", job_id, property_id, days, ["web", "discover"])
    messages = [SyncDayMessage.model_validate(body) for body in drain(env.queues.url)]
    assert sorted(m.date for m in messages) == sorted(days)
    assert {(m.job_id, m.property_id, tuple(m.search_types)) for m in messages} == {
        (job_id, property_id, ("web", "discover"))
    }
    states = {(today - m.date).days: m.data_state for m in messages}
    assert states == {1: "all", 2: "all", 3: "all", 4: "final", 5: "final", 6: "final"}


# ---------------------------------------------------------------- one day into chunks


def test_a_day_larger_than_a_page_becomes_one_chunk_per_page(env: Env) -> None:
    prop = add_property(env)
    job_id = start_job(prop, [BIG_DAY], ["web", "discover"])
    before = api_calls(env)
    failed, _ = run(env, 1)
    assert failed == set()
    # web: a full page of 25,000 then a short one (so no third request); discover: one short page
    assert api_calls(env) == before + 3

    chunks = chunk_rows(prop, job_id)
    parts = ["2026-11-10/discover/0000", "2026-11-10/web/0000", "2026-11-10/web/0001"]
    assert [chunk.object_key for chunk in chunks] == [key_of(prop, job_id, part) for part in parts]
    rows = {chunk.object_key: chunk.rows for chunk in chunks}
    assert rows[key_of(prop, job_id, "2026-11-10/web/0000")] == 25_000
    assert 0 < rows[key_of(prop, job_id, "2026-11-10/web/0001")] < 25_000
    assert {chunk.status for chunk in chunks} == {"pending"}

    # Each chunk holds exactly the API's page (as the server computes it), as named rows.
    for part in parts:
        _, search_type, page = part.split("/")
        dimensions = ["date", "page", "country", "device"] if search_type == "discover" else list(gsc_sync.DIMENSIONS)
        request = {
            "startDate": "2026-11-10",
            "endDate": "2026-11-10",
            "dimensions": dimensions,
            "type": search_type,
            "dataState": "final",
            "rowLimit": 25_000,
            "startRow": int(page) * 25_000,
        }
        page_rows = run_query(prop.site_url, parse_request(request), today=TODAY, config=env.server.config)["rows"]
        stored = list(gsc_chunks.read_chunk(CHUNKS_BUCKET, key_of(prop, job_id, part)))
        assert stored == [gsc_sync.chunk_row(row, search_type, dimensions) for row in page_rows]
        assert len(stored) == rows[key_of(prop, job_id, part)]
        assert {row["search_type"] for row in stored} == {search_type}
        if search_type == "discover":
            assert {row["query"] for row in stored} == {""}  # Discover has no queries

    # One small load message per chunk, pointing at it.
    loads = take_loads(job_id)
    assert [(load.bucket, load.key, load.rows) for load in loads] == [
        (CHUNKS_BUCKET, chunk.object_key, chunk.rows) for chunk in chunks
    ]
    assert {(load.tenant_id, load.property_id, load.date) for load in loads} == {(prop.tenant_id, prop.id, BIG_DAY)}

    [day] = day_rows(prop, job_id)
    assert (day.status, day.chunks_total, day.rows_fetched) == ("fetched", 3, sum(rows.values()))
    job = job_row(prop, job_id)
    assert job.status == "running"
    assert job.counters["chunks_total"] == 3
    assert job.counters["rows_fetched"] == sum(rows.values())

    # The day (and the job) completes only once every chunk has loaded.
    for index, chunk in enumerate(chunks):
        assert job_row(prop, job_id).status == "running"
        with tenant_transaction(prop.tenant_id) as session:
            progress.chunk_loaded(
                session, job_id, chunk.object_key, day=BIG_DAY, rows=chunk.rows, rows_changed=chunk.rows
            )
        assert day_rows(prop, job_id)[0].status == ("loaded" if index == len(chunks) - 1 else "fetched")
    assert job_row(prop, job_id).status == "succeeded"


@pytest.mark.parametrize("credential", ["service_account", "authorized_user"])
def test_both_credential_types_sync(env: Env, credential: str) -> None:
    prop = add_property(env, credential=credential)
    job_id = start_job(prop, [SMALL_DAY], SMALL_TYPES)
    failed, _ = run(env, 1)
    assert failed == set()
    [day] = day_rows(prop, job_id)
    chunks = chunk_rows(prop, job_id)
    assert [chunk.object_key for chunk in chunks] == [
        key_of(prop, job_id, "2026-11-11/news/0000"),
        key_of(prop, job_id, "2026-11-11/video/0000"),
    ]
    assert (day.status, day.chunks_total, day.rows_fetched) == ("fetched", 2, sum(c.rows for c in chunks))
    assert len(take_loads(job_id)) == 2
    assert property_row(prop).connection_status == "connected"


def test_a_redelivered_fetched_day_does_nothing(env: Env) -> None:
    prop = add_property(env)
    job_id = start_job(prop, [SMALL_DAY], SMALL_TYPES)
    failed, messages = run(env, 1)
    assert failed == set()
    assert len(take_loads(job_id)) == 2
    chunks, calls = chunk_rows(prop, job_id), api_calls(env)

    resend(env, messages)
    failed, _ = run(env, 1)
    assert failed == set()
    assert api_calls(env) == calls
    assert [(c.object_key, c.rows) for c in chunk_rows(prop, job_id)] == [(c.object_key, c.rows) for c in chunks]
    assert take_loads(job_id) == []
    assert day_rows(prop, job_id)[0].status == "fetched"


def test_a_day_that_fails_half_way_is_retried_and_rewrites_the_same_chunks(env: Env) -> None:
    prop = add_property(env)
    job_id = start_job(prop, [SMALL_DAY], SMALL_TYPES)
    throttled = api_calls(env, 429)
    env.server.queries_per_minute = 1  # video passes, news is throttled past every attempt
    try:
        failed, messages = run(env, 1)
    finally:
        env.server.queries_per_minute = 1_200
    assert failed == {messages[0]["MessageId"]}  # transient: SQS will redeliver it
    assert api_calls(env, 429) == throttled + 3  # gsc_max_attempts, backing off between them
    [day] = day_rows(prop, job_id)
    assert (day.status, day.chunks_total) == ("fetching", None)
    assert [c.object_key for c in chunk_rows(prop, job_id)] == [key_of(prop, job_id, "2026-11-11/video/0000")]
    assert [load.key for load in take_loads(job_id)] == [key_of(prop, job_id, "2026-11-11/video/0000")]
    assert queue_depth(env.queues.dlq_url) == 0

    # The redelivery (SQS would bring it back after its visibility timeout) reclaims the day.
    assert deliver(env.handler, messages, env.queues, function_name="gsc_sync") == set()
    chunks = chunk_rows(prop, job_id)
    assert [c.object_key for c in chunks] == [
        key_of(prop, job_id, "2026-11-11/news/0000"),
        key_of(prop, job_id, "2026-11-11/video/0000"),
    ]
    [day] = day_rows(prop, job_id)
    assert (day.status, day.chunks_total, day.rows_fetched) == ("fetched", 2, sum(c.rows for c in chunks))
    # the rewritten video chunk is queued again (loading it twice is idempotent); nothing is duplicated
    assert sorted(load.key for load in take_loads(job_id)) == sorted(c.object_key for c in chunks)


def test_server_errors_are_retried_within_the_invocation(env: Env) -> None:
    prop = add_property(env)
    job_id = start_job(prop, [SMALL_DAY], SMALL_TYPES)
    unavailable = api_calls(env, 503)
    env.server.fail_next(2, 503)
    failed, _ = run(env, 1)
    assert failed == set()
    assert api_calls(env, 503) == unavailable + 2
    assert day_rows(prop, job_id)[0].status == "fetched"
    assert len(take_loads(job_id)) == 2


@pytest.mark.parametrize(
    ("credential", "granted", "reason"),
    [
        ("service_account", True, "invalid_grant: Invalid JWT Signature."),
        ("authorized_user", True, "invalid_grant: Token has been expired or revoked."),
        ("service_account", False, "User does not have sufficient permission for site"),
    ],
    ids=["revoked-service-account", "revoked-refresh-token", "no-access-to-the-site"],
)
def test_a_refused_credential_fails_the_job_and_the_connection(
    env: Env, credential: str, granted: bool, reason: str
) -> None:
    prop = add_property(env, credential=credential, granted=granted)
    assert prop.credential is not None
    if granted:
        env.server.revoke(prop.credential)
    job_id = start_job(prop, [SMALL_DAY, SMALL_DAY + dt.timedelta(days=1)], SMALL_TYPES)
    calls = api_calls(env)
    failed, _ = run(env, 2)
    assert failed == set()  # not retried, not quarantined: the job records why
    assert queue_depth(env.queues.dlq_url) == 0
    assert api_calls(env) - calls <= 1  # the second day does not try again

    job = job_row(prop, job_id)
    assert job.status == "failed"
    assert job.failure_reason is not None
    assert reason in job.failure_reason
    assert [(day.status, day.error) for day in day_rows(prop, job_id)] == [("failed", job.failure_reason)] * 2
    row = property_row(prop)
    assert (row.connection_status, row.connection_error) == ("failed", job.failure_reason)
    assert row.connection_checked_at is not None
    assert chunk_rows(prop, job_id) == []
    with system_transaction() as session:
        assert (prop.tenant_id, prop.id) not in {
            (p.tenant_id, p.property_id) for p in gsc_schedule.syncable_properties(session)
        }


def test_a_property_without_a_credential_fails_the_job(env: Env) -> None:
    prop = add_property(env, credential=None, connection_status="unconnected")
    job_id = start_job(prop, [SMALL_DAY], SMALL_TYPES)
    calls = api_calls(env)
    failed, _ = run(env, 1)
    assert failed == set()
    assert api_calls(env) == calls
    job = job_row(prop, job_id)
    assert (job.status, job.failure_reason) == ("failed", gsc_sync.NOT_CONNECTED)


def test_other_api_errors_fail_only_that_day(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    prop = add_property(env)
    job_id = start_job(prop, [SMALL_DAY, SMALL_DAY + dt.timedelta(days=1)], SMALL_TYPES)
    [first] = receive(env.queues.url, 1)
    monkeypatch.setattr(gsc_sync, "CHUNK_ROWS", 30_000)  # more than the API allows: HTTP 400
    assert deliver(env.handler, [first], env.queues, function_name="gsc_sync") == set()
    monkeypatch.undo()
    failed, _ = run(env, 1)
    assert failed == set()
    assert queue_depth(env.queues.dlq_url) == 0

    failed_day = SyncDayMessage.model_validate_json(first["Body"]).date
    days = {day.date: day for day in day_rows(prop, job_id)}
    assert days[failed_day].status == "failed"
    assert "HTTP 400: rowLimit must be between 1 and 25000" in (days[failed_day].error or "")
    [other] = [day for date, day in days.items() if date != failed_day]
    assert other.status == "fetched"
    assert job_row(prop, job_id).status == "running"  # the other day's chunks are still loading
    assert property_row(prop).connection_status == "connected"
    take_loads(job_id)


def test_a_cancelled_job_syncs_nothing(env: Env) -> None:
    prop = add_property(env)
    job_id = start_job(prop, [SMALL_DAY], SMALL_TYPES)
    with tenant_transaction(prop.tenant_id) as session:
        assert progress.cancel(session, job_id)
    calls = api_calls(env)
    failed, _ = run(env, 1)
    assert failed == set()
    assert api_calls(env) == calls
    assert chunk_rows(prop, job_id) == []
    assert take_loads(job_id) == []
    assert job_row(prop, job_id).status == "cancelled"


def test_a_cancel_during_the_day_stops_new_chunks(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    prop = add_property(env)
    job_id = start_job(prop, [SMALL_DAY], ["video", "news", "image"])
    real_query = SearchConsoleClient.query

    def query_then_cancel(client: SearchConsoleClient, site_url: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = real_query(client, site_url, body)
        with tenant_transaction(prop.tenant_id) as session:  # the user cancels while the page is in flight
            progress.cancel(session, job_id)
        return answer

    monkeypatch.setattr(SearchConsoleClient, "query", query_then_cancel)
    calls = api_calls(env)
    failed, _ = run(env, 1)
    assert failed == set()
    assert api_calls(env) == calls + 1  # no further page or search type was fetched
    assert chunk_rows(prop, job_id) == []  # the page in flight was not registered
    assert take_loads(job_id) == []  # nor queued for loading
    [day] = day_rows(prop, job_id)
    assert (day.status, day.chunks_total) == ("cancelled", None)
    assert job_row(prop, job_id).status == "cancelled"


# ---------------------------------------------------------------- the daily schedule


@dataclass(frozen=True)
class World:
    active: Prop  # tenant A: active and connected
    paused: Prop  # tenant A: connected but paused
    unconnected: Prop  # tenant A: no credential
    failed: Prop  # tenant A: its credential was refused
    other_tenant: Prop  # tenant B: active and verified


@pytest.fixture(scope="module")
def world(env: Env) -> World:
    tenant_a = new_tenant(env.owner_url)
    tenant_b = new_tenant(env.owner_url)
    return World(
        active=add_property(env, tenant_a),
        paused=add_property(env, tenant_a, status="paused"),
        unconnected=add_property(env, tenant_a, credential=None, connection_status="unconnected"),
        failed=add_property(env, tenant_a, connection_status="failed"),
        other_tenant=add_property(env, tenant_b, credential="authorized_user", connection_status="verified"),
    )


def scheduled_jobs(prop: Prop) -> list[Job]:
    with tenant_transaction(prop.tenant_id) as session:
        return list(
            session.scalars(
                select(Job).where(Job.kind == JobKind.GSC_SYNC, Job.created_by == "schedule").order_by(Job.id)
            )
        )


def test_the_schedule_starts_one_sync_per_connected_active_property(env: Env, world: World) -> None:
    end = utc_today() - dt.timedelta(days=1)
    window = [end - dt.timedelta(days=2), end - dt.timedelta(days=1), end]
    schedule = {"kind": "scheduled_sync", "days": 3}
    sqs().send_message(QueueUrl=env.queues.url, MessageBody=json.dumps(schedule))
    failed, _ = run(env, 1)
    assert failed == set()
    days = [SyncDayMessage.model_validate(body) for body in drain(env.queues.url)]
    ours = [day for day in days if day.tenant_id in (world.active.tenant_id, world.other_tenant.tenant_id)]

    for prop in (world.active, world.other_tenant):
        [job] = scheduled_jobs(prop)
        assert job.input["property_id"] == str(prop.id)
        assert (job.input["start_date"], job.input["end_date"]) == (window[0].isoformat(), end.isoformat())
        assert job.input["search_types"] == list(SEARCH_TYPES)
        assert job.counters["days_total"] == 3
        mine = [day for day in ours if day.job_id == job.id]
        assert sorted(day.date for day in mine) == window
        assert {(day.tenant_id, day.property_id, day.data_state) for day in mine} == {(prop.tenant_id, prop.id, "all")}
    assert len(ours) == 6  # nothing for the paused, unconnected or failed properties
    tenant_a_jobs = scheduled_jobs(world.active)
    assert {job.input["property_id"] for job in tenant_a_jobs} == {str(world.active.id)}

    # A redelivered schedule (same window) starts nothing new.
    sqs().send_message(QueueUrl=env.queues.url, MessageBody=json.dumps(schedule))
    failed, _ = run(env, 1)
    assert failed == set()
    again = [SyncDayMessage.model_validate(body) for body in drain(env.queues.url)]
    assert [day for day in again if day.tenant_id in (world.active.tenant_id, world.other_tenant.tenant_id)] == []
    assert [job.id for job in scheduled_jobs(world.active)] == [job.id for job in tenant_a_jobs]
    assert len(scheduled_jobs(world.other_tenant)) == 1


def test_a_schedule_that_could_not_enqueue_reuses_its_job_on_retry(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    prop = add_property(env)
    real_enqueue = gsc_sync.enqueue_sync_days

    def refused_for_this_tenant(tenant_id: str, *args: Any) -> None:
        if tenant_id == prop.tenant_id:
            raise TransientError("SQS refused 3 of 3 messages.")
        real_enqueue(tenant_id, *args)

    monkeypatch.setattr(gsc_sync, "enqueue_sync_days", refused_for_this_tenant)
    sqs().send_message(QueueUrl=env.queues.url, MessageBody=json.dumps({"kind": "scheduled_sync", "days": 3}))
    failed, messages = run(env, 1)
    assert failed == {messages[0]["MessageId"]}  # retried by SQS; the other properties were started
    [job] = scheduled_jobs(prop)  # committed before the enqueue failed
    assert [body for body in drain(env.queues.url) if body["tenant_id"] == prop.tenant_id] == []

    monkeypatch.undo()
    assert deliver(env.handler, messages, env.queues, function_name="gsc_sync") == set()
    assert [again.id for again in scheduled_jobs(prop)] == [job.id]  # the same job, now enqueued
    days = [SyncDayMessage.model_validate(body) for body in drain(env.queues.url)]
    assert sorted(day.job_id for day in days if day.tenant_id == prop.tenant_id) == [job.id] * 3


def test_the_schedule_reads_identifiers_across_tenants_and_nothing_else(env: Env, world: World) -> None:
    with system_transaction() as session:
        syncable = {(p.tenant_id, p.property_id) for p in gsc_schedule.syncable_properties(session)}
    assert (world.active.tenant_id, world.active.id) in syncable
    assert (world.other_tenant.tenant_id, world.other_tenant.id) in syncable
    for prop in (world.paused, world.unconnected, world.failed):
        assert (prop.tenant_id, prop.id) not in syncable

    with tenant_transaction(world.active.tenant_id) as session:
        # the app role sees its own tenant's properties only
        assert session.get(Property, world.other_tenant.id) is None
        columns = session.execute(text("SELECT * FROM kestrel_syncable_properties()")).keys()
        assert list(columns) == ["tenant_id", "property_id"]
    with tenant_transaction("") as session:
        assert session.scalar(text("SELECT count(*) FROM properties")) == 0
    with (
        pytest.raises(DBAPIError, match="permission denied to set role"),
        tenant_transaction(world.active.tenant_id) as session,
    ):
        session.execute(text("SET ROLE kestrel_sync_scheduler"))
