"""The rollup worker: the load's outbox, the aggregates rebuilt for pending days, the sweep, the handler.

Every aggregate is compared with a computation from the rows loaded, done here in Python independently
of the SQL.
"""

import datetime as dt
import json
import random
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from shared.auth import Principal
from shared.db import system_transaction, tenant_transaction
from shared.errors import ConfigurationError, UnknownTenant
from shared.jobs.data import jobs
from shared.jobs.models import JobKind
from shared.projects import projects
from shared.projects.models import ProjectIn, PropertyIn
from shared.reports import rollup as gsc_rollup_logic
from shared.reports.data import rollups
from shared.reports.models.rollup import RollupPropertyMessage
from shared.reports.rollup import RollupResult, request_rollup, rollup_property, sweep
from shared.search_console import chunks as gsc_chunks
from shared.search_console import progress
from shared.search_console.ingest import load_chunk
from shared.search_console.models import LoadChunkMessage
from tests.integration.conftest import CHUNKS_BUCKET
from tests.support.queues import create_worker_queues, deliver, receive, sqs
from tests.support.tenants import new_tenant

WEEK_1 = dt.date(2026, 9, 28)  # a Monday
COUNTRIES = ("usa", "gbr", "deu")
DEVICES = ("DESKTOP", "MOBILE", "TABLET")
PAGES = tuple(f"https://example.com/{name}" for name in ("", "shoes", "boots", "socks"))
NEW_PAGE = "https://example.com/new"  # first seen on a Wednesday
NEW_PAGE_FROM = WEEK_1 + dt.timedelta(days=9)


def day(n: int) -> dt.date:
    return WEEK_1 + dt.timedelta(days=n)


def monday(value: dt.date) -> dt.date:
    return value - dt.timedelta(days=value.weekday())


# ---------------------------------------------------------------- fixtures and helpers
@dataclass
class Site:
    tenant_id: str
    project_id: uuid.UUID
    property_id: uuid.UUID

    @property
    def principal(self) -> Principal:
        return Principal(subject="auth0|rollup", tenant_id=self.tenant_id, permissions=frozenset())


def new_site(owner_url: str) -> Site:
    tenant_id = new_tenant(owner_url)
    principal = Principal(subject="auth0|rollup", tenant_id=tenant_id, permissions=frozenset())
    domain = f"{tenant_id.replace('_', '-')}.example.com"
    project = projects.create_project(principal, ProjectIn(name="Site", domain=domain))
    prop = projects.create_property(principal, project.id, PropertyIn(site_url=f"https://{domain}/"))
    return Site(tenant_id, project.id, prop.id)


def new_site_like(site: Site) -> Site:
    """Another property of the same tenant and project."""
    prop = projects.create_property(
        site.principal, site.project_id, PropertyIn(site_url=f"sc-domain:{uuid.uuid4().hex}.com")
    )
    return Site(site.tenant_id, site.project_id, prop.id)


@pytest.fixture
def site(platform) -> Site:
    return new_site(platform.owner_url)


@pytest.fixture
def rollup_queue(platform):
    """A fresh rollup queue (with its DLQ) that loads and the sweep send to, with a one-second delay."""
    queues = create_worker_queues(f"rollup-{uuid.uuid4().hex[:6]}")
    from shared.settings import forget_settings

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KESTREL_ROLLUP_QUEUE_URL", queues.url)
        patch.setenv("KESTREL_ROLLUP_DELAY_SECONDS", "1")
        patch.setenv("KESTREL_DLQ_URL", queues.dlq_url)
        forget_settings()
        yield queues
    forget_settings()


@pytest.fixture
def worker(rollup_queue):
    from functions.rollup.handler import handler

    return handler


Key = tuple[dt.date, str, str, str, str, str]  # date, search type, query, page, country, device
Values = tuple[int, int, float]  # clicks, impressions, position


