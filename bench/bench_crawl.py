"""The crawler's throughput: a crawl of a 2,000+ page local site through the real page_crawl path, beside a floor.

A bench copy of the demo site (kestrel_local.demo_site at scale 15, over HTTPS
from its own CA, no Crawl-delay) is crawled by the real handler: SQS messages in
moto, as many worker processes as page_crawl's reserved concurrency on the
local/dev stage, each delivering one message per invocation as the event source
mapping does; the platform-wide host limiter, robots.txt, the frontier in
PostgreSQL, raw HTML to S3 and the audit all run. Only the bench host's limits
are raised (``KESTREL_CRAWL_HOST_LIMITS``), as an operator would for a site that
asked to be crawled fast.

The floor, measured in the same run on the same machine: the same pages fetched
by a bare httpx loop (same TLS trust, keep-alive) in as many processes, each page
parsed in-process by the same ``extract_page``. ``vs_floor`` is the crawl's pages
per second over the floor's. Rounds alternate crawl and floor; medians are
quoted. Peak RSS is the largest worker process's (a warm Lambda environment
after all its invocations), against the function's 1,024 MB. The last line is
machine-readable.

    make bench-crawl
"""

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import sys
import time
import uuid
from typing import Any

from kestrel_local.config import PROJECT_ROOT
from kestrel_local.demo_site import DemoSiteServer
from kestrel_local.moto_server import start_moto
from kestrel_local.postgres import drop_database, provision, start_embedded
from kestrel_local.tenants import ensure_tenant

REGION = "eu-west-1"
MOTO_ACCOUNT = "123456789012"
DOMAIN = "bench-outdoor.example.com"
SCALE = 15  # over 2,000 crawlable pages
MAX_PAGES = 2_500
WORKERS = 2  # serverless.yml: pageCrawlConcurrency on the dev (and local) stage
REPEATS = 3
BUDGET_S = 540.0
FUNCTION_MEMORY_MB = 1024  # serverless.yml: page_crawl memorySize
BENCH_LIMIT = {"concurrency": 8, "requests_per_second": 1000}


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def environment(database_url: str, owner_url: str, endpoint: str, site: DemoSiteServer, run: str) -> dict[str, str]:
    hosts = site.catalogue.hosts
    return {
        "KESTREL_STAGE": "local",
        "KESTREL_DATABASE_URL": database_url,
        "KESTREL_MIGRATION_DATABASE_URL": owner_url,
        "KESTREL_DB_SSLMODE": "disable",
        "KESTREL_SENTRY_DSN_SECRET_NAME": "",
        "KESTREL_PAGE_CRAWL_QUEUE_URL": f"{endpoint}/{MOTO_ACCOUNT}/bench-page-crawl-{run}",
        "KESTREL_DLQ_URL": f"{endpoint}/{MOTO_ACCOUNT}/bench-page-crawl-{run}-dlq",
        "KESTREL_RAW_PAGES_BUCKET": f"kestrel-bench-raw-pages-{run}",
        "KESTREL_CRAWL_USER_AGENT": "KestrelBot/1.0 (+https://kestrel.example/bot; bench)",
        "KESTREL_CRAWL_PINNED_HOSTS": json.dumps(dict.fromkeys(hosts, site.address)),
        "KESTREL_CRAWL_CA_FILE": str(site.ca_file),
        "KESTREL_CRAWL_HOST_LIMITS": json.dumps(dict.fromkeys(hosts, BENCH_LIMIT)),
        "KESTREL_CRAWL_PARALLEL_BATCHES": str(WORKERS),
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
    import logging

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    from shared.runtime.cache import reset_cached_runtime

    reset_cached_runtime()


# ---------------------------------------------------------------- the real worker path


def _worker(env: dict[str, str], tenant_id: str, project_id: str, crawl_id: str) -> float:
    """One page_crawl execution environment: deliver messages until the crawl finished; returns peak RSS (MB)."""
    _configure(env)
    import boto3

    from functions.page_crawl import handler as page_crawl
    from kestrel_local.lambda_context import LocalLambdaContext
    from kestrel_local.sqs_events import failed_message_ids, sqs_event
    from shared.auth import Principal
    from shared.crawl import crawls
    from shared.jobs.models import LIVE_STATUSES

    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = env["KESTREL_PAGE_CRAWL_QUEUE_URL"]
    queue_arn = f"arn:aws:sqs:{REGION}:{MOTO_ACCOUNT}:{queue_url.rsplit('/', 1)[1]}"
    principal = Principal(subject="bench", tenant_id=tenant_id, permissions=frozenset())
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=1, VisibilityTimeout=300, AttributeNames=["All"]
        ).get("Messages", [])
        if messages:
            response: Any = page_crawl.handler(
                sqs_event(messages, queue_arn=queue_arn, region=REGION),
                LocalLambdaContext(function_name="page_crawl", timeout_seconds=300),  # type: ignore[arg-type]
            )
            if failed_message_ids(response):
                raise RuntimeError(f"page_crawl failed a message: {response}")
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])
            continue
        status = crawls.get_crawl(principal, uuid.UUID(project_id), uuid.UUID(crawl_id)).status
        if status not in LIVE_STATUSES:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def crawl_round(env: dict[str, str], tenant_id: str, context: Any) -> dict[str, Any]:
    from shared.auth import Principal
    from shared.crawl import crawls
    from shared.crawl.models import CrawlIn
    from shared.errors import Conflict
    from shared.projects import projects
    from shared.projects.models import ProjectIn

    principal = Principal(subject="bench", tenant_id=tenant_id, permissions=frozenset())
    try:
        project = projects.create_project(principal, ProjectIn(name="Bench", domain=DOMAIN))
    except Conflict:  # the project of an earlier round
        project = next(p for p in projects.list_projects(principal, limit=10, cursor=None).items if p.domain == DOMAIN)
    began = time.perf_counter()
    crawl = crawls.start(principal, project.id, CrawlIn(max_pages=MAX_PAGES))
    with context.Pool(WORKERS) as pool:
        rss = pool.starmap(_worker, [(env, tenant_id, str(project.id), str(crawl.id))] * WORKERS)
    seconds = time.perf_counter() - began
    done = crawls.get_crawl(principal, project.id, crawl.id)
    return {
        "crawl_id": crawl.id,
        "project_id": project.id,
        "status": done.status,
        "fetched": done.progress.fetched,
        "seconds": seconds,
        "pages_per_s": done.progress.fetched / seconds,
        "peak_rss_mb": max(rss),
    }


