"""Rank tracking's storage throughput: 1,000 keywords' depth-100 SERPs parsed and stored through rank_check.

A project of 1,000 active keywords at depth 100 is checked by the real handler, as the daily schedule
checks it: its ``post`` (ten ``task_post`` calls of 100 tasks) and then its ``collect`` messages, delivered
from moto's SQS one per invocation as the event source mapping does, in a worker process of its own (a
Lambda execution environment). DataForSEO is the stand-in (kestrel_local.dataforseo) in this process over
HTTP, its results ready at once: every SERP is fetched with ``task_get/advanced``, parsed by the typed
client, summarised for the project and stored with every item (``serp_snapshots`` and ``serp_items`` in
PostgreSQL, one transaction per SERP), and a screenshot message is sent per snapshot.

``serp_items_per_s`` is the items stored over the seconds from the first collect to the job's end (the
post is timed apart); rounds use fresh projects and medians are quoted. ``measure()`` is what
``make bench-ranks`` joins with the screenshots half. The last line is machine-readable.

    make bench-ranks-items
"""

import argparse
import multiprocessing
import os
import statistics
import sys
import time
import uuid
from typing import Any

from kestrel_local.config import PROJECT_ROOT
from kestrel_local.moto_server import start_moto
from kestrel_local.postgres import drop_database, provision, start_embedded
from kestrel_local.tenants import ensure_tenant

REGION = "eu-west-1"
MOTO_ACCOUNT = "123456789012"
KEYWORDS = 1_000
DEPTH = 100
REPEATS = 3
SECRET_NAME = "kestrel/bench/dataforseo"  # noqa: S105 (the secret's name, not a password)


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def environment(database_url: str, owner_url: str, endpoint: str, dataforseo_url: str, run: str) -> dict[str, str]:
    return {
        "KESTREL_STAGE": "local",
        "KESTREL_DATABASE_URL": database_url,
        "KESTREL_MIGRATION_DATABASE_URL": owner_url,
        "KESTREL_DB_SSLMODE": "disable",
        "KESTREL_SENTRY_DSN_SECRET_NAME": "",
        "KESTREL_RANK_CHECK_QUEUE_URL": f"{endpoint}/{MOTO_ACCOUNT}/bench-rank-check-{run}",
        "KESTREL_DLQ_URL": f"{endpoint}/{MOTO_ACCOUNT}/bench-rank-check-{run}-dlq",
        "KESTREL_SERP_SCREENSHOT_QUEUE_URL": f"{endpoint}/{MOTO_ACCOUNT}/bench-serp-screenshot-{run}",
        "KESTREL_DATAFORSEO_API_BASE_URL": dataforseo_url,
        "KESTREL_DATAFORSEO_SECRET_NAME": SECRET_NAME,
        "KESTREL_RANK_COLLECT_DELAY_SECONDS": "0",
        "KESTREL_RANK_MONTHLY_BUDGET_USD": "1000",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_NAMESPACE": "Kestrel/bench",
    }


def _configure(env: dict[str, str]) -> None:
    os.environ.update(env)
    from shared.runtime.cache import reset_cached_runtime

    reset_cached_runtime()


# ---------------------------------------------------------------- the real worker path, in its own process


def _worker(env: dict[str, str], tenant_id: str, project_id: str, day: str) -> dict[str, float]:
    """One rank_check execution environment: the project's post, then its collects until the job ended."""
    _configure(env)
    import json

    import boto3

    from functions.rank_check import handler as rank_check
    from kestrel_local.lambda_context import LocalLambdaContext
    from kestrel_local.sqs_events import failed_message_ids, sqs_event

    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = env["KESTREL_RANK_CHECK_QUEUE_URL"]
    queue_arn = f"arn:aws:sqs:{REGION}:{MOTO_ACCOUNT}:{queue_url.rsplit('/', 1)[1]}"
    body = {"kind": "post", "tenant_id": tenant_id, "project_id": project_id, "check_date": day}
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(body))
    timings: dict[str, float] = {"post_s": 0.0, "collect_s": 0.0, "collects": 0}
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=1, VisibilityTimeout=300
        ).get("Messages", [])
        if not messages:
            return timings
        kind = json.loads(messages[0]["Body"])["kind"]
        began = time.perf_counter()
        response: Any = rank_check.handler(
            sqs_event(messages, queue_arn=queue_arn, region=REGION),
            LocalLambdaContext(function_name="rank_check", timeout_seconds=300),  # type: ignore[arg-type]
        )
        elapsed = time.perf_counter() - began
        if failed_message_ids(response):
            raise RuntimeError(f"rank_check failed a {kind} message: {response}")
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])
        if kind == "post":
            timings["post_s"] += elapsed
        else:
            timings["collect_s"] += elapsed
            timings["collects"] += 1