def make_rows(days: Iterable[dt.date], *, seed: int) -> dict[Key, Values]:
    """Rows of several search types, queries, pages, countries and devices; some with no impressions."""
    rng = random.Random(seed)
    rows: dict[Key, Values] = {}
    combos = [(country, device) for country in COUNTRIES for device in DEVICES]
    for date in days:
        for search_type in ("web", "image", "discover"):
            queries = [""] if search_type == "discover" else ["boots", "running shoes", "wool socks"]
            pages = PAGES + ((NEW_PAGE,) if date >= NEW_PAGE_FROM else ())
            for query in queries:
                for page in pages:
                    if rng.random() < 0.2:
                        continue  # not every query shows every page every day
                    for country, device in rng.sample(combos, rng.randint(1, 3)):
                        impressions = 0 if rng.random() < 0.15 else rng.randint(1, 400)
                        clicks = rng.randint(0, impressions // 3) if impressions else 0
                        rows[(date, search_type, query, page, country, device)] = (
                            clicks,
                            impressions,
                            round(rng.uniform(1, 60), 2),
                        )
    return rows


def as_chunk_rows(rows: dict[Key, Values]) -> list[dict[str, Any]]:
    return [
        {
            "date": key[0].isoformat(),
            "search_type": key[1],
            "query": key[2],
            "page": key[3],
            "country": key[4],
            "device": key[5],
            "clicks": clicks,
            "impressions": impressions,
            "ctr": clicks / impressions if impressions else 0.0,
            "position": position,
        }
        for key, (clicks, impressions, position) in sorted(rows.items())
    ]


def load(site: Site, rows: dict[Key, Values], *, chunk_rows: int = 400) -> list[LoadChunkMessage]:
    """Write the rows as chunks of a new job and load them through gsc_ingest, one chunk after another."""
    with tenant_transaction(site.tenant_id) as session:
        job = jobs.create(session, kind=JobKind.GSC_BACKFILL, project_id=site.project_id, input={}, created_by=None)
    lines = as_chunk_rows(rows)
    messages = []
    for part, start in enumerate(range(0, len(lines), chunk_rows)):
        key = gsc_chunks.chunk_key(site.tenant_id, site.property_id, job.id, f"part-{part}")
        count = gsc_chunks.write_chunk(CHUNKS_BUCKET, key, lines[start : start + chunk_rows])
        message = LoadChunkMessage(
            tenant_id=site.tenant_id,
            job_id=job.id,
            property_id=site.property_id,
            bucket=CHUNKS_BUCKET,
            key=key,
            rows=count,
        )
        load_chunk(message)
        messages.append(message)
    return messages


def pending(site: Site) -> set[dt.date]:
    with tenant_transaction(site.tenant_id) as session:
        return set(
            session.scalars(text("SELECT date FROM gsc_rollup_pending WHERE property_id = :p"), {"p": site.property_id})
        )


# table -> (key columns, value columns)
TABLES = {
    "gsc_query_page_daily": ("date, search_type, query, page", "clicks, impressions, position_weighted"),
    "gsc_dimension_daily": ("date, search_type, country, device", "clicks, impressions, position_weighted"),
    "gsc_query_page_weekly": ("week, search_type, query, page", "clicks, impressions, position_weighted"),
    "gsc_page_weekly": ("search_type, page, week", "clicks, impressions, position_weighted, clicks_4w"),
}


def stored(site: Site, table: str, *, xmin: bool = False) -> dict[tuple, tuple]:
    keys, values = TABLES[table]
    width = keys.count(",") + 1
    columns = f"{keys}, {values}" + (", xmin::text" if xmin else "")
    with tenant_transaction(site.tenant_id) as session:
        result = session.execute(text(f"SELECT {columns} FROM {table} WHERE property_id = :p"), {"p": site.property_id})
        return {tuple(row[:width]): tuple(row[width:]) for row in result}


def expected(rows: dict[Key, Values]) -> dict[str, dict[tuple, tuple]]:
    """Every aggregate table as computed here from the rows, with plain loops."""
    sums: dict[str, dict[tuple, list]] = {table: {} for table in TABLES}

    def add(table: str, key: tuple, clicks: int, impressions: int, weighted: float) -> None:
        totals = sums[table].setdefault(key, [0, 0, 0.0])
        totals[0] += clicks
        totals[1] += impressions
        totals[2] += weighted

    for (date, search_type, query, page, country, device), (clicks, impressions, position) in rows.items():
        week = monday(date)
        weighted = position * impressions
        add("gsc_query_page_daily", (date, search_type, query, page), clicks, impressions, weighted)
        add("gsc_dimension_daily", (date, search_type, country, device), clicks, impressions, weighted)
        add("gsc_query_page_weekly", (week, search_type, query, page), clicks, impressions, weighted)
        add("gsc_page_weekly", (search_type, page, week), clicks, impressions, weighted)
    result: dict[str, dict[tuple, tuple]] = {}
    for table, groups in sums.items():
        result[table] = {
            key: (clicks, impressions, pytest.approx(weighted, rel=1e-12, abs=1e-9))
            for key, (clicks, impressions, weighted) in groups.items()
        }
    pages = sums["gsc_page_weekly"]
    for (search_type, page, week), values in result["gsc_page_weekly"].items():
        window = (week - dt.timedelta(weeks=n) for n in range(4))
        clicks_4w = sum(pages[(search_type, page, w)][0] for w in window if (search_type, page, w) in pages)
        result["gsc_page_weekly"][(search_type, page, week)] = (*values, clicks_4w)
    return result


def assert_aggregates_match(site: Site, rows: dict[Key, Values]) -> None:
    for table, want in expected(rows).items():
        got = stored(site, table)
        assert set(got) == set(want), table
        assert got == want, table


def rollup_requests(queue_url: str, *, count: int) -> list[dict[str, Any]]:
    """The bodies of ``count`` rollup requests (waiting out their delay), removed from the queue."""
    messages = receive(queue_url, count)
    for message in messages:
        sqs().delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(message["Body"]) for message in messages]


