"""gsc_ingest: chunks from S3 through COPY and the idempotent merge into gsc_rows, the rollup and job progress."""

import datetime as dt
import gzip
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from shared.auth import Principal
from shared.db import tenant_transaction
from shared.errors import PermanentError
from shared.jobs.data import jobs
from shared.jobs.models import JobKind
from shared.projects import projects
from shared.projects.models import ProjectIn, PropertyIn
from shared.runtime.error_classes import classify
from shared.search_console import chunks as gsc_chunks
from shared.search_console import progress as gsc_progress
from shared.search_console.data import rows as gsc_rows
from shared.search_console.ingest import ChunkRejected, load_chunk
from shared.search_console.models import LoadChunkMessage
from tests.integration.conftest import CHUNKS_BUCKET
from tests.support.queues import create_worker_queues, deliver, receive, s3, sqs, worker_handler
from tests.support.tenants import new_tenant

DAY_1 = dt.date(2026, 10, 1)
DAY_2 = dt.date(2026, 10, 2)
COUNTRIES = ("usa", "gbr", "deu", "fra")
DEVICES = ("DESKTOP", "MOBILE", "TABLET")


# ---------------------------------------------------------------- fixtures and helpers
@pytest.fixture(scope="module")
def queues(platform):
    return create_worker_queues(f"gsc-ingest-{uuid.uuid4().hex[:6]}", max_receive_count=5)


@pytest.fixture(scope="module")
def worker(queues):
    with worker_handler("gsc_ingest", queues) as handler:
        yield handler


@dataclass
class Site:
    tenant_id: str
    project_id: uuid.UUID
    property_id: uuid.UUID


def new_site(owner_url: str) -> Site:
    tenant_id = new_tenant(owner_url)
    principal = Principal(subject="auth0|ingest", tenant_id=tenant_id, permissions=frozenset())
    domain = f"{tenant_id.replace('_', '-')}.example.com"
    project = projects.create_project(principal, ProjectIn(name="Site", domain=domain))
    prop = projects.create_property(principal, project.id, PropertyIn(site_url=f"https://{domain}/"))
    return Site(tenant_id, project.id, prop.id)


def new_site_like(site: Site) -> Site:
    """Another property of the same tenant and project."""
    principal = Principal(subject="auth0|ingest", tenant_id=site.tenant_id, permissions=frozenset())
    prop = projects.create_property(
        principal, site.project_id, PropertyIn(site_url=f"sc-domain:{uuid.uuid4().hex}.com")
    )
    return Site(site.tenant_id, site.project_id, prop.id)


@pytest.fixture
def site(platform) -> Site:
    return new_site(platform.owner_url)


