"""The imports API through its real Lambda handler: Search Console connections, syncs, jobs and cancellation.

Credentials go to the moto server's Secrets Manager, verification talks to a local Search Console
server over HTTP, and sync days land on the real (emulated) gsc_sync queue.
"""

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from kestrel_local.search_console import SearchConsoleServer
from shared.db import tenant_transaction
from shared.runtime.openapi import TITLE, build_document
from shared.search_console import progress as gsc_progress
from shared.search_console.models import FRESH_DAYS, HISTORY_DAYS, SyncDayMessage
from shared.settings import SearchConsoleCredentials, SyncQueue, forget_settings, settings_of
from tests.support.api import ApiClient
from tests.support.queues import sqs
from tests.support.services import REGION
from tests.support.tenants import new_tenant

SITE = "sc-domain:acme.com"
SECRET_MARKERS = ("private_key", "refresh_token", "client_secret", "BEGIN PRIVATE KEY")


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def imports_handler(platform):
    from functions.api_imports.handler import handler

    return handler


@pytest.fixture(scope="module")
def gsc(platform) -> Iterator[SearchConsoleServer]:
    """A local Search Console API that the code under test reaches as it would reach Google's."""
    server = SearchConsoleServer().start()
    from shared.runtime.cache import reset_cached_runtime

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KESTREL_GSC_API_BASE_URL", f"{server.url}/webmasters/v3")
        patch.setenv("KESTREL_GSC_TOKEN_URI", server.token_uri)
        patch.setenv("KESTREL_GSC_BACKOFF_SECONDS", "0.01")  # retries of the 503 test, without the wait
        reset_cached_runtime()
        yield server
    reset_cached_runtime()
    server.stop()


@pytest.fixture
def imports(api, imports_handler) -> ApiClient:
    """The imports API as the same user as ``api`` (the projects API) calls it."""
    return ApiClient(imports_handler, "api_imports", api.tenant_id, subject=api.subject)


@pytest.fixture
def prop(api, project) -> dict[str, Any]:
    reply = api.post(f"/v1/projects/{project['id']}/properties", {"site_url": SITE})
    assert reply.status == 201, reply.raw
    return reply.json


@pytest.fixture
def prop_path(prop) -> str:
    return f"/v1/projects/{prop['project_id']}/properties/{prop['id']}"


@pytest.fixture
def connected(imports, prop_path, gsc) -> dict[str, str]:
    """The property connected with a service account that can read it; returns the key file."""
    key = gsc.register_service_account([SITE])
    reply = imports.call("PUT", f"{prop_path}/connection", {"credential": key})
    assert reply.status == 201, reply.raw
    return key


def secret_value(tenant_id: str, property_id: str) -> dict[str, Any] | None:
    name = f"{settings_of(SearchConsoleCredentials).gsc_secret_prefix}{tenant_id}/{property_id}"
    try:
        raw = boto3.client("secretsmanager", region_name=REGION).get_secret_value(SecretId=name)["SecretString"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise
    value: dict[str, Any] = json.loads(raw)
    return value


def assert_no_secret(raw: str, credential: dict[str, str]) -> None:
    for marker in SECRET_MARKERS:
        assert marker not in raw
    for field in ("private_key", "refresh_token", "client_secret"):
        if field in credential:
            assert credential[field] not in raw
            assert json.dumps(credential[field])[1:-1] not in raw  # nor JSON-escaped


def take_sync_messages(job_id: str, expected: int) -> list[SyncDayMessage]:
    """Receive and delete the job's day messages from the shared sync queue, leaving other jobs' alone."""
    client = sqs()
    url = settings_of(SyncQueue).gsc_sync_queue_url
    found: list[SyncDayMessage] = []
    quiet_polls = 0
    deadline = time.monotonic() + 60
    # Keep polling after the expected count: one more empty poll shows nothing extra was queued.
    while time.monotonic() < deadline and (len(found) < expected or quiet_polls < 1):
        batch = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        mine = [message for message in batch if json.loads(message["Body"]).get("job_id") == job_id]
        others = [message for message in batch if message not in mine]
        found += [SyncDayMessage.model_validate_json(message["Body"]) for message in mine]
        if mine:
            entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(mine)]
            client.delete_message_batch(QueueUrl=url, Entries=entries)
        if others:
            entries = [
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for n, m in enumerate(others)
            ]
            client.change_message_visibility_batch(QueueUrl=url, Entries=entries)
        quiet_polls = quiet_polls + 1 if not mine and len(found) >= expected else 0
    assert len(found) == expected, f"expected {expected} day messages for job {job_id}, got {len(found)}"
    return found