def queue_counts(queue_url: str) -> tuple[int, int]:
    """(visible, delayed) messages."""
    attributes = sqs().get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesDelayed"])


def property_message(site: Site) -> dict[str, str]:
    return {"kind": "property", "tenant_id": site.tenant_id, "property_id": str(site.property_id)}


# ---------------------------------------------------------------- the outbox and the rebuild
def test_loads_queue_days_and_the_rollup_rebuilds_exactly_what_changed(site, rollup_queue):
    # Thursday of week 1 to Sunday of week 3; week 4 comes later.
    rows = make_rows([day(n) for n in range(3, 21)], seed=1)
    # One chunk holds a Sunday and the Monday after it: a load spanning two ISO weeks.
    sunday_monday = {key: value for key, value in rows.items() if key[0] in (day(6), day(7))}
    others = {key: value for key, value in rows.items() if key not in sunday_monday}
    load(site, sunday_monday, chunk_rows=10_000)
    assert queue_counts(rollup_queue.url) == (0, 1)  # asked for, after the delay
    assert pending(site) == {day(6), day(7)}
    assert rollup_requests(rollup_queue.url, count=1) == [property_message(site)]
    load(site, others)
    assert pending(site) == {day(n) for n in range(3, 21)}
    assert stored(site, "gsc_query_page_daily") == {}  # nothing is built before the rollup runs
    requests = rollup_requests(rollup_queue.url, count=len(range(0, len(others), 400)))  # one a chunk
    assert all(request == property_message(site) for request in requests)

    assert rollup_property(site.tenant_id, site.property_id) == RollupResult(days=18, weeks=3)
    assert pending(site) == set()
    assert_aggregates_match(site, rows)
    assert {key[2] for key in stored(site, "gsc_page_weekly") if key[1] == NEW_PAGE} == {day(7), day(14)}
    assert min(key[0] for key in stored(site, "gsc_query_page_daily") if key[3] == NEW_PAGE) == NEW_PAGE_FROM
    assert any(value[1] == 0 for value in stored(site, "gsc_query_page_daily").values())  # zero impressions

    # The same rows again: nothing changes, nothing is queued or asked for.
    load(site, rows, chunk_rows=10_000)
    assert pending(site) == set()
    time.sleep(1.2)
    assert queue_counts(rollup_queue.url) == (0, 0)
    assert rollup_property(site.tenant_id, site.property_id) == RollupResult(days=0, weeks=0)

    # Search Console revises a day of week 1 (clicks and positions), and a new day of week 4 arrives.
    before = {table: stored(site, table, xmin=True) for table in TABLES}
    revised_day, new_day = day(4), day(22)
    revision = {
        key: (clicks + 3, impressions, position + 0.5)
        for key, (clicks, impressions, position) in rows.items()
        if key[0] == revised_day and key[1] == "web"
    }
    revision |= make_rows([new_day], seed=2)
    load(site, revision, chunk_rows=10_000)
    rows |= revision
    assert pending(site) == {revised_day, new_day}
    assert rollup_requests(rollup_queue.url, count=1) == [property_message(site)]

    assert rollup_property(site.tenant_id, site.property_id) == RollupResult(days=2, weeks=2)
    assert_aggregates_match(site, rows)
    after = {table: stored(site, table, xmin=True) for table in TABLES}
    # Only the two days and their weeks were rebuilt (new row versions); nothing else was written...
    rebuilt_days, rebuilt_weeks = {revised_day, new_day}, {WEEK_1, monday(new_day)}
    for table, period in (
        ("gsc_query_page_daily", 0),
        ("gsc_dimension_daily", 0),
        ("gsc_query_page_weekly", 0),
        ("gsc_page_weekly", 2),
    ):
        for key, value in before[table].items():
            if key[period] in (rebuilt_weeks if "weekly" in table else rebuilt_days):
                assert after[table][key][-1] != value[-1], (table, key)
            elif table != "gsc_page_weekly":
                assert after[table][key] == value, (table, key)
    # ...but clicks_4w of the revised pages in the weeks after week 1 (whose 28-day windows hold it).
    page_weekly_before, page_weekly_after = before["gsc_page_weekly"], after["gsc_page_weekly"]
    for week in (day(7), day(14)):
        in_week = [key for key in page_weekly_before if key[2] == week]
        moved = [key for key in in_week if page_weekly_after[key] != page_weekly_before[key]]
        assert moved
        for key in moved:
            assert key[0] == "web"
            assert page_weekly_after[key][:3] == page_weekly_before[key][:3]
            assert page_weekly_after[key][3] > page_weekly_before[key][3]
        assert len(moved) < len(in_week)  # the others were not rewritten (same row version)

    # Nothing left: a second rollup does nothing.
    assert rollup_property(site.tenant_id, site.property_id) == RollupResult(days=0, weeks=0)