# ---------------------------------------------------------------- the floor: a bare loop, the same extraction


def _floor(env: dict[str, str], urls: list[str]) -> list[float]:
    """Fetch and parse ``urls`` with a bare httpx client; returns each page's extract time (ms)."""
    _configure(env)
    from shared.crawl.extract import extract_page
    from shared.crawl.ssrf import AddressPolicy, guarded_client

    client = guarded_client(
        AddressPolicy(pinned=json.loads(env["KESTREL_CRAWL_PINNED_HOSTS"])),
        ca_file=env["KESTREL_CRAWL_CA_FILE"],
        user_agent=env["KESTREL_CRAWL_USER_AGENT"],
    )
    timings = []
    for url in urls:
        response = client.get(url)
        started = time.perf_counter()
        extract_page(
            response.content,
            url=url,
            header_charset=response.charset_encoding,
            link_header=response.headers.get("link"),
            x_robots_tag=response.headers.get("x-robots-tag"),
            is_internal=lambda link: DOMAIN in link,
        )
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def floor_round(env: dict[str, str], urls: list[str], context: Any) -> dict[str, Any]:
    shares = [urls[n::WORKERS] for n in range(WORKERS)]
    began = time.perf_counter()
    with context.Pool(WORKERS) as pool:
        timings = pool.starmap(_floor, [(env, share) for share in shares])
    seconds = time.perf_counter() - began
    return {"pages_per_s": len(urls) / seconds, "extract_ms": [t for part in timings for t in part]}


def fetched_urls(tenant_id: str, crawl_id: uuid.UUID) -> list[str]:
    """The crawl's pages that answered 200 directly: what the floor fetches too."""
    from sqlalchemy import select

    from shared.crawl.tables import PageSnapshot
    from shared.db import tenant_transaction

    with tenant_transaction(tenant_id) as session:
        return list(
            session.scalars(
                select(PageSnapshot.url).where(
                    PageSnapshot.job_id == crawl_id, PageSnapshot.status == 200, PageSnapshot.redirects == []
                )
            )
        )