def start(imports: ApiClient, path: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Start a sync or backfill that must be accepted; drains its day messages so no worker picks them up."""
    reply = imports.post(path, body, **kwargs)
    assert reply.status == 202, reply.raw
    job: dict[str, Any] = reply.json
    take_sync_messages(job["id"], job["progress"]["days_total"])
    return job


def days_ago(n: int) -> str:
    return (utc_today() - dt.timedelta(days=n)).isoformat()


# ---------------------------------------------------------------- connections


def test_connect_stores_the_credential_as_a_secret_and_never_returns_it(api, imports, prop, prop_path, gsc):
    key = gsc.register_service_account([SITE])
    reply = imports.call("PUT", f"{prop_path}/connection", {"credential": key})
    assert reply.status == 201, reply.raw
    assert reply.json == {
        "property_id": prop["id"],
        "site_url": SITE,
        "connection_status": "connected",
        "credential_type": "service_account",
        "credential_identity": key["client_email"],
        "connection_checked_at": None,
        "connection_error": None,
    }
    assert_no_secret(reply.raw, key)
    stored = secret_value(api.tenant_id, prop["id"])
    assert stored is not None
    assert stored["private_key"] == key["private_key"].strip()
    assert stored["client_email"] == key["client_email"]

    read = imports.get(f"{prop_path}/connection")
    assert read.status == 200
    assert read.json == reply.json
    assert_no_secret(read.raw, key)
    # the projects API does not show it either
    assert_no_secret(api.get(prop_path).raw, key)


def test_replacing_and_removing_the_credential(api, imports, prop, prop_path, connected, gsc):
    user = gsc.register_refresh_token([SITE])
    replaced = imports.call("PUT", f"{prop_path}/connection", {"credential": user})
    assert replaced.status == 200, replaced.raw
    assert replaced.json["credential_type"] == "authorized_user"
    assert replaced.json["credential_identity"] == user["client_id"]
    assert replaced.json["connection_status"] == "connected"
    assert_no_secret(replaced.raw, user)
    assert_no_secret(replaced.raw, connected)
    stored = secret_value(api.tenant_id, prop["id"])
    assert stored is not None
    assert stored["refresh_token"] == user["refresh_token"]
    assert "private_key" not in stored

    assert imports.delete(f"{prop_path}/connection").status == 204
    assert secret_value(api.tenant_id, prop["id"]) is None
    gone = imports.get(f"{prop_path}/connection").json
    assert gone["connection_status"] == "unconnected"
    assert gone["credential_type"] is None
    assert gone["credential_identity"] is None
    assert imports.delete(f"{prop_path}/connection").status == 204  # disconnecting twice is fine


def test_a_new_connection_after_a_failed_check_starts_clean(imports, prop_path, connected, gsc):
    gsc.revoke(connected)
    assert imports.post(f"{prop_path}/connection/verify").json["connection_status"] == "failed"
    fresh = gsc.register_service_account([SITE])
    reply = imports.call("PUT", f"{prop_path}/connection", {"credential": fresh})
    assert reply.status == 200
    assert reply.json["connection_status"] == "connected"
    assert reply.json["connection_error"] is None
    assert reply.json["connection_checked_at"] is None


# ---------------------------------------------------------------- verification


def test_verify_needs_a_credential(imports, prop_path):
    reply = imports.post(f"{prop_path}/connection/verify")
    assert reply.status == 409
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert "connect it first" in reply.json["detail"]


def test_verify_a_working_service_account(imports, prop_path, connected, gsc):
    before = gsc.requests["searchAnalytics.query.200"]
    reply = imports.post(f"{prop_path}/connection/verify")
    assert reply.status == 200, reply.raw
    assert reply.json["connection_status"] == "verified"
    assert reply.json["connection_error"] is None
    assert reply.json["connection_checked_at"] is not None
    assert gsc.requests["searchAnalytics.query.200"] == before + 1
    assert_no_secret(reply.raw, connected)
    assert imports.get(f"{prop_path}/connection").json == reply.json


def test_verify_a_working_refresh_token(imports, prop_path, gsc):
    user = gsc.register_refresh_token([SITE])
    assert imports.call("PUT", f"{prop_path}/connection", {"credential": user}).status == 201
    reply = imports.post(f"{prop_path}/connection/verify")
    assert reply.status == 200, reply.raw
    assert reply.json["connection_status"] == "verified"
    assert_no_secret(reply.raw, user)


def test_verify_a_revoked_credential_records_the_failure(imports, prop_path, connected, gsc):
    assert imports.post(f"{prop_path}/connection/verify").json["connection_status"] == "verified"
    gsc.revoke(connected)
    reply = imports.post(f"{prop_path}/connection/verify")
    assert reply.status == 200, reply.raw
    assert reply.json["connection_status"] == "failed"
    assert "Invalid JWT Signature" in reply.json["connection_error"]
    assert reply.json["connection_checked_at"] is not None
    assert_no_secret(reply.raw, connected)
    assert imports.get(f"{prop_path}/connection").json["connection_status"] == "failed"


def test_verify_a_revoked_refresh_token(imports, prop_path, gsc):
    user = gsc.register_refresh_token([SITE])
    imports.call("PUT", f"{prop_path}/connection", {"credential": user})
    gsc.revoke(user)
    reply = imports.post(f"{prop_path}/connection/verify")
    assert reply.status == 200
    assert reply.json["connection_status"] == "failed"
    assert "expired or revoked" in reply.json["connection_error"]
    assert_no_secret(reply.raw, user)


def test_verify_a_credential_for_another_site(imports, prop_path, gsc):
    key = gsc.register_service_account(["sc-domain:someone-else.com"])
    imports.call("PUT", f"{prop_path}/connection", {"credential": key})
    reply = imports.post(f"{prop_path}/connection/verify")
    assert reply.status == 200
    assert reply.json["connection_status"] == "failed"
    assert "does not have sufficient permission for site 'sc-domain:acme.com'" in reply.json["connection_error"]


def test_verify_when_search_console_is_down_records_nothing(imports, prop_path, connected, gsc):
    gsc.fail_next(10, 503)
    try:
        reply = imports.post(f"{prop_path}/connection/verify")
    finally:
        gsc.fail_next(0)
    assert reply.status == 503, reply.raw
    assert "try again" in reply.json["detail"]
    assert imports.get(f"{prop_path}/connection").json["connection_status"] == "connected"


# ---------------------------------------------------------------- syncs and backfills


def test_backfill_creates_one_day_per_date_and_queues_them(imports, prop, prop_path, connected):
    first, last = utc_today() - dt.timedelta(days=12), utc_today() - dt.timedelta(days=1)
    reply = imports.post(
        f"{prop_path}/backfills",
        {"start_date": first.isoformat(), "end_date": last.isoformat(), "search_types": ["web", "image"]},
    )
    assert reply.status == 202, reply.raw
    job = reply.json
    assert job["kind"] == "gsc_backfill"
    assert job["status"] == "pending"
    assert job["project_id"] == prop["project_id"]
    assert job["created_by"] == imports.subject
    assert job["counters"]["days_total"] == 12
    assert job["progress"] == {
        "percent": 0,
        "days_total": 12,
        "days_done": 0,
        "days_failed": 0,
        "chunks_total": 0,
        "chunks_done": 0,
        "rows_fetched": 0,
        "rows_loaded": 0,
        "rows_changed": 0,
        "errors": 0,
        "bytes_total": 0,
        "bytes_read": 0,
        "lines_read": 0,
    }

    messages = take_sync_messages(job["id"], 12)
    expected_dates = {first + dt.timedelta(days=n) for n in range(12)}
    assert {message.date for message in messages} == expected_dates
    for message in messages:
        assert message.tenant_id == imports.tenant_id
        assert str(message.property_id) == prop["id"]
        assert message.search_types == ["web", "image"]
    # Search Console revises its freshest days: those are fetched with dataState "all", the rest "final".
    states = {message.date: message.data_state for message in messages}
    assert states == {day: "all" if (utc_today() - day).days <= FRESH_DAYS else "final" for day in expected_dates}
    assert states[first] == "final"
    assert states[last] == "all"


def test_sync_of_recent_days_with_every_search_type(imports, prop_path, connected):
    reply = imports.post(f"{prop_path}/syncs", {"start_date": days_ago(3), "end_date": days_ago(1)})
    assert reply.status == 202, reply.raw
    assert reply.json["kind"] == "gsc_sync"
    messages = take_sync_messages(reply.json["id"], 3)
    assert all(
        message.search_types == ["web", "image", "video", "news", "discover", "googleNews"] for message in messages
    )


def test_the_oldest_day_search_console_keeps_can_be_backfilled(imports, prop_path, connected):
    body = {"start_date": days_ago(HISTORY_DAYS), "end_date": days_ago(HISTORY_DAYS - 2), "search_types": ["web"]}
    job = start(imports, f"{prop_path}/backfills", body)
    assert job["progress"]["days_total"] == 3
    assert job["counters"]["days_total"] == 3


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"start_date": days_ago(2), "end_date": days_ago(-1)}, "end_date", "future"),
        ({"start_date": days_ago(HISTORY_DAYS + 1), "end_date": days_ago(9)}, "start_date", "older than"),
    ],
    ids=["future-end", "older-than-16-months"],
)
def test_ranges_search_console_cannot_serve_are_422(imports, prop_path, connected, body, field, words):
    reply = imports.post(f"{prop_path}/backfills", body)
    assert reply.status == 422, reply.raw
    assert reply.headers["Content-Type"] == "application/problem+json"
    errors = reply.json["errors"]
    assert [error["field"] for error in errors] == [field]
    assert words in errors[0]["message"]


def test_bad_sync_bodies_are_422_with_field_paths(imports, prop_path, connected):
    backwards = imports.post(f"{prop_path}/backfills", {"start_date": days_ago(2), "end_date": days_ago(5)})
    assert backwards.status == 422
    assert any("start_date must not be after end_date" in error["message"] for error in backwards.json["errors"])

    bad = imports.post(
        f"{prop_path}/syncs", {"start_date": "yesterday", "end_date": days_ago(1), "search_types": ["web", "maps"]}
    )
    assert bad.status == 422
    fields = {error["field"] for error in bad.json["errors"]}
    assert {"start_date", "search_types[1]"} <= fields
    assert imports.post(f"{prop_path}/syncs", {"end_date": days_ago(1)}).json["errors"][0]["field"] == "start_date"
    repeated = imports.post(
        f"{prop_path}/syncs", {"start_date": days_ago(2), "end_date": days_ago(1), "search_types": ["web", "web"]}
    )
    assert repeated.status == 422
    extra = imports.post(f"{prop_path}/syncs", {"start_date": days_ago(2), "end_date": days_ago(1), "force": True})
    assert [error["field"] for error in extra.json["errors"]] == ["force"]


def test_syncing_needs_a_connected_active_property(api, imports, prop_path, gsc):
    body = {"start_date": days_ago(3), "end_date": days_ago(1)}
    unconnected = imports.post(f"{prop_path}/syncs", body)
    assert unconnected.status == 409
    assert "not connected" in unconnected.json["detail"]
    assert "PUT its connection" in unconnected.json["detail"]

    key = gsc.register_service_account([SITE])
    imports.call("PUT", f"{prop_path}/connection", {"credential": key})
    gsc.revoke(key)
    imports.post(f"{prop_path}/connection/verify")
    failed = imports.post(f"{prop_path}/backfills", body)
    assert failed.status == 409
    assert "failed its last connection check" in failed.json["detail"]
    assert "Invalid JWT Signature" in failed.json["detail"]

    imports.call("PUT", f"{prop_path}/connection", {"credential": gsc.register_service_account([SITE])})
    assert api.patch(prop_path, {"status": "paused"}).status == 200
    paused = imports.post(f"{prop_path}/syncs", body)
    assert paused.status == 409
    assert "paused" in paused.json["detail"]
    assert api.patch(prop_path, {"status": "active"}).status == 200
    start(imports, f"{prop_path}/syncs", body)


def test_a_job_whose_days_cannot_be_queued_fails_with_the_reason(imports, project, prop_path, connected):
    missing_queue = settings_of(SyncQueue).gsc_sync_queue_url.rsplit("/", 1)[0] + "/no-such-queue"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KESTREL_GSC_SYNC_QUEUE_URL", missing_queue)
        forget_settings()
        reply = imports.post(f"{prop_path}/syncs", {"start_date": days_ago(3), "end_date": days_ago(1)})
    forget_settings()
    assert reply.status == 500
    [job] = imports.get(f"/v1/projects/{project['id']}/jobs").json["items"]
    assert job["status"] == "failed"
    assert job["failure_reason"] == "The job's days could not be queued; start it again."
    assert [
        day["status"] for day in imports.get(f"/v1/projects/{project['id']}/jobs/{job['id']}/days").json["items"]
    ] == ["failed"] * 3


# ---------------------------------------------------------------- jobs


def test_list_jobs_of_every_kind_with_filters_and_pages(api, imports, project, prop_path, connected):
    jobs_path = f"/v1/projects/{project['id']}/jobs"
    body = {"start_date": days_ago(4), "end_date": days_ago(3)}
    backfill = start(imports, f"{prop_path}/backfills", body)
    sync = start(imports, f"{prop_path}/syncs", body)
    keyword_import = api.post(f"/v1/projects/{project['id']}/keyword-imports", {}).json["job"]
    cancelled = start(imports, f"{prop_path}/syncs", body)
    assert imports.post(f"{jobs_path}/{cancelled['id']}/cancel").status == 200

    everything = imports.get(jobs_path).json
    assert [job["id"] for job in everything["items"]] == [
        backfill["id"],
        sync["id"],
        keyword_import["id"],
        cancelled["id"],
    ]
    assert everything["next_cursor"] is None
    assert everything["items"][2]["progress"] is None  # keyword imports report their own counters
    assert everything["items"][0]["progress"]["days_total"] == 2

    def ids(**query: str) -> list[str]:
        reply = imports.get(jobs_path, query=query)
        assert reply.status == 200, reply.raw
        return [job["id"] for job in reply.json["items"]]

    assert ids(kind="gsc_sync") == [sync["id"], cancelled["id"]]
    assert ids(kind="gsc_backfill") == [backfill["id"]]
    assert ids(kind="keyword_import") == [keyword_import["id"]]
    assert ids(status="cancelled") == [cancelled["id"]]
    assert ids(kind="gsc_sync", status="pending") == [sync["id"]]
    assert ids(kind="gsc_export_import") == []

    seen: list[str] = []
    cursor = None
    for _ in range(4):
        page = imports.get(jobs_path, query={"limit": "1", **({"cursor": cursor} if cursor else {})}).json
        seen += [job["id"] for job in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [job["id"] for job in everything["items"]]
    assert cursor is None

    assert imports.get(jobs_path, query={"kind": "rank_tracking"}).status == 422
    assert imports.get(jobs_path, query={"status": "done"}).status == 422
    assert imports.get(jobs_path, query={"limit": "0"}).status == 422
    assert imports.get(jobs_path, query={"cursor": "garbage!"}).status == 400

    one = imports.get(f"{jobs_path}/{sync['id']}")
    assert one.status == 200
    assert one.json["id"] == sync["id"]
    assert one.json["kind"] == "gsc_sync"
    assert imports.get(f"{jobs_path}/{keyword_import['id']}").json["kind"] == "keyword_import"
    assert imports.get(f"{jobs_path}/{uuid.uuid4()}").status == 404


def test_job_days_page_by_date(imports, project, prop_path, connected):
    first = utc_today() - dt.timedelta(days=20)
    job = start(
        imports,
        f"{prop_path}/backfills",
        {"start_date": first.isoformat(), "end_date": days_ago(16), "search_types": ["web"]},
    )
    days_path = f"/v1/projects/{project['id']}/jobs/{job['id']}/days"
    dates: list[str] = []
    pages = 0
    cursor = None
    while True:
        reply = imports.get(days_path, query={"limit": "2", **({"cursor": cursor} if cursor else {})})
        assert reply.status == 200, reply.raw
        dates += [day["date"] for day in reply.json["items"]]
        pages += 1
        cursor = reply.json["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert dates == [(first + dt.timedelta(days=n)).isoformat() for n in range(5)]
    day = imports.get(days_path, query={"limit": "1"}).json["items"][0]
    assert day == {
        "date": first.isoformat(),
        "status": "pending",
        "chunks_total": None,
        "chunks_loaded": 0,
        "rows_fetched": 0,
        "rows_loaded": 0,
        "error": None,
    }
    assert imports.get(days_path, query={"cursor": "not-a-date"}).status == 400
    assert imports.get(f"/v1/projects/{project['id']}/jobs/{uuid.uuid4()}/days").status == 404


def test_progress_follows_days_and_chunks(imports, project, prop, prop_path, connected):
    first = utc_today() - dt.timedelta(days=10)
    job = start(
        imports,
        f"{prop_path}/backfills",
        {"start_date": first.isoformat(), "end_date": days_ago(7), "search_types": ["web"]},
    )
    job_id, property_id = uuid.UUID(job["id"]), uuid.UUID(prop["id"])
    # What gsc_sync and gsc_ingest record: day 1 fetched in two chunks and both loaded, day 2 fetched
    # in one chunk not yet loaded, day 3 failed.
    with tenant_transaction(imports.tenant_id) as session:
        for day in (first, first + dt.timedelta(days=1), first + dt.timedelta(days=2)):
            assert gsc_progress.start_day(session, job_id, day)
        for n, rows in enumerate((25_000, 1_200)):
            gsc_progress.add_chunk(session, job_id, property_id, f"chunk-{n}", rows=rows, day=first)
        gsc_progress.finish_day_fetch(session, job_id, first, chunks_total=2, rows=26_200)
        gsc_progress.add_chunk(session, job_id, property_id, "chunk-2", rows=300, day=first + dt.timedelta(days=1))
        gsc_progress.finish_day_fetch(session, job_id, first + dt.timedelta(days=1), chunks_total=1, rows=300)
        for n, rows in enumerate((25_000, 1_200)):
            assert gsc_progress.claim_chunk(session, job_id, f"chunk-{n}") == "load"
            gsc_progress.chunk_loaded(session, job_id, f"chunk-{n}", day=first, rows=rows, rows_changed=rows)
        gsc_progress.fail_day(session, job_id, first + dt.timedelta(days=2), "Search Console refused the query.")

    read = imports.get(f"/v1/projects/{project['id']}/jobs/{job['id']}").json
    assert read["status"] == "running"
    assert read["progress"] == {
        "percent": read["progress_percent"],
        "days_total": 4,
        "days_done": 1,
        "days_failed": 1,
        "chunks_total": 3,
        "chunks_done": 2,
        "rows_fetched": 26_500,
        "rows_loaded": 26_200,
        "rows_changed": 26_200,
        "errors": 0,
        "bytes_total": 0,
        "bytes_read": 0,
        "lines_read": 0,
    }
    assert read["progress_percent"] == 62  # (1 + 0.5 + 1 + 0) of 4 days
    days = {
        day["date"]: day for day in imports.get(f"/v1/projects/{project['id']}/jobs/{job['id']}/days").json["items"]
    }
    assert days[first.isoformat()]["status"] == "loaded"
    assert days[first.isoformat()]["chunks_loaded"] == 2
    assert days[first.isoformat()]["rows_loaded"] == 26_200
    assert days[(first + dt.timedelta(days=1)).isoformat()]["status"] == "fetched"
    assert days[(first + dt.timedelta(days=2)).isoformat()]["error"] == "Search Console refused the query."


def test_cancel_stops_a_job_and_keeps_what_loaded(api, imports, project, prop, prop_path, connected):
    first = utc_today() - dt.timedelta(days=30)
    job = start(
        imports,
        f"{prop_path}/backfills",
        {"start_date": first.isoformat(), "end_date": days_ago(28), "search_types": ["web"]},
    )
    job_id = uuid.UUID(job["id"])
    with tenant_transaction(imports.tenant_id) as session:
        assert gsc_progress.start_day(session, job_id, first)
        gsc_progress.add_chunk(session, job_id, uuid.UUID(prop["id"]), "only", rows=10, day=first)
        gsc_progress.finish_day_fetch(session, job_id, first, chunks_total=1, rows=10)
        assert gsc_progress.claim_chunk(session, job_id, "only") == "load"
        gsc_progress.chunk_loaded(session, job_id, "only", day=first, rows=10, rows_changed=10)

    jobs_path = f"/v1/projects/{project['id']}/jobs/{job['id']}"
    reply = imports.post(f"{jobs_path}/cancel")
    assert reply.status == 200, reply.raw
    assert reply.json["status"] == "cancelled"
    assert reply.json["finished_at"] is not None
    assert reply.json["progress"]["days_done"] == 1
    assert reply.json["progress"]["rows_loaded"] == 10
    assert reply.json["progress_percent"] == 100
    days = imports.get(f"{jobs_path}/days").json["items"]
    assert [day["status"] for day in days] == ["loaded", "cancelled", "cancelled"]
    assert days[1]["error"] == "The job was cancelled."
    assert imports.get(jobs_path).json["status"] == "cancelled"

    again = imports.post(f"{jobs_path}/cancel")
    assert again.status == 409
    assert "already finished (cancelled)" in again.json["detail"]

    keyword_import = api.post(f"/v1/projects/{project['id']}/keyword-imports", {}).json["job"]
    refused = imports.post(f"/v1/projects/{project['id']}/jobs/{keyword_import['id']}/cancel")
    assert refused.status == 409
    assert "keyword_import job cannot be cancelled" in refused.json["detail"]
    assert imports.post(f"/v1/projects/{project['id']}/jobs/{uuid.uuid4()}/cancel").status == 404


# ---------------------------------------------------------------- export imports


def test_export_import_answers_a_job_and_an_upload(imports, project, prop_path):
    reply = imports.post(f"{prop_path}/gsc-imports", {"format": "bulk_export", "filename": "rows.csv.gz"})
    assert reply.status == 201, reply.raw
    assert reply.json["job"]["kind"] == "gsc_export_import"
    assert reply.json["job"]["progress"] is not None
    assert imports.tenant_id in reply.json["upload"]["url"]
    listed = imports.get(f"/v1/projects/{project['id']}/jobs", query={"kind": "gsc_export_import"}).json["items"]
    assert [job["id"] for job in listed] == [reply.json["job"]["id"]]
    bad = imports.post(f"{prop_path}/gsc-imports", {"format": "pdf", "filename": ""})
    assert bad.status == 422
    assert {"format", "filename"} <= {error["field"] for error in bad.json["errors"]}


# ---------------------------------------------------------------- validation, permissions, tenancy


def test_bad_connection_bodies_are_422_with_field_paths(imports, prop_path):
    def fields(body: Any) -> set[str]:
        reply = imports.call("PUT", f"{prop_path}/connection", body)
        assert reply.status == 422, reply.raw
        assert reply.headers["Content-Type"] == "application/problem+json"
        return {error["field"] for error in reply.json["errors"]}

    assert fields({}) == {"credential"}
    assert "credential" in fields({"credential": {"type": "api_key", "key": "x"}})
    assert "credential" in fields({"credential": {"client_email": "a@b.c"}})
    missing = fields({"credential": {"type": "service_account", "client_email": "a@b.c", "private_key": "short"}})
    assert missing == {"credential.service_account.private_key"}
    assert fields({"credential": {"type": "authorized_user", "client_id": "x"}}) == {
        "credential.authorized_user.client_secret",
        "credential.authorized_user.refresh_token",
    }
    assert "extra" in fields({"credential": {"type": "authorized_user"}, "extra": 1})
    assert imports.call("PUT", f"{prop_path}/connection", raw_body="{not json").status == 422
    assert imports.get(f"/v1/projects/{uuid.uuid4()}/properties/not-a-uuid/connection").status == 422
    assert imports.get("/v1/health").status == 404  # api_projects' route, not this function's


def test_writes_need_the_write_permission(imports, project, prop_path, connected):
    read_only = ("read:projects",)
    body = {"start_date": days_ago(3), "end_date": days_ago(1)}
    writes = [
        imports.call("PUT", f"{prop_path}/connection", {"credential": connected}, permissions=read_only),
        imports.delete(f"{prop_path}/connection", permissions=read_only),
        imports.post(f"{prop_path}/connection/verify", permissions=read_only),
        imports.post(f"{prop_path}/syncs", body, permissions=read_only),
        imports.post(f"{prop_path}/backfills", body, permissions=read_only),
        imports.post(f"{prop_path}/gsc-imports", {"format": "ui_export", "filename": "x.zip"}, permissions=read_only),
        imports.post(f"/v1/projects/{project['id']}/jobs/{uuid.uuid4()}/cancel", permissions=read_only),
    ]
    assert [reply.status for reply in writes] == [403] * len(writes)
    assert all("write:projects" in reply.json["detail"] for reply in writes)
    assert imports.get(f"{prop_path}/connection", permissions=read_only).status == 200
    assert imports.get(f"/v1/projects/{project['id']}/jobs", permissions=read_only).status == 200
    assert imports.get(f"/v1/projects/{project['id']}/jobs", permissions=()).status == 403
    assert imports.get(f"{prop_path}/connection", authenticated=False).status == 403
    # nothing changed
    assert imports.get(f"{prop_path}/connection").json["connection_status"] == "connected"
    assert imports.get(f"/v1/projects/{project['id']}/jobs").json["items"] == []


def test_another_tenants_ids_answer_404_and_leak_nothing(
    platform, api, imports, imports_handler, project, prop, prop_path, connected, gsc
):
    job = start(imports, f"{prop_path}/backfills", {"start_date": days_ago(3), "end_date": days_ago(2)})
    intruder_tenant = new_tenant(platform.owner_url)
    other = ApiClient(imports_handler, "api_imports", intruder_tenant, subject="auth0|intruder")
    jobs_path = f"/v1/projects/{project['id']}/jobs"
    intruder_key = gsc.register_service_account([SITE])
    body = {"start_date": days_ago(3), "end_date": days_ago(1)}
    probes = [
        other.get(f"{prop_path}/connection"),
        other.call("PUT", f"{prop_path}/connection", {"credential": intruder_key}),
        other.delete(f"{prop_path}/connection"),
        other.post(f"{prop_path}/connection/verify"),
        other.post(f"{prop_path}/syncs", body),
        other.post(f"{prop_path}/backfills", body),
        other.post(f"{prop_path}/gsc-imports", {"format": "bulk_export", "filename": "rows.csv"}),
        other.get(jobs_path),
        other.get(f"{jobs_path}/{job['id']}"),
        other.get(f"{jobs_path}/{job['id']}/days"),
        other.post(f"{jobs_path}/{job['id']}/cancel"),
    ]
    assert [probe.status for probe in probes] == [404] * len(probes), [probe.raw for probe in probes]
    for probe in probes:
        assert "acme" not in probe.raw
        assert connected["client_email"] not in probe.raw
    # Nothing was written for the intruder, and the owner's connection and job are as they were.
    assert secret_value(intruder_tenant, prop["id"]) is None
    assert secret_value(api.tenant_id, prop["id"])["client_email"] == connected["client_email"]  # type: ignore[index]
    assert imports.get(f"{prop_path}/connection").json["credential_identity"] == connected["client_email"]
    owner_job = imports.get(f"{jobs_path}/{job['id']}").json
    assert owner_job["status"] == "pending"
    assert [j["id"] for j in imports.get(jobs_path).json["items"]] == [job["id"]]

    # The intruder's own project with the same ids in other places still sees nothing of the owner's.
    own = ApiClient(api.handler, "api_projects", intruder_tenant, subject="auth0|intruder")
    own_project = own.post("/v1/projects", {"name": "Mine", "domain": "intruder.example.com"}).json
    assert other.get(f"/v1/projects/{own_project['id']}/jobs/{job['id']}").status == 404
    assert other.get(f"/v1/projects/{own_project['id']}/properties/{prop['id']}/connection").status == 404
    assert other.get(f"/v1/projects/{own_project['id']}/jobs").json["items"] == []


def test_a_job_of_another_project_of_the_same_tenant_is_404(api, imports, project, prop_path, connected):
    job = start(imports, f"{prop_path}/syncs", {"start_date": days_ago(3), "end_date": days_ago(2)})
    second = api.post("/v1/projects", {"name": "Second", "domain": "second.example.com"}).json
    assert imports.get(f"/v1/projects/{second['id']}/jobs/{job['id']}").status == 404
    assert imports.post(f"/v1/projects/{second['id']}/jobs/{job['id']}/cancel").status == 404
    assert imports.get(f"/v1/projects/{second['id']}/jobs").json["items"] == []


# ---------------------------------------------------------------- the function's routes


def test_openapi_document_of_the_imports_api(imports_handler):
    from functions.api_imports.handler import app

    document = build_document({"api_imports": app})
    assert document["info"]["title"] == TITLE
    paths = document["paths"]
    base = "/v1/projects/{project_id}/properties/{property_id}"
    assert set(paths) == {
        f"{base}/connection",
        f"{base}/connection/verify",
        f"{base}/syncs",
        f"{base}/backfills",
        f"{base}/gsc-imports",
        "/v1/projects/{project_id}/jobs",
        "/v1/projects/{project_id}/jobs/{job_id}",
        "/v1/projects/{project_id}/jobs/{job_id}/days",
        "/v1/projects/{project_id}/jobs/{job_id}/cancel",
    }
    assert paths[f"{base}/connection"]["get"]["security"] == [{"auth0": ["read:projects"]}]
    assert paths[f"{base}/connection"]["put"]["security"] == [{"auth0": ["write:projects"]}]
    assert {"200", "201"} <= set(paths[f"{base}/connection"]["put"]["responses"])
    assert "202" in paths[f"{base}/backfills"]["post"]["responses"]
    assert "`failed` with Google's reason" in paths[f"{base}/connection/verify"]["post"]["description"]
    connection_out = json.dumps(document["components"]["schemas"]["ConnectionOut"])
    assert "private_key" not in connection_out
    assert "refresh_token" not in connection_out


def test_deleting_a_property_or_its_project_deletes_its_credential(api, imports, project, gsc):
    def connect(site_url: str) -> str:
        created = api.post(f"/v1/projects/{project['id']}/properties", {"site_url": site_url}).json
        path = f"/v1/projects/{project['id']}/properties/{created['id']}"
        credential = {"credential": gsc.register_service_account([site_url])}
        assert imports.call("PUT", f"{path}/connection", credential).status == 201
        assert secret_value(imports.tenant_id, created["id"]) is not None
        return str(created["id"])

    first = connect("https://www.acme.com/blog/")
    assert api.delete(f"/v1/projects/{project['id']}/properties/{first}").status == 204
    assert secret_value(imports.tenant_id, first) is None

    second = connect("https://www.acme.com/shop/")
    assert api.delete(f"/v1/projects/{project['id']}").status == 204
    assert secret_value(imports.tenant_id, second) is None