def test_a_backlog_is_rebuilt_a_few_whole_weeks_per_transaction(site, rollup_queue, monkeypatch):
    rows = make_rows([day(n) for n in range(2, 26)], seed=12)  # Wednesday of week 1 to Friday of week 4
    load(site, rows, chunk_rows=10_000)
    rollup_requests(rollup_queue.url, count=1)
    monkeypatch.setattr(gsc_rollup_logic, "MAX_WEEKS_PER_TRANSACTION", 2)
    transactions: list[list[dt.date]] = []
    take_pending = rollups.take_pending

    def spy(*args: Any, **kwargs: Any) -> list[dt.date]:
        taken = take_pending(*args, **kwargs)
        transactions.append(taken)
        return taken

    monkeypatch.setattr(rollups, "take_pending", spy)
    assert rollup_property(site.tenant_id, site.property_id) == RollupResult(days=24, weeks=4)
    assert transactions == [[day(n) for n in range(2, 14)], [day(n) for n in range(14, 26)], []]
    assert_aggregates_match(site, rows)

    # Out of time after the first transaction: the rest is asked for again.
    load(site, {key: (c + 1, i, p) for key, (c, i, p) in rows.items() if key[1] == "image"}, chunk_rows=10_000)
    rollup_requests(rollup_queue.url, count=1)
    monkeypatch.setattr(gsc_rollup_logic, "TIME_BUDGET_SECONDS", -1.0)
    assert rollup_property(site.tenant_id, site.property_id) == RollupResult(days=12, weeks=2)
    assert pending(site) == {day(n) for n in range(14, 26)}
    assert rollup_requests(rollup_queue.url, count=1) == [property_message(site)]


def test_rows_that_vanish_take_their_page_weeks_and_windows_with_them(site):
    """Loads never delete rows; should anything else, the rebuilt days and weeks still follow the rows."""
    rows = make_rows([day(n) for n in range(0, 21)], seed=13)
    load(site, rows, chunk_rows=10_000)
    rollup_property(site.tenant_id, site.property_id)
    gone = {key for key in rows if key[1] == "web" and key[3] == PAGES[1] and key[0] < day(7)}  # a page's week 1
    with tenant_transaction(site.tenant_id) as session:
        session.execute(
            text("DELETE FROM gsc_rows WHERE property_id = :p AND search_type = 'web' AND page = :page AND date < :d"),
            {"p": site.property_id, "page": PAGES[1], "d": day(7)},
        )
        rollups.mark_pending(session, site.property_id, {key[0] for key in gone})
    for key in gone:
        del rows[key]
    rollup_property(site.tenant_id, site.property_id)
    assert ("web", PAGES[1], WEEK_1) not in stored(site, "gsc_page_weekly")
    assert_aggregates_match(site, rows)  # clicks_4w of the page's weeks 2 and 3 included