def new_project(owner_url: str, run: str, round_number: int) -> tuple[str, uuid.UUID]:
    from sqlalchemy import text

    from shared.auth import Principal
    from shared.db import tenant_transaction
    from shared.projects import projects
    from shared.projects.models import ProjectIn

    tenant_id = f"org_bench_ranks_{run}_{round_number}"
    ensure_tenant(owner_url, tenant_id, "Bench ranks")
    principal = Principal(subject="bench", tenant_id=tenant_id, permissions=frozenset())
    project = projects.create_project(principal, ProjectIn(name="Bench", domain="demo-outdoor.example.com"))
    with tenant_transaction(tenant_id) as session:
        session.execute(text("UPDATE projects SET rank_depth = :d WHERE id = :p"), {"d": DEPTH, "p": project.id})
        session.execute(
            text(
                "INSERT INTO keywords (tenant_id, project_id, text, locale, country, device)"
                " SELECT :t, :p, 'hiking gear ' || n, 'en', 'US', CASE WHEN n % 2 = 0 THEN 'desktop' ELSE 'mobile' END"
                " FROM generate_series(1, :n) AS n"
            ),
            {"t": tenant_id, "p": project.id, "n": KEYWORDS},
        )
    return tenant_id, project.id


def stored_counts(tenant_id: str, project_id: uuid.UUID) -> tuple[int, int, str]:
    from sqlalchemy import text

    from shared.db import tenant_transaction

    with tenant_transaction(tenant_id) as session:
        snapshots = session.scalar(text("SELECT count(*) FROM serp_snapshots WHERE project_id = :p"), {"p": project_id})
        items = session.scalar(text("SELECT count(*) FROM serp_items WHERE project_id = :p"), {"p": project_id})
        status = session.scalar(text("SELECT status FROM jobs WHERE project_id = :p"), {"p": project_id})
    return int(snapshots or 0), int(items or 0), str(status)


def create_resources(env: dict[str, str]) -> None:
    import json

    import boto3

    sqs = boto3.client("sqs", region_name=REGION)
    for name in ("KESTREL_DLQ_URL", "KESTREL_RANK_CHECK_QUEUE_URL", "KESTREL_SERP_SCREENSHOT_QUEUE_URL"):
        sqs.create_queue(QueueName=env[name].rsplit("/", 1)[1], Attributes={"VisibilityTimeout": "300"})
    from kestrel_local.dataforseo import LOCAL_LOGIN, LOCAL_PASSWORD

    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=SECRET_NAME, SecretString=json.dumps({"login": LOCAL_LOGIN, "password": LOCAL_PASSWORD})
    )


def measure(repeats: int = REPEATS) -> dict[str, float]:
    """Rounds of a 1,000-keyword depth-100 daily check; the medians (and the figures of each round, said)."""
    from kestrel_local.dataforseo import DataForSeoServer
    from kestrel_local.demo import DEMO_SITE_URL

    admin_url = start_embedded(PROJECT_ROOT / ".state" / "bench-postgres")
    name = f"kestrel_bench_ranks_{uuid.uuid4().hex[:8]}"
    database = provision(admin_url, name)
    moto = start_moto()
    server = DataForSeoServer(sites=[DEMO_SITE_URL]).start()
    run = uuid.uuid4().hex[:6]
    env = environment(database.app_url, database.owner_url, moto.endpoint, server.url, run)
    context = multiprocessing.get_context("spawn")
    rounds: list[dict[str, float]] = []
    try:
        _configure(env)
        from shared.migrate import migrate_to_head

        migrate_to_head()
        create_resources(env)
        day = time.strftime("%Y-%m-%d", time.gmtime())
        for round_number in range(repeats):
            tenant_id, project_id = new_project(database.owner_url, run, round_number)
            with context.Pool(1) as pool:
                timings = pool.apply(_worker, (env, tenant_id, str(project_id), day))
            snapshots, items, status = stored_counts(tenant_id, project_id)
            if status != "succeeded" or snapshots != KEYWORDS:
                raise RuntimeError(f"round {round_number + 1}: job {status}, {snapshots} of {KEYWORDS} SERPs stored")
            result = {
                "items": items,
                "post_s": timings["post_s"],
                "collect_s": timings["collect_s"],
                "serp_items_per_s": items / timings["collect_s"],
                "serps_per_s": snapshots / timings["collect_s"],
            }
            say(
                f"round {round_number + 1}: {snapshots:,} SERPs, {items:,} items stored in {timings['collect_s']:.1f} s"
                f" over {timings['collects']:.0f} collects = {result['serp_items_per_s']:,.0f} items/s"
                f" ({result['serps_per_s']:.1f} SERPs/s); post {timings['post_s']:.1f} s"
            )
            rounds.append(result)
    finally:
        server.stop()
        moto.stop()
        drop_database(admin_url, name)
    return {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=REPEATS, help="rounds (medians quoted)")
    args = parser.parse_args()
    result = measure(args.repeats)
    say(
        f"medians over {args.repeats} rounds: {result['items']:,.0f} items, {result['serps_per_s']:.1f} SERPs/s,"
        f" post {result['post_s']:.1f} s"
    )
    print(
        f"bench-ranks-items serp_items_per_s={result['serp_items_per_s']:.0f} serps_per_s={result['serps_per_s']:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
