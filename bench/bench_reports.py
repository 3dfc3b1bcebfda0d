"""The reports API over the rollup aggregates vs the same reports computed straight from gsc_rows.

30,000,000 synthetic ``gsc_rows`` of one tenant over 20 properties (the
largest 8,000,000, the small one 150,000), 16 months ending on a fixed day,
are generated inside PostgreSQL (bench/report_data.py), with the daily rollup
and the pending days gsc_ingest would have left; the report aggregates are
then built by the real rollup (``rollup_property``, called per property until
nothing is pending, as the rollup queue would). All of it is kept in a
dedicated embedded PostgreSQL under ``.state/`` with a marker of what was
built, so a later run only times: a changed dataset spec or generator builds
everything again; a new migration is applied to the kept database and, like a
change to the rollup's code, only rebuilds the aggregates. ``--rebuild``
builds everything again; ``--quick`` uses a tiny dataset of its own and few
iterations.

Timed, for every report in ``shared.reports.registry.REPORTS``, over the last 28
and 90 days, on the largest and the small property:

* the API: the real Lambda handler (``functions.api_reports.handler``) called
  in-process with API Gateway HTTP v2 events carrying JWT claims, so routing,
  validation, authorization, the report and JSON serialization are all in;
  warm-up calls first, then rounds of one call per case in a shuffled order
  (the machine is shared and noisy: a slow spell hits every case alike);
* the same report computed from raw ``gsc_rows`` (run inside ``reading_raw_rows()``),
  a few calls each, in rounds too; and whether both gave the same report.

Goals: p95 <= 150 ms for every report on the largest property, <= 50 ms for
the performance dashboard (the performance report by day, compared with the
previous period). Cases of the largest property missing their goal get the
EXPLAIN ANALYZE of their 90-day statements (as the application role, in the
tenant's transaction) in .state/bench-reports-explain.txt. The last line is
machine-readable.

    make bench-reports            # first run ~20 min (generation, rollup), then ~3 min
    .venv/bin/python -m bench.bench_reports --quick
"""

import argparse
import datetime as dt
import hashlib
import inspect
import json
import math
import os
import random
import shutil
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from bench import report_data
from bench.report_data import DatasetSpec, Pool, Site
from kestrel_local.config import PROJECT_ROOT
from kestrel_local.moto_server import start_moto
from kestrel_local.postgres import LocalDatabase, drop_database, provision, start_embedded

DATA_DIR = PROJECT_ROOT / ".state" / "bench-reports-postgres"
EXPLAIN_FILE = PROJECT_ROOT / ".state" / "bench-reports-explain.txt"
REGION = "eu-west-1"
DASHBOARD = "performance"
# Parameters besides the range, by report: its defaults, made explicit where the issue names them. Every
# report of the registry is timed; those not named here with their defaults.
REPORT_PARAMS: dict[str, dict[str, str]] = {
    "performance": {"granularity": "day", "compare": "previous_period"},  # the performance-over-time dashboard
    "breakdown": {"dimension": "query", "sort": "clicks", "order": "desc", "limit": "50"},
    "ctr-opportunities": {"level": "query"},
}
RANGES = (28, 90)
GOAL_MS = 150.0
DASHBOARD_GOAL_MS = 50.0
WARMUP_CALLS = 2
ITERATIONS = 30
RAW_CALLS_LARGE = 3
RAW_CALLS_SMALL = 5
PERMISSIONS = ("read:projects",)
MIN_FREE_GB = {"full": 20, "quick": 2}
BUILD_STATEMENT_TIMEOUT_MS = 3_600_000  # the build and the raw baseline may take longer than the API's 60 s
APP_STATEMENT_TIMEOUT_MS = 60_000  # shared.settings default: what the API runs with
GENERATORS = 2  # the machine's cores


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------- environment
def configure(database: LocalDatabase, endpoint: str, *, statement_timeout_ms: int) -> None:
    os.environ.update(
        {
            "KESTREL_STAGE": "local",  # the stages settings know; the bench runs on local infrastructure
            "KESTREL_DATABASE_URL": database.app_url,
            "KESTREL_MIGRATION_DATABASE_URL": database.owner_url,
            "KESTREL_DB_SSLMODE": "disable",
            "KESTREL_DB_STATEMENT_TIMEOUT_MS": str(statement_timeout_ms),
            "KESTREL_SENTRY_DSN_SECRET_NAME": "",
            "KESTREL_AUTH_ISSUER": "https://kestrel.eu.auth0.com/",
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "POWERTOOLS_TRACE_DISABLED": "1",
            # An unhandled error logs its whole traceback as JSON; the bench reports the error itself.
            "POWERTOOLS_LOG_LEVEL": "CRITICAL",
            "POWERTOOLS_METRICS_NAMESPACE": "Kestrel/bench",
        }
    )
    from shared.runtime.cache import reset_cached_runtime

    reset_cached_runtime()