def test_a_load_that_fails_queues_nothing(site, rollup_queue, monkeypatch):
    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the loader died before its commit")

    monkeypatch.setattr(progress, "chunk_loaded", crash)
    with pytest.raises(RuntimeError):
        load(site, make_rows([day(0)], seed=3))
    assert pending(site) == set()
    assert queue_counts(rollup_queue.url) == (0, 0)


def test_a_failed_rollup_request_is_only_logged(site, platform, moto):
    from shared.settings import forget_settings

    rows = make_rows([day(0)], seed=4)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KESTREL_ROLLUP_QUEUE_URL", f"{moto.endpoint}/123456789012/no-such-queue")
        forget_settings()
        load(site, rows, chunk_rows=10_000)  # does not raise
    forget_settings()
    assert pending(site) == {day(0)}  # the sweep will find it
    assert rollup_property(site.tenant_id, site.property_id) == RollupResult(days=1, weeks=1)
    assert_aggregates_match(site, rows)


def test_two_properties_roll_up_independently(site):
    other = new_site_like(site)
    rows = make_rows([day(n) for n in range(0, 10)], seed=5)
    other_rows = make_rows([day(n) for n in range(5, 15)], seed=6)
    load(site, rows)
    load(other, other_rows)
    assert rollup_property(site.tenant_id, site.property_id) == RollupResult(days=10, weeks=2)
    assert_aggregates_match(site, rows)
    assert pending(other) == {day(n) for n in range(5, 15)}
    assert all(stored(other, table) == {} for table in TABLES)
    assert rollup_property(other.tenant_id, other.property_id) == RollupResult(days=10, weeks=3)
    assert_aggregates_match(other, other_rows)
    assert_aggregates_match(site, rows)


def test_a_load_during_a_rollup_is_not_lost(site):
    """A load that queues an already pending day holds it until it commits; the rollup waits and sees its rows."""
    rows = make_rows([day(0), day(1)], seed=7)
    load(site, rows, chunk_rows=10_000)
    key = next(key for key, value in rows.items() if key[0] == day(1) and value[1] > 0)
    with tenant_transaction(site.tenant_id) as session:
        # What a concurrent load of the day does before its commit: change rows, queue the day.
        session.execute(
            text(
                "UPDATE gsc_rows SET clicks = clicks + 100 WHERE property_id = :p AND date = :d AND search_type = :t"
                " AND query = :q AND page = :page AND country = :c AND device = :dev"
            ),
            {"p": site.property_id, "d": key[0], "t": key[1], "q": key[2], "page": key[3], "c": key[4], "dev": key[5]},
        )
        rollups.mark_pending(session, site.property_id, {day(1)})
        results: list[RollupResult] = []
        rollup = threading.Thread(target=lambda: results.append(rollup_property(site.tenant_id, site.property_id)))
        rollup.start()
        time.sleep(0.3)
        assert rollup.is_alive()  # waiting for the load
    rollup.join()
    assert results == [RollupResult(days=2, weeks=1)]
    clicks, impressions, position = rows[key]
    rows[key] = (clicks + 100, impressions, position)
    assert_aggregates_match(site, rows)
    assert pending(site) == set()


def test_a_deleted_property_or_an_unknown_tenant(site, worker):
    load(site, make_rows([day(0)], seed=8))
    projects.delete_property(site.principal, site.project_id, site.property_id)
    assert rollup_property(site.tenant_id, site.property_id) == RollupResult(days=0, weeks=0)
    from functions.rollup.handler import worker as rollup_worker

    ghost = RollupPropertyMessage(tenant_id=f"org_{uuid.uuid4().hex[:8]}", property_id=site.property_id)
    with pytest.raises(UnknownTenant, match="Unknown tenant"):  # the worker runtime checks the tenant
        rollup_worker.process(ghost)


def test_aggregates_of_one_tenant_are_invisible_to_another(platform, site):
    load(site, make_rows([day(0), day(1)], seed=9))
    rollup_property(site.tenant_id, site.property_id)
    load(site, make_rows([day(2)], seed=9))  # and a day pending
    other = new_site(platform.owner_url)
    for table in (*TABLES, "gsc_rollup_pending"):
        query = text(f"SELECT count(*) FROM {table} WHERE property_id = :p")
        with tenant_transaction(site.tenant_id) as session:
            assert session.scalar(query, {"p": site.property_id}) > 0
        with tenant_transaction(other.tenant_id) as session:
            assert session.scalar(query, {"p": site.property_id}) == 0
            assert session.scalar(text(f"SELECT count(*) FROM {table}")) == 0
    # Nor can it roll them up: its transaction does not see the property.
    assert rollup_property(other.tenant_id, site.property_id) == RollupResult(days=0, weeks=0)
    assert pending(site) == {day(2)}


