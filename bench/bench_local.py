"""What the local stack costs: the queue runner per message and the gateway per request.

Each figure is printed beside a direct in-process call of the same handler,
measured in the same run, so the overhead reads as a ratio. Medians throughout;
the machine is shared and noisy. The last line is machine-readable.

    make bench-local
"""

import dataclasses
import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from kestrel_local.config import PROJECT_ROOT, LocalSettings
from kestrel_local.environments import Environments
from kestrel_local.gateway import Gateway
from kestrel_local.identity import LocalIdentity
from kestrel_local.lambda_context import LocalLambdaContext
from kestrel_local.model import EventSourceSpec, FunctionSpec
from kestrel_local.moto_server import start_moto
from kestrel_local.packaging import package_local_template
from kestrel_local.postgres import drop_database, provision, start_embedded
from kestrel_local.runner import QueueRunner
from kestrel_local.sqs_events import sqs_event
from kestrel_local.stack import configure_process, function_overrides, local_client
from kestrel_local.template import load_stack
from kestrel_local.tenants import ensure_tenant

REGION = "eu-west-1"
RUNNER_MESSAGES = 10_000
LATENCY_MESSAGES = 500
GATEWAY_REQUESTS = 400
BACKLOG = 30  # moto scans every queued message on each call: a deep queue measures moto, not the runner


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def bench_runner(workdir: Path, endpoint: str) -> dict[str, float]:
    sqs = local_client("sqs", endpoint=endpoint, region=REGION)
    latency_file = workdir / "latency.jsonl"
    spec = FunctionSpec(
        name="empty",
        logical_id="EmptyLambdaFunction",
        physical_name="bench-empty",
        handler="bench/handlers.empty_sqs",
        timeout_seconds=30,
        memory_mb=256,
        environment={"BENCH_LATENCY_FILE": str(latency_file)},
        reserved_concurrency=4,
    )
    environments = Environments({"empty": spec}, overrides={}, log_dir=workdir / "logs")
    queue_url = sqs.create_queue(QueueName=f"bench-{uuid.uuid4().hex[:6]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    source = EventSourceSpec("empty", "Bench", 10, 0, True, None)

    def send(count: int, pause: float = 0.0) -> None:
        for _ in range(count // 10):
            sqs.send_message_batch(QueueUrl=queue_url, Entries=[{"Id": str(i), "MessageBody": "{}"} for i in range(10)])
            if pause:
                time.sleep(pause)

    def depth() -> int:
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    environments.invoke("empty", sqs_event([], queue_arn=queue_arn, region=REGION))  # warm one environment
    runner = QueueRunner(
        source, queue_url=queue_url, queue_arn=queue_arn, region=REGION, pool=environments.pools["empty"], sqs=sqs
    )

    def feed() -> None:
        # moto's ReceiveMessage scans the whole queue: keep the backlog bounded, as a steady producer would.
        sent = 0
        while sent < RUNNER_MESSAGES:
            if sent - runner.stats.messages_deleted > BACKLOG:
                time.sleep(0.005)
                continue
            send(10)
            sent += 10

    started = time.perf_counter()
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    runner.start()
    while runner.stats.messages_deleted < RUNNER_MESSAGES:
        time.sleep(0.05)
    throughput = RUNNER_MESSAGES / (time.perf_counter() - started)
    feeder.join()

    latency_file.write_text("")  # latency: a steady trickle into an idle, warm runner
    send(LATENCY_MESSAGES, pause=0.02)
    while depth() > 0 or runner.stats.in_flight:
        time.sleep(0.05)
    latencies = [value for line in latency_file.read_text().splitlines() for value in json.loads(line)]
    runner.stop()
    environments.close()

    # The emulator's own floor: the same traffic through a bare receive/delete loop, no runner, no handler.
    floor_count = RUNNER_MESSAGES // 5
    began = time.perf_counter()
    consumed = 0
    while consumed < floor_count:
        send(10)
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
            "Messages", []
        )
        if got:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
            sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
            consumed += len(got)
    emulator_floor = floor_count / (time.perf_counter() - began)

    # The same handler called directly, with the same ten-record events, in this process.
    from bench.handlers import empty_sqs

    messages = [
        {"MessageId": str(i), "ReceiptHandle": "r", "Body": "{}", "MD5OfBody": "x",
         "Attributes": {"SentTimestamp": str(int(time.time() * 1000))}}
        for i in range(10)
    ]  # fmt: skip
    event = sqs_event(messages, queue_arn=queue_arn, region=REGION)
    context = LocalLambdaContext(function_name="bench-empty")
    began = time.perf_counter()
    for _ in range(RUNNER_MESSAGES // 10):
        empty_sqs(event, context)
    direct = RUNNER_MESSAGES / (time.perf_counter() - began)
    return {
        "runner_msgs_per_s": throughput,
        "direct_msgs_per_s": direct,
        "emulator_floor_msgs_per_s": emulator_floor,
        "runner_p50_ms": statistics.median(latencies),
        "runner_p99_ms": percentile(latencies, 0.99),
    }


def _time_requests(url: str, headers: dict[str, str], count: int) -> tuple[list[float], float]:
    latencies = []
    began = time.perf_counter()
    for _ in range(count):
        start = time.perf_counter()
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:  # noqa: S310
            response.read()
            assert response.status == 200, response.status
        latencies.append((time.perf_counter() - start) * 1000)
    return latencies, count / (time.perf_counter() - began)


def bench_gateway(workdir: Path, endpoint: str, database: Any) -> dict[str, dict[str, float]]:
    settings = LocalSettings(state_dir=workdir)
    configure_process(database, endpoint, settings)
    from shared.migrate import migrate_to_head

    migrate_to_head()
    identity = LocalIdentity(workdir / "identity", audience=settings.audience).start()
    template = package_local_template(
        PROJECT_ROOT,
        params={"auth0IssuerUrl": "http://127.0.0.1:3001/", "auth0Audience": settings.audience},
        cache_dir=PROJECT_ROOT / ".state" / "local" / "template-cache",
    )
    stack = load_stack(template, stage="local", region=REGION, secrets_dir=workdir / "secrets", endpoint_url=endpoint)
    # The template's routes, with the authorizer pointed at this benchmark's own issuer.
    routes = [
        dataclasses.replace(route, authorizer=dataclasses.replace(route.authorizer, issuer=identity.issuer))
        if route.authorizer else route
        for route in stack.routes
    ]  # fmt: skip
    api = {"api_projects": stack.functions["api_projects"]}
    environments = Environments(api, function_overrides(database.app_url, endpoint, settings), workdir / "logs")
    gateway = Gateway(routes, environments).start()
    tenant = f"org_bench_{uuid.uuid4().hex[:8]}"
    ensure_tenant(database.owner_url, tenant, "Bench")
    token = identity.mint_token(tenant=tenant, permissions=["read:projects", "write:projects"])
    auth = {"authorization": f"Bearer {token}"}

    from functions.api_projects.handler import handler
    from tests.support.http_events import claims, http_event

    cases = {
        "health": (f"{gateway.url}/v1/health", {}, http_event("GET", "/v1/health")),
        "authenticated_read": (
            f"{gateway.url}/v1/projects",
            auth,
            http_event("GET", "/v1/projects", jwt_claims=claims(tenant, permissions=("read:projects",))),
        ),
    }
    results: dict[str, dict[str, float]] = {}
    for name, (url, headers, event) in cases.items():
        _time_requests(url, headers, 20)  # warm the environment and the verifier's key cache
        gateway_ms, per_second = _time_requests(url, headers, GATEWAY_REQUESTS)
        direct_ms = []
        context: Any = LocalLambdaContext(function_name="api_projects")
        for _ in range(GATEWAY_REQUESTS):
            start = time.perf_counter()
            response = handler(event, context)
            assert response["statusCode"] == 200, response
            direct_ms.append((time.perf_counter() - start) * 1000)
        results[name] = {
            "gateway_p50_ms": statistics.median(gateway_ms),
            "gateway_p99_ms": percentile(gateway_ms, 0.99),
            "gateway_rps": per_second,
            "direct_p50_ms": statistics.median(direct_ms),
        }
    gateway.stop()
    environments.close()
    identity.stop()
    return results


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="kestrel-bench-local-"))
    admin_url = start_embedded(PROJECT_ROOT / ".state" / "bench-postgres")
    name = f"kestrel_bench_{uuid.uuid4().hex[:8]}"
    database = provision(admin_url, name)
    moto = start_moto()
    try:
        runner = bench_runner(workdir, moto.endpoint)
        gateway = bench_gateway(workdir, moto.endpoint, database)
    finally:
        moto.stop()
        drop_database(admin_url, name)

    print("Queue runner (empty handler, 10 messages per batch, up to 4 concurrent environments)")
    ratio = runner["runner_msgs_per_s"] / runner["direct_msgs_per_s"]
    floor_ratio = runner["runner_msgs_per_s"] / runner["emulator_floor_msgs_per_s"]
    print(
        f"  throughput        {runner['runner_msgs_per_s']:10.0f} msg/s"
        f"   direct call {runner['direct_msgs_per_s']:10.0f} msg/s   ratio {ratio:.4f}"
    )
    print(
        f"  emulator floor    {runner['emulator_floor_msgs_per_s']:10.0f} msg/s  (send/receive/delete alone)"
        f"   runner / floor {floor_ratio:.2f}"
    )
    print(f"  send -> handler   p50 {runner['runner_p50_ms']:.1f} ms   p99 {runner['runner_p99_ms']:.1f} ms")
    print("HTTP gateway (sequential requests; direct = the same handler called in-process)")
    for case, figures in gateway.items():
        print(
            f"  {case:<19} gateway p50 {figures['gateway_p50_ms']:7.2f} ms  p99 {figures['gateway_p99_ms']:7.2f} ms"
            f"  {figures['gateway_rps']:6.0f} req/s   direct p50 {figures['direct_p50_ms']:6.2f} ms"
            f"   ratio {figures['gateway_p50_ms'] / figures['direct_p50_ms']:.1f}x"
        )
    read = gateway["authenticated_read"]
    print(
        f"bench-local runner_msgs_per_s={runner['runner_msgs_per_s']:.0f} runner_p50_ms={runner['runner_p50_ms']:.1f}"
        f" gateway_p50_ms={read['gateway_p50_ms']:.2f} gateway_p99_ms={read['gateway_p99_ms']:.2f}"
        f" gateway_overhead_p50_ms={read['gateway_p50_ms'] - read['direct_p50_ms']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