def statement_timeout(ms: int) -> None:
    """The statement timeout of the application's transactions from now on (a new engine)."""
    os.environ["KESTREL_DB_STATEMENT_TIMEOUT_MS"] = str(ms)
    from shared.runtime.cache import reset_cached_runtime

    reset_cached_runtime()


def conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def admin(database: LocalDatabase) -> psycopg.Connection[Any]:
    return psycopg.connect(conninfo(database.admin_url), autocommit=True)


def tune_server(admin_url: str) -> None:
    """Fewer checkpoints while tens of GB are written (the bench's own server; reads are not affected)."""
    with psycopg.connect(conninfo(admin_url), autocommit=True) as conn:
        if conn.execute("SHOW max_wal_size").fetchone() != ("8GB",):
            conn.execute("ALTER SYSTEM SET max_wal_size = '8GB'")
            conn.execute("ALTER SYSTEM SET checkpoint_timeout = '30min'")
            conn.execute("SELECT pg_reload_conf()")


def migration_head() -> str:
    from alembic.script import ScriptDirectory

    from shared.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head() or "base"


def rollup_digest() -> str:
    """The rollup's code: when it changes, the aggregates are rebuilt (not the rows)."""
    from shared.reports import rollup as logic
    from shared.reports.data import rollups as dal

    return hashlib.sha256((inspect.getsource(dal) + inspect.getsource(logic)).encode()).hexdigest()[:16]


@dataclass
class Marker:
    spec_hash: str
    migration_head: str | None
    rollup_hash: str | None
    built_at: dt.datetime
    timings: dict[str, Any]


def read_marker(database: LocalDatabase) -> Marker | None:
    with admin(database) as conn:
        if conn.execute("SELECT to_regclass('bench_data.marker')").fetchone() == (None,):
            return None
        cursor = conn.execute("SELECT * FROM bench_data.marker")
        row = cursor.fetchone()
        if row is None:
            return None
        found = dict(zip([column.name for column in cursor.description or ()], row, strict=True))
    return Marker(
        spec_hash=found["spec_hash"],
        migration_head=found.get("migration_head"),  # older markers had none
        rollup_hash=found.get("rollup_hash"),
        built_at=found["built_at"],
        timings=found["timings"],
    )


def free_gb() -> float:
    return shutil.disk_usage(DATA_DIR).free / 1e9


# ---------------------------------------------------------------- building the dataset
@dataclass
class Timer:
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        began = time.perf_counter()
        yield
        self.timings[name] = time.perf_counter() - began


@dataclass
class StatementLog:
    """Every statement the application ran meanwhile, with its duration (SQLAlchemy engine events)."""

    entries: list[tuple[float, str, Any]] = field(default_factory=list)