# ---------------------------------------------------------------- the sweep and the handler
def test_sweep_asks_for_every_property_with_pending_days_across_tenants(platform, rollup_queue):
    first, second = new_site(platform.owner_url), new_site(platform.owner_url)
    done = new_site_like(first)
    for target in (first, second, done):
        load(target, make_rows([day(0)], seed=10), chunk_rows=10_000)
    rollup_requests(rollup_queue.url, count=3)  # the loads' own requests, lost
    rollup_property(done.tenant_id, done.property_id)
    with system_transaction() as session:
        backlog = {(target.tenant_id, target.property_id) for target in rollups.backlog(session)}

    sent = sweep()
    requests = rollup_requests(rollup_queue.url, count=sent)
    assert sent == len(backlog)
    assert {(r["tenant_id"], uuid.UUID(r["property_id"])) for r in requests} == backlog
    assert all(r["kind"] == "property" for r in requests)
    assert len(requests) == len(backlog)  # one message per property, not per day
    assert {(first.tenant_id, first.property_id), (second.tenant_id, second.property_id)} <= backlog
    assert (done.tenant_id, done.property_id) not in backlog


def test_a_missing_rollup_queue_is_a_configuration_error_never_a_silent_drop(platform):
    from shared.settings import forget_settings

    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("KESTREL_ROLLUP_QUEUE_URL")
        forget_settings()
        with pytest.raises(ConfigurationError, match="KESTREL_ROLLUP_QUEUE_URL"):
            sweep()
        with pytest.raises(ConfigurationError, match="KESTREL_ROLLUP_QUEUE_URL"):
            request_rollup("org_any", uuid.uuid4())
    forget_settings()


def test_the_handler_rolls_up_a_property_and_fans_the_sweep_out(site, rollup_queue, worker):
    rows = make_rows([day(n) for n in range(0, 8)], seed=11)
    load(site, rows, chunk_rows=10_000)
    request = receive(rollup_queue.url, 1)
    assert json.loads(request[0]["Body"]) == property_message(site)
    assert deliver(worker, request, rollup_queue, function_name="rollup") == set()
    assert pending(site) == set()
    assert_aggregates_match(site, rows)

    # A revision whose request is lost; the nightly sweep finds the day.
    revision = {key: (clicks + 1, impressions, position) for key, (clicks, impressions, position) in rows.items()}
    revision = {key: value for key, value in revision.items() if key[0] == day(7)}
    load(site, revision, chunk_rows=10_000)
    rows |= revision
    rollup_requests(rollup_queue.url, count=1)
    assert pending(site) == {day(7)}
    sqs().send_message(QueueUrl=rollup_queue.url, MessageBody='{"kind": "sweep"}')
    assert deliver(worker, receive(rollup_queue.url, 1), rollup_queue, function_name="rollup") == set()
    with system_transaction() as session:
        backlog = rollups.backlog(session)
    fanned_out = receive(rollup_queue.url, len(backlog))
    ours = [m for m in fanned_out if json.loads(m["Body"]) == property_message(site)]
    assert len(ours) == 1
    for message in fanned_out:
        if message not in ours:
            sqs().delete_message(QueueUrl=rollup_queue.url, ReceiptHandle=message["ReceiptHandle"])
    assert deliver(worker, ours, rollup_queue, function_name="rollup") == set()
    assert pending(site) == set()
    assert_aggregates_match(site, rows)


def test_the_handler_quarantines_an_unknown_tenant_and_a_bad_message(rollup_queue, worker):
    unknown = {"kind": "property", "tenant_id": f"org_{uuid.uuid4().hex[:8]}", "property_id": str(uuid.uuid4())}
    for body in (json.dumps(unknown), '{"kind": "everything"}'):
        sqs().send_message(QueueUrl=rollup_queue.url, MessageBody=body)
    assert deliver(worker, receive(rollup_queue.url, 2), rollup_queue, function_name="rollup") == set()
    quarantined = receive(rollup_queue.dlq_url, 2)
    reasons = {m["Body"]: m["MessageAttributes"]["kestrel.quarantine_reason"]["StringValue"] for m in quarantined}
    assert reasons[json.dumps(unknown)].startswith("Unknown tenant")
    assert reasons['{"kind": "everything"}'].startswith("Invalid message")