def rows_for(day: dt.date, count: int, *, search_type: str = "web", clicks_bump: int = 0) -> list[dict[str, Any]]:
    """``count`` distinct rows of one day; ``clicks_bump`` revises clicks (and ctr) of every row."""
    rows = []
    for n in range(count):
        impressions = 10 + n * 7
        clicks = (n % 5) + clicks_bump
        rows.append(
            {
                "date": day.isoformat(),
                "search_type": search_type,
                "query": f"running shoes {n // 12}",
                "page": f"https://example.com/shoes/{n // 6}",
                "country": COUNTRIES[n % 4],
                "device": DEVICES[(n // 4) % 3],
                "clicks": clicks,
                "impressions": impressions,
                "ctr": clicks / impressions,
                "position": 1.5 + (n % 40) / 4,
            }
        )
    return rows


def new_job(site: Site, days: list[dt.date] | None = None) -> uuid.UUID:
    with tenant_transaction(site.tenant_id) as session:
        job = jobs.create(session, kind=JobKind.GSC_BACKFILL, project_id=site.project_id, input={}, created_by=None)
        gsc_progress.create_days(session, job.id, site.property_id, days or [DAY_1])
        return job.id


def start_day(site: Site, job_id: uuid.UUID, day: dt.date) -> None:
    with tenant_transaction(site.tenant_id) as session:
        assert gsc_progress.start_day(session, job_id, day)


def finish_day(site: Site, job_id: uuid.UUID, day: dt.date, chunks: list[LoadChunkMessage]) -> None:
    with tenant_transaction(site.tenant_id) as session:
        gsc_progress.finish_day_fetch(
            session, job_id, day, chunks_total=len(chunks), rows=sum(chunk.rows for chunk in chunks)
        )


def write_chunk(site: Site, job_id: uuid.UUID, part: str, rows: list[Any], *, day: dt.date | None = DAY_1):
    """Write a chunk object and register it with its job, as gsc_sync does; returns its load message."""
    key = gsc_chunks.chunk_key(site.tenant_id, site.property_id, job_id, part)
    count = gsc_chunks.write_chunk(CHUNKS_BUCKET, key, rows)
    with tenant_transaction(site.tenant_id) as session:
        gsc_progress.add_chunk(session, job_id, site.property_id, key, rows=count, day=day)
    return LoadChunkMessage(
        tenant_id=site.tenant_id,
        job_id=job_id,
        property_id=site.property_id,
        bucket=CHUNKS_BUCKET,
        key=key,
        rows=count,
        date=day,
    )


def synced_job(site: Site, chunks: dict[str, list[dict[str, Any]]], day: dt.date = DAY_1):
    """A one-day job whose sync wrote ``chunks`` (part -> rows) and finished fetching."""
    job_id = new_job(site, [day])
    start_day(site, job_id, day)
    messages = [write_chunk(site, job_id, part, rows, day=day) for part, rows in chunks.items()]
    finish_day(site, job_id, day, messages)
    return job_id, messages


def send_and_deliver(worker, queues, messages: list[LoadChunkMessage]) -> set[str]:
    for message in messages:
        sqs().send_message(QueueUrl=queues.url, MessageBody=message.model_dump_json())
    return deliver(worker, receive(queues.url, len(messages)), queues, function_name="gsc_ingest")


def dlq_messages(queues) -> list[dict]:
    found: list[dict] = []
    while batch := (
        sqs()
        .receive_message(
            QueueUrl=queues.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        )
        .get("Messages", [])
    ):
        for message in batch:
            sqs().delete_message(QueueUrl=queues.dlq_url, ReceiptHandle=message["ReceiptHandle"])
        found += batch
    return found


def stored_rows(site: Site) -> dict[tuple, tuple]:
    """Key -> (clicks, impressions, ctr, position, xmin, xmax, loaded_at) of the property's rows.

    A new row version changes xmin; a row lock (as ON CONFLICT DO UPDATE takes even when it updates nothing)
    sets xmax.
    """
    with tenant_transaction(site.tenant_id) as session:
        result = session.execute(
            text(
                "SELECT date, search_type, query, page, country, device,"
                " clicks, impressions, ctr, position, xmin::text, xmax::text, loaded_at"
                " FROM gsc_rows WHERE property_id = :p"
            ),
            {"p": site.property_id},
        )
        return {tuple(row[:6]): tuple(row[6:]) for row in result}


def values_of(rows: list[dict[str, Any]]) -> dict[tuple, tuple]:
    """What ``stored_rows`` should hold (without xmin/loaded_at) after loading ``rows`` (the last one wins)."""
    return {
        (dt.date.fromisoformat(r["date"]), r["search_type"], r["query"], r["page"], r["country"], r["device"]): (
            r["clicks"],
            r["impressions"],
            r["ctr"],
            r["position"],
        )
        for r in rows
    }


def stored_values(site: Site) -> dict[tuple, tuple]:
    return {key: value[:4] for key, value in stored_rows(site).items()}


def job_state(site: Site, job_id: uuid.UUID) -> dict[str, Any]:
    with tenant_transaction(site.tenant_id) as session:
        job = jobs.get(session, job_id)
        return {"status": job.status, "percent": job.progress_percent, **job.counters}


def chunk_statuses(site: Site, job_id: uuid.UUID) -> list[str]:
    with tenant_transaction(site.tenant_id) as session:
        return list(
            session.scalars(text("SELECT status FROM gsc_chunks WHERE job_id = :j ORDER BY object_key"), {"j": job_id})
        )


def rollup(site: Site) -> dict[tuple, tuple]:
    with tenant_transaction(site.tenant_id) as session:
        result = session.execute(
            text(
                "SELECT date, search_type, clicks, impressions, position_weighted, rows, updated_at"
                " FROM gsc_daily_rollup WHERE property_id = :p"
            ),
            {"p": site.property_id},
        )
        return {(row[0], row[1]): tuple(row[2:]) for row in result}


def assert_rollup_matches_rows(site: Site) -> None:
    """The rollup equals a computation from the raw rows, done here independently of the SQL."""
    expected: dict[tuple, list[float]] = {}
    for key, (clicks, impressions, _ctr, position, *_) in stored_rows(site).items():
        totals = expected.setdefault(key[:2], [0, 0, 0.0, 0])
        totals[0] += clicks
        totals[1] += impressions
        totals[2] += position * impressions
        totals[3] += 1
    actual = rollup(site)
    assert set(actual) == set(expected)
    for group, (clicks, impressions, weighted, count) in expected.items():
        assert actual[group][:4] == (clicks, impressions, pytest.approx(weighted, rel=1e-12), count)


# ---------------------------------------------------------------- idempotency
def test_the_same_chunk_twice_changes_and_rewrites_nothing(site, queues, worker):
    rows = rows_for(DAY_1, 300)
    job_id, messages = synced_job(site, {"web-0": rows})
    assert send_and_deliver(worker, queues, messages) == set()
    first = stored_rows(site)
    first_rollup = rollup(site)
    assert {key: value[:4] for key, value in first.items()} == values_of(rows)
    state = job_state(site, job_id)
    assert (state["status"], state["rows_loaded"], state["rows_changed"], state["chunks_done"]) == (
        "succeeded",
        300,
        300,
        1,
    )

    # A redelivery of the same message: the chunk is loaded already, nothing is counted twice.
    assert send_and_deliver(worker, queues, messages) == set()
    assert stored_rows(site) == first
    state = job_state(site, job_id)
    assert (state["rows_loaded"], state["rows_changed"], state["chunks_done"]) == (300, 300, 1)

    # The same rows synced again by a new job: merged, but nothing changes and no row version is written.
    second_job, messages = synced_job(site, {"web-0": rows})
    assert send_and_deliver(worker, queues, messages) == set()
    assert stored_rows(site) == first  # xmin, xmax and loaded_at included
    assert rollup(site) == first_rollup  # updated_at included
    state = job_state(site, second_job)
    assert (state["status"], state["rows_loaded"], state["rows_changed"]) == ("succeeded", 300, 0)
    assert_rollup_matches_rows(site)


def test_duplicate_keys_within_a_chunk_last_one_wins(site):
    rows = rows_for(DAY_1, 50)
    revised = [dict(row, clicks=row["clicks"] + 3) for row in rows[:10]]
    job_id, messages = synced_job(site, {"web-0": rows + revised})
    load_chunk(messages[0])
    assert stored_values(site) == values_of(rows + revised)
    assert len(stored_rows(site)) == 50
    state = job_state(site, job_id)
    assert (state["rows_loaded"], state["rows_changed"]) == (60, 50)
    assert_rollup_matches_rows(site)


def test_overlapping_syncs_load_concurrently_without_duplicates(site):
    shared_rows = rows_for(DAY_1, 2_000)
    first_job, first = synced_job(site, {"web-0": shared_rows[:1_500]})
    second_job, second = synced_job(
        site, {"web-0": shared_rows[500:], "image-0": rows_for(DAY_1, 200, search_type="image")}
    )
    errors: list[BaseException] = []

    def load(message: LoadChunkMessage) -> None:
        # As SQS would: a transient failure (a lock wait past the timeout) is retried.
        for _ in range(10):
            try:
                load_chunk(message)
                return
            except Exception as exc:
                if classify(exc) != "transient":
                    errors.append(exc)
                    return
        errors.append(RuntimeError(f"{message.key} kept failing"))

    threads = [threading.Thread(target=load, args=(message,)) for message in (*first, *second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    expected = values_of(shared_rows + rows_for(DAY_1, 200, search_type="image"))
    assert stored_values(site) == expected
    assert len(stored_rows(site)) == 2_200
    assert job_state(site, first_job)["status"] == "succeeded"
    assert job_state(site, second_job)["status"] == "succeeded"
    changed = job_state(site, first_job)["rows_changed"] + job_state(site, second_job)["rows_changed"]
    assert changed == 2_200  # the 1,000 rows both jobs carried were written once
    assert_rollup_matches_rows(site)


def test_a_crash_between_copy_and_merge_leaves_nothing_and_the_redelivery_loads(site, queues, worker, monkeypatch):
    rows = rows_for(DAY_1, 400)
    job_id, messages = synced_job(site, {"web-0": rows})
    staged: list[gsc_rows.Staged] = []

    def crash(session, property_id, result):
        staged.append(result)
        raise RuntimeError("the loader died after COPY")

    monkeypatch.setattr(gsc_rows, "merge", crash)
    sqs().send_message(QueueUrl=queues.url, MessageBody=messages[0].model_dump_json())
    received = receive(queues.url, 1)
    failed = deliver(worker, received, queues, function_name="gsc_ingest")
    assert failed == {received[0]["MessageId"]}  # transient: SQS redelivers it
    assert staged[0].rows == 400  # the COPY had happened
    assert stored_rows(site) == {}
    assert rollup(site) == {}
    assert chunk_statuses(site, job_id) == ["pending"]
    assert job_state(site, job_id)["rows_loaded"] == 0

    monkeypatch.undo()
    sqs().change_message_visibility(
        QueueUrl=queues.url, ReceiptHandle=received[0]["ReceiptHandle"], VisibilityTimeout=0
    )
    redelivered = receive(queues.url, 1)
    assert redelivered[0]["MessageId"] == received[0]["MessageId"]
    assert deliver(worker, redelivered, queues, function_name="gsc_ingest") == set()

    # The same as a clean load of the same chunk into another property.
    clean = new_site_like(site)
    _, clean_messages = synced_job(clean, {"web-0": rows})
    load_chunk(clean_messages[0])
    assert stored_values(site) == stored_values(clean) == values_of(rows)
    assert {g: v[:4] for g, v in rollup(site).items()} == {g: v[:4] for g, v in rollup(clean).items()}
    state = job_state(site, job_id)
    assert (state["status"], state["rows_loaded"], state["rows_changed"]) == ("succeeded", 400, 400)
    assert_rollup_matches_rows(site)


# ---------------------------------------------------------------- revisions and the rollup
def test_revised_values_update_rows_and_the_rollup(site):
    rows = rows_for(DAY_1, 500) + rows_for(DAY_1, 100, search_type="news")
    _, messages = synced_job(site, {"web-0": rows[:500], "news-0": rows[500:]})
    for message in messages:
        load_chunk(message)
    before = stored_rows(site)
    rollup_before = rollup(site)
    assert_rollup_matches_rows(site)

    # Search Console revises recent days: a later sync of the day has new values for some rows (web only).
    revised = [dict(row, clicks=row["clicks"] + 2, position=row["position"] + 0.5) for row in rows[:120]]
    new_rows = rows_for(DAY_1, 520)[500:]  # and a few rows it did not have before
    job_id, messages = synced_job(site, {"web-0": revised + rows[120:500] + new_rows})
    load_chunk(messages[0])

    after = stored_rows(site)
    assert {key: value[:4] for key, value in after.items()} == values_of(rows + revised + new_rows)
    revised_keys = set(values_of(revised))
    for key, value in before.items():
        if key in revised_keys:
            assert value[4] != after[key][4]  # rewritten: a new row version
            assert value[6] < after[key][6]  # and a new loaded_at
        else:
            assert value == after[key]  # untouched
    assert job_state(site, job_id)["rows_changed"] == 140
    assert rollup(site)[(DAY_1, "news")] == rollup_before[(DAY_1, "news")]  # not recomputed: updated_at too
    assert rollup(site)[(DAY_1, "web")][:4] != rollup_before[(DAY_1, "web")][:4]
    assert_rollup_matches_rows(site)


def test_rollup_stays_exact_across_days_reloads_and_revisions(site):
    day_1 = rows_for(DAY_1, 300)
    day_2 = rows_for(DAY_2, 200) + rows_for(DAY_2, 50, search_type="discover")
    for day, rows in ((DAY_1, day_1), (DAY_2, day_2), (DAY_1, day_1)):
        _, messages = synced_job(site, {"all-0": rows}, day)
        load_chunk(messages[0])
        assert_rollup_matches_rows(site)
    revised = [dict(row, impressions=row["impressions"] * 2) for row in day_2[::3]]
    _, messages = synced_job(site, {"all-0": revised}, DAY_2)
    load_chunk(messages[0])
    assert_rollup_matches_rows(site)
    assert set(rollup(site)) == {(DAY_1, "web"), (DAY_2, "web"), (DAY_2, "discover")}


# ---------------------------------------------------------------- tenancy, cancellation, progress
def test_rows_and_rollup_of_one_tenant_are_invisible_to_another(platform, site):
    _, messages = synced_job(site, {"web-0": rows_for(DAY_1, 100)})
    load_chunk(messages[0])
    other = new_site(platform.owner_url)
    for table in ("gsc_rows", "gsc_daily_rollup"):
        query = text(f"SELECT count(*) FROM {table} WHERE property_id = :p")
        with tenant_transaction(site.tenant_id) as session:
            assert session.scalar(query, {"p": site.property_id}) > 0
        with tenant_transaction(other.tenant_id) as session:
            assert session.scalar(query, {"p": site.property_id}) == 0
            assert session.scalar(text(f"SELECT count(*) FROM {table}")) == 0


def test_a_chunk_of_a_cancelled_job_is_skipped(site, queues, worker):
    job_id, messages = synced_job(site, {"web-0": rows_for(DAY_1, 100)})
    with tenant_transaction(site.tenant_id) as session:
        assert gsc_progress.cancel(session, job_id)
    assert send_and_deliver(worker, queues, messages) == set()
    assert stored_rows(site) == {}
    assert chunk_statuses(site, job_id) == ["skipped"]
    state = job_state(site, job_id)
    assert (state["status"], state["chunks_skipped"], state["chunks_done"], state["rows_loaded"]) == (
        "cancelled",
        1,
        0,
        0,
    )


def test_job_progress_moves_as_chunks_load(site):
    job_id = new_job(site, [DAY_1, DAY_2])
    start_day(site, job_id, DAY_1)
    day_1 = [
        write_chunk(site, job_id, f"d1-{n}", rows_for(DAY_1, 100 + n, search_type=("web", "image")[n]), day=DAY_1)
        for n in range(2)
    ]
    finish_day(site, job_id, DAY_1, day_1)
    state = job_state(site, job_id)
    assert (state["status"], state["percent"], state["days_done"], state["chunks_done"], state["chunks_total"]) == (
        "running",
        25,
        0,
        0,
        2,
    )
    load_chunk(day_1[0])
    state = job_state(site, job_id)
    assert (state["percent"], state["days_done"], state["chunks_done"], state["rows_loaded"]) == (37, 0, 1, 100)
    load_chunk(day_1[1])
    state = job_state(site, job_id)
    assert (state["percent"], state["days_done"], state["chunks_done"], state["rows_loaded"]) == (50, 1, 2, 201)

    # Day 2's chunks load before its sync has finished fetching: the day completes when the fetch does.
    start_day(site, job_id, DAY_2)
    day_2 = [write_chunk(site, job_id, f"d2-{n}", rows_for(DAY_2, 50), day=DAY_2) for n in range(2)]
    for message in day_2:
        load_chunk(message)
    state = job_state(site, job_id)
    assert (state["status"], state["percent"], state["days_done"], state["chunks_done"]) == ("running", 50, 1, 4)
    finish_day(site, job_id, DAY_2, day_2)
    state = job_state(site, job_id)
    assert (state["status"], state["percent"], state["days_done"], state["days_total"]) == ("succeeded", 100, 2, 2)
    assert (state["chunks_done"], state["chunks_total"], state["rows_loaded"], state["rows_changed"]) == (
        4,
        4,
        301,
        251,  # day 2's two chunks carry the same 50 rows
    )


# ---------------------------------------------------------------- rejected chunks
def test_a_malformed_row_quarantines_the_message_and_writes_nothing(site, queues, worker):
    rows = rows_for(DAY_1, 10)
    rows[6] = dict(rows[6], country="USA")  # line 7
    job_id, messages = synced_job(site, {"web-0": rows})
    assert send_and_deliver(worker, queues, messages) == set()  # quarantined, not retried

    quarantined = dlq_messages(queues)
    assert [m["Body"] for m in quarantined] == [messages[0].model_dump_json()]
    reason = quarantined[0]["MessageAttributes"]["kestrel.quarantine_reason"]["StringValue"]
    assert "line 7" in reason
    assert "country" in reason
    assert messages[0].key in reason
    assert stored_rows(site) == {}
    assert rollup(site) == {}
    assert chunk_statuses(site, job_id) == ["pending"]
    # The day fails with the reason, so the job ends instead of waiting for the chunk forever.
    state = job_state(site, job_id)
    assert (state["status"], state["days_failed"]) == ("failed", 1)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"date": "2026-02-30"}, "date: '2026-02-30' is not a calendar date"),
        ({"date": "20261001"}, "date: expected YYYY-MM-DD"),
        ({"search_type": "shopping"}, "search_type: expected one of web, image"),
        ({"device": "mobile"}, "device: expected DESKTOP, MOBILE or TABLET"),
        ({"clicks": -1}, "clicks: expected a non-negative integer"),
        ({"impressions": 1.5}, "impressions: expected a non-negative integer"),
        ({"position": "3"}, "position: expected a non-negative number"),
        ({"query": None}, "query: expected a string"),
        ({"page": "https://example.com/\x00"}, "page: contains a NUL character"),
        ({"ctr": None, "drop": "ctr"}, "ctr: missing"),
        ({"device": ["MOBILE"]}, "device: expected a string, got ['MOBILE']"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_each_kind_of_bad_row_is_rejected_naming_its_line(site, change, reason):
    rows = rows_for(DAY_1, 5)
    bad = dict(rows[2], **{k: v for k, v in change.items() if k != "drop"})
    bad.pop(change.get("drop", ""), None)
    rows[2] = bad
    _, messages = synced_job(site, {"web-0": rows})
    with pytest.raises(gsc_rows.RowRejected) as info:
        load_chunk(messages[0])
    assert info.value.detail.startswith(f"{messages[0].key}: line 3: {reason}")
    assert stored_rows(site) == {}


def test_integral_ctr_and_position_load(site):
    rows = [dict(row, ctr=0, position=3) for row in rows_for(DAY_1, 5)]
    _, messages = synced_job(site, {"web-0": rows})
    load_chunk(messages[0])
    assert stored_values(site) == values_of(rows)
    assert {value[2:] for value in stored_values(site).values()} == {(0.0, 3.0)}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            gzip.compress(b"\n".join(orjson.dumps(row) for row in rows_for(DAY_1, 2)) + b"\n{oops\n"),
            "line 3: not valid JSON",
        ),
        (b"date,search_type\n2026-10-01,web\n", "not a gzip NDJSON chunk"),
    ],
    ids=["bad-json-line", "not-gzip"],
)
def test_an_unreadable_chunk_is_rejected(site, body, reason):
    job_id = new_job(site)
    message = write_chunk(site, job_id, "web-0", [])
    s3().put_object(Bucket=CHUNKS_BUCKET, Key=message.key, Body=body)
    with pytest.raises(ChunkRejected, match=reason):
        load_chunk(message)
    assert stored_rows(site) == {}
    assert job_state(site, job_id)["days_failed"] == 1