def create_resources(env: dict[str, str]) -> None:
    import boto3

    sqs = boto3.client("sqs", region_name=REGION)
    for url in (env["KESTREL_DLQ_URL"], env["KESTREL_PAGE_CRAWL_QUEUE_URL"]):
        sqs.create_queue(QueueName=url.rsplit("/", 1)[1], Attributes={"VisibilityTimeout": "300"})
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=env["KESTREL_RAW_PAGES_BUCKET"], CreateBucketConfiguration={"LocationConstraint": REGION}
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=REPEATS, help="rounds of crawl and floor (medians quoted)")
    parser.add_argument(
        "--budget", type=float, default=BUDGET_S, help="seconds: no round starts that would end past it"
    )
    args = parser.parse_args()
    admin_url = start_embedded(PROJECT_ROOT / ".state" / "bench-postgres")
    name = f"kestrel_bench_crawl_{uuid.uuid4().hex[:8]}"
    database = provision(admin_url, name)
    moto = start_moto()
    site = DemoSiteServer(domain=DOMAIN, scale=SCALE, crawl_delay=0, slow_seconds=0).start()
    run = uuid.uuid4().hex[:6]
    env = environment(database.app_url, database.owner_url, moto.endpoint, site, run)
    context = multiprocessing.get_context("spawn")
    crawls_done: list[dict[str, Any]] = []
    floors: list[dict[str, Any]] = []
    began = time.perf_counter()
    try:
        _configure(env)
        from shared.migrate import migrate_to_head

        migrate_to_head()
        create_resources(env)
        tenant_id = f"org_bench_crawl_{run}"
        ensure_tenant(database.owner_url, tenant_id, "Bench crawl")
        say(f"site: {len(site.catalogue.pages):,} pages in the catalogue; {WORKERS} worker processes")
        for round_number in range(args.repeats):
            elapsed = time.perf_counter() - began
            if crawls_done and elapsed + (elapsed / round_number) > args.budget:
                say(f"stopping after {round_number} rounds: the next would end past the {args.budget:.0f} s budget")
                break
            result = crawl_round(env, tenant_id, context)
            say(
                f"crawl {round_number + 1}: {result['fetched']:,} pages in {result['seconds']:.1f} s"
                f" = {result['pages_per_s']:.1f} pages/s ({result['status']}), peak RSS {result['peak_rss_mb']:.0f} MB"
            )
            crawls_done.append(result)
            urls = fetched_urls(tenant_id, result["crawl_id"])
            floor = floor_round(env, urls, context)
            say(
                f"floor {round_number + 1}: {len(urls):,} pages at {floor['pages_per_s']:.1f} pages/s,"
                f" extract p50 {statistics.median(floor['extract_ms']):.1f} ms"
            )
            floors.append(floor)
    finally:
        site.stop()
        moto.stop()
        drop_database(admin_url, name)
    if not crawls_done:
        return 1
    pages_per_s = statistics.median(r["pages_per_s"] for r in crawls_done)
    floor_per_s = statistics.median(f["pages_per_s"] for f in floors)
    extract_ms = statistics.median(t for f in floors for t in f["extract_ms"])
    peak_rss = max(r["peak_rss_mb"] for r in crawls_done)
    fetched = min(r["fetched"] for r in crawls_done)
    say(
        f"medians over {len(crawls_done)} rounds: crawl {pages_per_s:.1f} pages/s, floor {floor_per_s:.1f} pages/s;"
        f" peak RSS {peak_rss:.0f} of {FUNCTION_MEMORY_MB} MB; at least {fetched:,} pages per crawl"
    )
    print(
        f"bench-crawl pages_per_s={pages_per_s:.1f} vs_floor={pages_per_s / floor_per_s:.2f}"
        f" extract_ms_p50={extract_ms:.1f} peak_rss_mb={peak_rss:.0f}"
    )
    return 0 if fetched >= 2_000 and all(r["status"] != "failed" for r in crawls_done) else 1


if __name__ == "__main__":
    sys.exit(main())