@contextmanager
def statements() -> Iterator[StatementLog]:
    from sqlalchemy import event

    from shared.db import app_engine

    engine = app_engine()
    log = StatementLog()
    started: list[float] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        started.append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        log.entries.append((time.perf_counter() - started.pop(), statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def vacuum_analyze(database: LocalDatabase, tables: tuple[str, ...]) -> None:
    with admin(database) as conn:
        for table in tables:
            conn.execute(f"VACUUM (ANALYZE) {table}")


# What the rollup writes (those the schema has: later migrations add some).
AGGREGATES = (
    "gsc_query_page_daily",
    "gsc_query_page_weekly",
    "gsc_page_weekly",
    "gsc_dimension_daily",
    "gsc_query_page_window",
    "gsc_rollup_windows",
)


def existing(database: LocalDatabase, tables: tuple[str, ...]) -> tuple[str, ...]:
    with admin(database) as conn:
        return tuple(t for t in tables if conn.execute("SELECT to_regclass(%s)", (t,)).fetchone() != (None,))


def build_aggregates(database: LocalDatabase, spec: DatasetSpec, timer: Timer) -> dict[str, Any]:
    """The report aggregates of every property by the real rollup, as the worker would build them.

    ``rollup_property`` works through a property's pending days a few weeks per transaction and stops when its
    time budget is spent (asking for another run through the queue): it is called again, as the queue would,
    until nothing is pending.
    """
    from shared.reports.rollup import rollup_property

    statement_timeout(BUILD_STATEMENT_TIMEOUT_MS)
    per_property: list[dict[str, Any]] = []
    longest = (0.0, "", "")
    with timer.step("rollup"), statements() as log:
        for site in report_data.sites(spec):
            began = time.perf_counter()
            first = len(log.entries)
            calls = days = weeks = 0
            while True:
                result = rollup_property(report_data.TENANT_ID, site.property_id)
                calls += 1
                if not result.days:
                    break
                days += result.days
                weeks += result.weeks
            seconds = time.perf_counter() - began
            slowest = max(log.entries[first:], key=lambda entry: entry[0])
            if slowest[0] > longest[0]:
                longest = (slowest[0], site.name, " ".join(slowest[1].split())[:160])
            per_property.append(
                {
                    "site": site.name,
                    "days": days,
                    "weeks": weeks,
                    "calls": calls - 1,  # the last found nothing pending
                    "s": seconds,
                    "slowest_s": slowest[0],
                }
            )
            say(
                f"  rollup {site.name}: {days} days, {weeks} weeks in {calls - 1} rollup_property calls,"
                f" {seconds:.1f} s (slowest statement {slowest[0]:.1f} s)"
            )
            if slowest[0] > 30:
                say(f"    slowest: {' '.join(slowest[1].split())[:300]}")
    statement_timeout(APP_STATEMENT_TIMEOUT_MS)
    with timer.step("vacuum_aggregates"):
        vacuum_analyze(database, (*existing(database, AGGREGATES), "gsc_rollup_pending"))
    return {"rollup_per_property": per_property, "rollup_longest_statement": list(longest)}


def build(database: LocalDatabase, spec: DatasetSpec, digest: str, head: str) -> dict[str, Any]:
    """Everything from empty tables: rows, daily rollup, pending days, aggregates; returns the timings."""
    from kestrel_local.tenants import ensure_tenant

    timer = Timer()
    sites = report_data.sites(spec)
    with timer.step("pools"):
        pools = [report_data.build_pool(spec, site) for site in sites]
    say(
        f"Pools: {sum(len(p.queries) for p in pools):,} queries, {sum(len(p.pages) for p in pools):,} pages,"
        f" {sum(len(p.pairs) for p in pools):,} query-page pairs ({timer.timings['pools']:.1f} s)"
    )
    ensure_tenant(database.owner_url, report_data.TENANT_ID, "Bench reports")
    with admin(database) as conn:
        report_data.create_schema(conn, spec)
        report_data.create_sites(conn, spec, pools)
    say(f"Generating {sum(spec.sizes):,} rows in PostgreSQL ({GENERATORS} sessions, largest property first)")
    rows: dict[str, int] = {}

    def generate(pool: Pool) -> None:
        began = time.perf_counter()
        rows[pool.site.name] = report_data.generate_property(conninfo(database.admin_url), spec, pool)
        say(
            f"  {pool.site.name}: {rows[pool.site.name]:,} rows (target {pool.site.target_rows:,})"
            f" in {time.perf_counter() - began:.0f} s"
        )

    with timer.step("generate"), ThreadPoolExecutor(max_workers=GENERATORS) as executor:
        for _ in executor.map(generate, pools):
            pass
    total = sum(rows.values())
    seconds = timer.timings["generate"]
    say(f"Generated {total:,} rows in {seconds:.0f} s ({total / seconds:,.0f} rows/s)")
    with timer.step("vacuum_rows"):
        vacuum_analyze(database, ("gsc_rows", "gsc_daily_rollup", "gsc_rollup_pending"))
    say(f"VACUUM ANALYZE gsc_rows: {timer.timings['vacuum_rows']:.0f} s")
    # The rows are kept even if the aggregates' build is interrupted: a later run only builds those.
    with admin(database) as conn:
        conn.execute("DELETE FROM bench_data.marker")
        conn.execute(
            "INSERT INTO bench_data.marker (spec_hash, spec, migration_head, timings) VALUES (%s, %s, %s, %s)",
            (digest, repr(spec), head, json.dumps(timer.timings)),
        )
    return rebuild_aggregates(database, spec)


def rebuild_aggregates(database: LocalDatabase, spec: DatasetSpec) -> dict[str, Any]:
    """Empty the aggregates, queue every loaded day again (as gsc_ingest does) and roll them all up."""
    say("Building the report aggregates with the real rollup")
    timer = Timer()
    digest = rollup_digest()  # of the code about to run
    with admin(database) as conn:
        conn.execute(f"TRUNCATE {', '.join(existing(database, AGGREGATES))}")
        for site in report_data.sites(spec):
            conn.execute(report_data.QUEUE_PENDING, {"property_id": site.property_id})
    details = build_aggregates(database, spec, timer)
    with admin(database) as conn:
        previous = conn.execute("SELECT timings FROM bench_data.marker").fetchone()[0]  # type: ignore[index]
        timings: dict[str, Any] = previous | timer.timings | details
        conn.execute("UPDATE bench_data.marker SET rollup_hash = %s, timings = %s", (digest, json.dumps(timings)))
    return timings


@dataclass
class DatasetFacts:
    rows: dict[str, int]  # per property id
    table_rows: dict[str, int]  # estimates
    database_bytes: int
    table_bytes: dict[str, int]
    pending: int


def dataset_facts(database: LocalDatabase) -> DatasetFacts:
    with admin(database) as conn:
        rows = dict(
            conn.execute(
                "SELECT property_id::text, sum(rows)::bigint FROM gsc_daily_rollup GROUP BY property_id"
            ).fetchall()
        )
        table_rows = {}
        table_bytes = {}
        for table in ("gsc_rows", "gsc_daily_rollup", *existing(database, AGGREGATES)):
            # A partitioned table's numbers are its partitions'; estimates (VACUUM ANALYZE just ran) save a count.
            relations = (
                "SELECT relid FROM pg_partition_tree(%(t)s::regclass) WHERE isleaf"
                " UNION ALL SELECT %(t)s::regclass WHERE NOT EXISTS (SELECT FROM pg_partition_tree(%(t)s::regclass))"
            )
            count, size = conn.execute(
                "SELECT coalesce(sum(greatest(reltuples, 0)), 0)::bigint,"
                f" coalesce(sum(pg_total_relation_size(oid)), 0)::bigint FROM pg_class WHERE oid IN ({relations})",
                {"t": table},
            ).fetchone()  # type: ignore[misc]
            table_rows[table] = count
            table_bytes[table] = size
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]  # type: ignore[index]
        pending = conn.execute("SELECT count(*) FROM gsc_rollup_pending").fetchone()[0]  # type: ignore[index]
    return DatasetFacts(rows, table_rows, size, table_bytes, pending)


# ---------------------------------------------------------------- timing the reports
@dataclass
class Case:
    report: str
    site: Site
    size_label: str  # "largest" / "small"
    days: int
    query: dict[str, str]
    handler_ms: list[float] = field(default_factory=list)
    db_ms: list[float] = field(default_factory=list)  # of each handler call: its statements' time
    raw_ms: list[float] = field(default_factory=list)
    error: str | None = None
    raw_report: dict[str, Any] | None = None  # the first raw call's, to compare with the aggregates'
    same: str = "-"

    @property
    def path(self) -> str:
        from shared.reports.registry import REPORTS

        return REPORTS[self.report].path.format(project_id=self.site.project_id, property_id=self.site.property_id)

    @property
    def goal_ms(self) -> float:
        return DASHBOARD_GOAL_MS if self.report == DASHBOARD else GOAL_MS

    @property
    def p50(self) -> float:
        return statistics.median(self.handler_ms) if self.handler_ms else math.nan

    @property
    def p95(self) -> float:
        if len(self.handler_ms) < 2:
            return self.handler_ms[0] if self.handler_ms else math.nan
        return statistics.quantiles(self.handler_ms, n=20)[18]

    @property
    def db_p50(self) -> float:
        return statistics.median(self.db_ms) if self.db_ms else math.nan

    @property
    def raw_p50(self) -> float:
        return statistics.median(self.raw_ms) if self.raw_ms else math.nan

    @property
    def speedup(self) -> float:
        return self.raw_p50 / self.p50 if self.raw_ms and self.handler_ms else math.nan

    @property
    def met(self) -> bool:
        return self.error is None and self.p95 <= self.goal_ms

    def label(self) -> str:
        return f"{self.report} {self.size_label} {self.days}d"


def make_cases(spec: DatasetSpec, available: dict[str, Any], end: dt.date) -> list[Case]:
    unregistered = sorted(set(REPORT_PARAMS) - set(available))
    if unregistered:
        raise SystemExit(f"REPORT_PARAMS names reports the registry does not have: {', '.join(unregistered)}")
    sites = report_data.sites(spec)
    targets = (("largest", sites[0]), ("small", sites[-1]))
    cases = []
    for name in available:  # the registry's order: the issue's
        fields = available[name].params.model_fields
        for label, site in targets:
            for days in RANGES:
                query = {
                    "start_date": (end - dt.timedelta(days=days - 1)).isoformat(),
                    "end_date": end.isoformat(),
                } | REPORT_PARAMS.get(name, {})
                unknown = sorted(set(query) - set(fields))
                if unknown:
                    say(f"  note: {name} has no parameter {', '.join(unknown)}; left out")
                cases.append(Case(name, site, label, days, {k: v for k, v in query.items() if k in fields}))
    return cases


def call_handler(
    handler: Callable[..., dict[str, Any]], case: Case, claims: dict[str, str]
) -> tuple[float, str | None]:
    from kestrel_local.lambda_context import LocalLambdaContext
    from tests.support.http_events import http_event  # the one builder of in-process events, as bench_local uses

    event = http_event("GET", case.path, query=case.query, jwt_claims=claims)
    context = LocalLambdaContext(function_name="api_reports", timeout_seconds=29)
    began = time.perf_counter()
    response = handler(event, context)
    elapsed = (time.perf_counter() - began) * 1000
    if response.get("statusCode") != 200:
        return elapsed, f"HTTP {response.get('statusCode')}: {str(response.get('body'))[:300]}"
    return elapsed, None


def time_handler(cases: list[Case], iterations: int) -> None:
    from functions.api_reports.handler import handler
    from tests.support.http_events import claims as jwt_claims

    claims = jwt_claims(report_data.TENANT_ID, subject="auth0|bench", permissions=PERMISSIONS)
    for case in cases:
        for _ in range(WARMUP_CALLS):
            _, error = call_handler(handler, case, claims)
            if error:
                case.error = f"{error}; {direct_error(case)}"
                say(f"  {case.label()}: {case.error}")
                break
    live = [case for case in cases if case.error is None]
    order = random.Random(1031)
    began = time.perf_counter()
    with statements() as log:
        for round_ in range(1, iterations + 1):
            order.shuffle(live)
            for case in live:
                first = len(log.entries)
                elapsed, error = call_handler(handler, case, claims)
                if error and case.error is None:
                    case.error = error
                case.handler_ms.append(elapsed)
                case.db_ms.append(sum(entry[0] for entry in log.entries[first:]) * 1000)
            if round_ % 10 == 0 or round_ == iterations:
                load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
                say(f"  handler round {round_}/{iterations} ({time.perf_counter() - began:.0f} s; load {load})")


def direct_error(case: Case) -> str:
    """What the report raises when called directly (the handler answers a 500 without the cause)."""
    try:
        run_report(case)
    except Exception as exc:  # the cause, for the report
        return f"direct call: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
    return "direct call succeeded"


def principal() -> Any:
    from shared.auth import Principal

    return Principal(subject="auth0|bench", tenant_id=report_data.TENANT_ID, permissions=frozenset(PERMISSIONS))


def run_report(case: Case) -> Any:
    """The case's report called directly (not through the handler), from the rollup's aggregates."""
    from shared.reports.registry import REPORTS

    spec = REPORTS[case.report]
    params = spec.params.model_validate(case.query)
    return spec.run(principal(), case.site.project_id, case.site.property_id, params)


def run_from_raw_rows(case: Case) -> Any:
    """The case's report computed straight from ``gsc_rows``: the baseline."""
    from shared.reports.data.sources import reading_raw_rows

    with reading_raw_rows():
        return run_report(case)


def time_raw(cases: list[Case]) -> None:
    statement_timeout(BUILD_STATEMENT_TIMEOUT_MS)  # a baseline slower than the API's 60 s is still a baseline
    order = random.Random(2910)
    live = [case for case in cases if case.error is None]
    began = time.perf_counter()
    for round_ in range(1, max(RAW_CALLS_LARGE, RAW_CALLS_SMALL) + 1):
        due = [
            case for case in live if round_ <= (RAW_CALLS_LARGE if case.size_label == "largest" else RAW_CALLS_SMALL)
        ]
        order.shuffle(due)
        for case in due:
            start = time.perf_counter()
            try:
                report = run_from_raw_rows(case)
            except Exception as exc:  # a failing baseline is reported, not fatal
                case.error = f"raw: {type(exc).__name__}: {str(exc)[:200]}"
                say(f"  {case.label()}: {case.error}")
                live.remove(case)
                continue
            case.raw_ms.append((time.perf_counter() - start) * 1000)
            if case.raw_report is None:
                case.raw_report = report.model_dump(mode="json")
        say(f"  raw round {round_} ({time.perf_counter() - began:.0f} s)")
    statement_timeout(APP_STATEMENT_TIMEOUT_MS)


def _differs(a: Any, b: Any, path: str = "") -> str | None:
    """Where two JSON values differ (floats to a relative 1e-6: sums in another order), or None."""
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, int | float) and isinstance(b, int | float) and math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9):
            return None
        return f"{path}: {a!r} != {b!r}"
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            found = _differs(a.get(key), b.get(key), f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for n, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _differs(x, y, f"{path}[{n}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {a!r} != {b!r}"


def check_same(cases: list[Case]) -> list[str]:
    """The report from the aggregates vs from gsc_rows, once per case."""
    notes = []
    for case in cases:
        if case.error or case.raw_report is None:
            continue
        rollup = run_report(case).model_dump(mode="json")
        found = _differs(rollup, case.raw_report)
        case.same = "yes" if found is None else "NO"
        if found:
            notes.append(f"{case.label()}: rollup and raw differ at {found}")
    return notes


def explain(case: Case) -> str:
    """EXPLAIN ANALYZE of the case's statements (slowest first), as the app role in the tenant's transaction."""
    from sqlalchemy import text

    from shared.db import tenant_transaction
    from shared.reports.data.sources import REPORT_WORK_MEM

    with statements() as log:
        run_report(case)
    timed = sorted(
        (entry for entry in log.entries if entry[1].lstrip().upper().startswith(("SELECT", "WITH"))),
        key=lambda entry: -entry[0],
    )
    total = sum(entry[0] for entry in log.entries)
    out = [f"== {case.label()}: {len(log.entries)} statements, {total * 1000:.1f} ms in the database"]
    for seconds, statement, parameters in timed[:3]:
        if seconds < 0.005:
            break
        with tenant_transaction(report_data.TENANT_ID) as session:
            session.execute(text("SELECT set_config('work_mem', :m, true)"), {"m": REPORT_WORK_MEM})
            plan = session.connection().exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
        out.append(f"-- {seconds * 1000:.1f} ms: {' '.join(statement.split())[:400]}")
        out.append(f"-- parameters: {parameters}")
        out.extend(row[0] for row in plan)
    return "\n".join(out)


def safe_explain(case: Case) -> str:
    try:
        return explain(case)
    except Exception as exc:  # a plan that cannot be had is noted, the results still print
        return f"== {case.label()}: EXPLAIN failed: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"


# ---------------------------------------------------------------- the report
def fmt_ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def print_results(
    spec: DatasetSpec,
    cases: list[Case],
    facts: DatasetFacts,
    timings: dict[str, Any],
    cached: str,
    notes: list[str],
    iterations: int,
    end: dt.date,
) -> None:
    sites = report_data.sites(spec)
    largest, small = sites[0], sites[-1]
    total_rows = sum(facts.rows.values())
    print()
    print(
        f"Reports over {total_rows:,} gsc_rows in {len(sites)} properties ({spec.days} days to {spec.anchor}):"
        f" largest {facts.rows.get(str(largest.property_id), 0):,} rows ({largest.name}),"
        f" small {facts.rows.get(str(small.property_id), 0):,} ({small.name})"
    )
    print(f"  dataset: {cached}")
    generate = timings.get("generate")
    rollup = timings.get("rollup")
    if generate:
        print(
            f"  generation (INSERT ... SELECT in PostgreSQL, {GENERATORS} sessions, with the daily rollup and pending"
            f" days): {generate:.0f} s, {total_rows / generate:,.0f} rows/s; pools {timings.get('pools', 0):.0f} s;"
            f" VACUUM ANALYZE {timings.get('vacuum_rows', 0):.0f} s"
        )
    if rollup:
        longest = timings.get("rollup_longest_statement") or [0, "", ""]
        per = timings.get("rollup_per_property") or [{}]
        biggest, smallest = per[0], per[-1]
        print(
            f"  report rollup (rollup_property, called again while days are pending, as the queue would):"
            f" {rollup:.0f} s, {total_rows / rollup:,.0f} gsc_rows/s; the largest property"
            f" {biggest.get('s', 0):.0f} s ({biggest.get('days', 0)} days, {biggest.get('weeks', 0)} weeks,"
            f" {biggest.get('calls', 0)} calls), the small one {smallest.get('s', 0):.1f} s;"
            f" longest statement {longest[0]:.1f} s ({longest[1]}: {longest[2][:70]}...);"
            f" VACUUM ANALYZE {timings.get('vacuum_aggregates', 0):.0f} s"
        )
    print(
        "  rows: "
        + ", ".join(f"{table} {count:,}" for table, count in facts.table_rows.items())
        + f"; pending days left {facts.pending}"
    )
    print(
        f"  disk: database {facts.database_bytes / 1e9:.1f} GB ("
        + ", ".join(f"{table} {size / 1e9:.1f}" for table, size in facts.table_bytes.items())
        + f" GB); {free_gb():.0f} GB free"
    )
    print()
    print(
        f"Latency through the handler (in-process, API Gateway HTTP v2 events): {WARMUP_CALLS} warm-up calls, then"
        f" {iterations} calls per case in shuffled rounds; p50 = median, p95 = statistics.quantiles(n=20)[18];"
        " db p50 = the median time of the calls' SQL statements (the rest is Python: routing, validation,"
        " the report's own work, JSON)."
    )
    print(
        f"Raw = the same report from gsc_rows without the aggregates (run in reading_raw_rows()), median of"
        f" {RAW_CALLS_LARGE} (largest) / {RAW_CALLS_SMALL} (small) calls. ratio = raw p50 / rollup p50."
    )
    latest = " (the latest day with data, as dashboards ask)" if end == spec.anchor else ""
    print(f"Ranges: the {' and '.join(str(days) for days in RANGES)} days ending {end}{latest}.")
    header = (
        f"  {'report':<20} {'property':<8} {'days':>4} {'p50 ms':>8} {'p95 ms':>8} {'db p50':>7} {'raw p50 ms':>11}"
        f" {'ratio':>8} {'goal p95':>9} {'met':>4} {'same as raw':>11}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for case in cases:
        name = f"{case.report}{' *' if case.report == DASHBOARD else ''}"
        ratio = "-" if math.isnan(case.speedup) else f"{case.speedup:.1f}x"
        print(
            f"  {name:<20} {case.size_label:<8} {case.days:>4} {fmt_ms(case.p50):>8} {fmt_ms(case.p95):>8}"
            f" {fmt_ms(case.db_p50):>7} {fmt_ms(case.raw_p50):>11} {ratio:>8}"
            f" {case.goal_ms:>9.0f} {('yes' if case.met else 'NO'):>4} {case.same:>11}"
        )
    print("  * the performance-over-time dashboard: granularity=day, compare=previous_period")
    for name in dict.fromkeys(case.report for case in cases):
        params = REPORT_PARAMS.get(name)
        if params:
            print(f"  {name}: " + ", ".join(f"{key}={value}" for key, value in params.items()))
    for case in cases:
        if case.error:
            print(f"  ERROR {case.label()}: {case.error}")
    for note in notes:
        print(f"  note: {note}")

    on_largest = [case for case in cases if case.size_label == "largest" and case.handler_ms]
    worst = max(on_largest, key=lambda case: case.p95, default=None)
    dashboards = [case for case in on_largest if case.report == DASHBOARD]
    dashboard = max(dashboards, key=lambda case: case.p95, default=None)
    measured = [case for case in cases if not math.isnan(case.speedup)]
    slowest_gain = min(measured, key=lambda case: case.speedup, default=None)
    missed = [case.label() for case in on_largest if not case.met]
    print()
    if worst:
        print(f"  worst p95 on the largest property: {worst.p95:.1f} ms ({worst.label()}); goal <= {GOAL_MS:.0f} ms")
    if dashboard:
        print(
            f"  dashboard p95 (largest property, the worse of 28 and 90 days): {dashboard.p95:.1f} ms"
            f" ({dashboard.days} days; "
            + ", ".join(f"{case.days}d {case.p95:.1f}" for case in dashboards)
            + f"); goal <= {DASHBOARD_GOAL_MS:.0f} ms"
        )
    if slowest_gain:
        print(
            f"  smallest speed-up vs raw over all measured cases (both properties, both ranges):"
            f" {slowest_gain.speedup:.1f}x ({slowest_gain.label()})"
        )
    print(f"  goals: {'all met' if not missed else 'MISSED by ' + ', '.join(missed)}")
    print(
        f"bench-reports worst_p95_ms={worst.p95 if worst else math.nan:.1f}"
        f" dashboard_p95_ms={dashboard.p95 if dashboard else math.nan:.1f}"
        f" worst_report={worst.report if worst else '-'}"
        f" speedup_vs_raw_min={slowest_gain.speedup if slowest_gain else math.nan:.1f}"
    )


# ---------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny dataset (300k rows) and few iterations")
    parser.add_argument("--rebuild", action="store_true", help="generate the dataset again even if cached")
    parser.add_argument("--iterations", type=int, default=None, help=f"handler calls per case (default {ITERATIONS})")
    parser.add_argument("--build-only", action="store_true", help="build (or check) the dataset, time nothing")
    parser.add_argument(
        "--end-date",
        type=dt.date.fromisoformat,
        default=None,
        help="last day of the timed ranges (default: the latest day with data, as dashboards ask)",
    )
    args = parser.parse_args()
    # Powertools warns on every invocation that publishes no metrics (the reports publish none).
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    spec = report_data.QUICK if args.quick else report_data.FULL
    iterations = args.iterations or (5 if args.quick else ITERATIONS)

    began = time.perf_counter()
    admin_url = start_embedded(DATA_DIR)
    tune_server(admin_url)
    database = provision(admin_url, spec.database)
    moto = start_moto()
    try:
        configure(database, moto.endpoint, statement_timeout_ms=APP_STATEMENT_TIMEOUT_MS)
        from shared.migrate import migrate_to_head

        digest, head = spec.digest(), migration_head()
        marker = read_marker(database)
        if args.rebuild or marker is None or marker.spec_hash != digest:
            reason = "--rebuild" if args.rebuild else "no dataset yet" if marker is None else "the dataset spec changed"
            free = free_gb()
            if free < MIN_FREE_GB[spec.name]:
                say(
                    f"Refusing to build: {free:.1f} GB free under {DATA_DIR}, the {spec.name} dataset needs"
                    f" {MIN_FREE_GB[spec.name]} GB (about 20 GB of tables and indexes, plus WAL). Free some space."
                )
                return 2
            say(f"Building the {spec.name} dataset ({reason}; {free:.0f} GB free) in database {spec.database}")
            from shared.runtime.cache import reset_cached_runtime

            reset_cached_runtime()  # no pooled connection may hold the database being dropped
            drop_database(admin_url, spec.database)
            database = provision(admin_url, spec.database)
            migrate_to_head()
            timings = build(database, spec, digest, head)
            cached = f"built now in {time.perf_counter() - began:.0f} s"
        else:
            timings = marker.timings
            cached = f"cached, built {marker.built_at:%Y-%m-%d %H:%M} (spec {digest}); --rebuild to build again"
            why = None
            if marker.migration_head != head:
                # The rows stay valid across migrations (as production's do): upgrade in place, then the
                # aggregates are rebuilt, as new migrations mostly come with rollup changes.
                say(f"Schema {marker.migration_head} -> {head}: upgrading the cached database")
                why = f"the schema moved from {marker.migration_head} to {head}"
            elif marker.rollup_hash is None:
                why = "their build was never finished"
            elif marker.rollup_hash != rollup_digest():
                why = "the rollup's code changed"
            migrate_to_head()
            if why:
                with admin(database) as conn:
                    conn.execute(report_data.SCHEMA)
                    conn.execute("UPDATE bench_data.marker SET migration_head = %s", (head,))
                say(f"Rebuilding the report aggregates: {why}")
                timings = rebuild_aggregates(database, spec)
                cached += f"; aggregates rebuilt now ({why})"
        facts = dataset_facts(database)
        say(f"Dataset ready: {sum(facts.rows.values()):,} rows; {cached}")
        if args.build_only:
            return 0

        from shared.reports.registry import REPORTS

        end = args.end_date or spec.anchor
        cases = make_cases(spec, dict(REPORTS), end)
        say(f"Timing {len(cases)} cases ({len(REPORTS)} reports)")
        time_handler(cases, iterations)
        say("Raw baseline")
        time_raw(cases)
        say("Checking the aggregates' reports against the raw ones")
        notes = check_same(cases)
        # A report missing a goal on the largest property (either range): the plans of its 90-day case.
        missing = {case.report for case in cases if case.size_label == "largest" and not case.met}
        plans = [
            safe_explain(case)
            for case in cases
            if case.report in missing and case.size_label == "largest" and case.days == max(RANGES) and not case.error
        ]
        if plans:
            EXPLAIN_FILE.write_text("\n\n".join(plans) + "\n")
            print("\n".join(plans))
            notes.append(f"EXPLAIN ANALYZE of the reports missing a goal (their 90-day case, largest): {EXPLAIN_FILE}")
        say(f"done in {time.perf_counter() - began:.0f} s")
        print_results(spec, cases, facts, timings, cached, notes, iterations, end)
        return 0 if all(case.error is None for case in cases) else 1
    finally:
        moto.stop()


if __name__ == "__main__":
    sys.exit(main())