def test_a_missing_chunk_object_is_permanent(site, queues, worker):
    job_id, messages = synced_job(site, {"web-0": rows_for(DAY_1, 10)})
    message = messages[0].model_copy(update={"key": messages[0].key.replace("web-0", "gone")})
    assert send_and_deliver(worker, queues, [message]) == set()
    quarantined = dlq_messages(queues)
    assert len(quarantined) == 1
    reason = quarantined[0]["MessageAttributes"]["kestrel.quarantine_reason"]["StringValue"]
    assert reason == f"The chunk object s3://{CHUNKS_BUCKET}/{message.key} does not exist."
    assert stored_rows(site) == {}
    assert job_state(site, job_id)["days_failed"] == 1


def test_a_chunk_without_its_job_is_permanent(site):
    job_id, messages = synced_job(site, {"web-0": rows_for(DAY_1, 10)})
    with pytest.raises(PermanentError, match="does not exist"):
        load_chunk(messages[0].model_copy(update={"job_id": uuid.uuid4()}))
    assert stored_rows(site) == {}
    assert chunk_statuses(site, job_id) == ["pending"]


def test_a_plain_insert_that_meets_stored_rows_falls_back_to_the_upsert(site):
    """Rows stored without a rollup row (as a concurrent loader's look, uncommitted, when the check ran)."""
    rows = rows_for(DAY_1, 100)
    with tenant_transaction(site.tenant_id) as session:
        for row in rows[:10]:
            session.execute(
                text(
                    "INSERT INTO gsc_rows (tenant_id, property_id, date, search_type, query, page, country, device,"
                    " clicks, impressions, ctr, position)"
                    " VALUES (:t, :p, :date, :search_type, :query, :page, :country, :device, 0, 1, 0, 99)"
                ),
                {"t": site.tenant_id, "p": site.property_id, **row},
            )
    job_id, messages = synced_job(site, {"web-0": rows})
    load_chunk(messages[0])
    assert stored_values(site) == values_of(rows)
    assert job_state(site, job_id)["rows_changed"] == 100
    assert_rollup_matches_rows(site)
