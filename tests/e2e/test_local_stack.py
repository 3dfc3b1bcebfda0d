"""The local stack end to end: only HTTP, the AWS API and the `kestrel` command, as a developer uses it."""

import base64
import hashlib
import hmac
import itertools
import json
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import jwt
import psycopg
import pytest

from kestrel_local.identity import current_signing_key, mint_token
from tests.e2e.conftest import RunningStack

# Starting the stack packages the local template, and some tests wait on redelivery and alarm periods.
pytestmark = pytest.mark.timeout(900)

FILE_IMPORT_QUEUE = "kestrel-local-file-import"
FILE_IMPORT_DLQ = "kestrel-local-file-import-dlq"
DLQ_ALARM = "kestrel-local-file-import-dlq-depth"


def request(method: str, url: str, *, token: str | None = None, body: Any = None, raw: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, Any]:  # fmt: skip
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    all_headers = {"content-type": "application/json", **(headers or {})}
    if token:
        all_headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=60) as response:  # noqa: S310
            payload = response.read()
            return response.status, json.loads(payload) if payload else None
    except urllib.error.HTTPError as error:
        payload = error.read()
        return error.code, json.loads(payload) if payload else None


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def wait_for(predicate: Any, *, timeout: float = 120.0, interval: float = 0.5, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def tenant_token(stack: RunningStack, tenant: str, *permissions: str) -> str:
    args = ["token", "--tenant", tenant, "--user", "e2e"]
    if permissions:
        args += ["--permissions", *permissions]
    return stack.cli(*args).strip()


def new_project(stack: RunningStack, token: str) -> dict[str, Any]:
    domain = f"site-{time.monotonic_ns()}.example.com"
    status, project = request("POST", f"{stack.api}/v1/projects", token=token, body={"name": "E2E", "domain": domain})
    assert status == 201, project
    return dict(project)


def start_import(stack: RunningStack, token: str, project: dict[str, Any], csv_text: str) -> str:
    status, started = request("POST", f"{stack.api}/v1/projects/{project['id']}/keyword-imports", token=token, body={})
    assert status == 202, started
    upload = started["upload"]
    put = urllib.request.Request(upload["url"], data=csv_text.encode(), method="PUT", headers=upload["headers"])  # noqa: S310
    with urllib.request.urlopen(put, timeout=30) as response:  # noqa: S310
        assert response.status == 200
    return str(started["job"]["id"])


def job(stack: RunningStack, token: str, project: dict[str, Any], job_id: str) -> dict[str, Any]:
    status, body = request("GET", f"{stack.api}/v1/projects/{project['id']}/keyword-imports/{job_id}", token=token)
    assert status == 200, body
    return dict(body)


def finished(stack: RunningStack, token: str, project: dict[str, Any], job_id: str) -> dict[str, Any] | None:
    body = job(stack, token, project, job_id)
    return body if body["status"] not in ("pending", "running") else None


def test_the_gateway_verifies_tokens_as_api_gateway_does(local_stack: RunningStack) -> None:
    stack = local_stack
    runtime = stack.runtime
    url = f"{stack.api}/v1/projects"
    good = tenant_token(stack, "org_e2e_auth")
    assert request("GET", url, token=good)[0] == 200
    assert request("GET", f"{stack.api}/v1/health")[0] == 200  # public route

    key = current_signing_key(stack.state_dir / "identity")
    claims = jwt.decode(good, options={"verify_signature": False})
    header, payload, signature = good.split(".")
    unsigned = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    tampered_claims = {**claims, "org_id": "org_someone_else"}
    tampered = b64url(json.dumps(tampered_claims).encode())
    hs_header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key.kid}).encode())
    hs_mac = hmac.new(key.public_pem(), f"{hs_header}.{payload}".encode(), hashlib.sha256).digest()
    hs256_with_public_key = f"{hs_header}.{payload}.{b64url(hs_mac)}"
    rejected = {
        "missing": None,
        "alg none": f"{unsigned}.{payload}.",
        "HS256 with the public key": hs256_with_public_key,
        "unknown kid": jwt.encode(claims, key.to_pem(), algorithm="RS256", headers={"kid": "not-a-key"}),
        "tampered payload": f"{header}.{tampered}.{signature}",
        "expired": mint_token(
            key,
            runtime["issuer"],
            audience=runtime["audience"],
            tenant="org_e2e_auth",
            issued_at=int(time.time()) - 7200,
            lifetime_seconds=3600,
        ),
        "wrong audience": mint_token(key, runtime["issuer"], audience="https://someone.else", tenant="org_e2e_auth"),
        "wrong issuer": mint_token(key, "https://evil.example/", audience=runtime["audience"], tenant="org_e2e_auth"),
    }
    for name, token in rejected.items():
        status, body = request("GET", url, token=token)
        assert (name, status, body) == (name, 401, {"message": "Unauthorized"})
    read_only = tenant_token(stack, "org_e2e_auth", "read:projects")
    assert request("GET", url, token=read_only)[0] == 200
    assert request("POST", url, token=read_only, body={"name": "x", "domain": "x.example.com"}) == (
        403,
        {"message": "Forbidden"},
    )


def test_keyword_import_end_to_end(local_stack: RunningStack) -> None:
    stack = local_stack
    token = tenant_token(stack, "org_e2e_import")
    project = new_project(stack, token)
    job_id = start_import(stack, token, project, "keyword,tags\ntrail shoes,a\nhiking boots,b\n")
    done = wait_for(lambda: finished(stack, token, project, job_id), what="the import job")
    assert done["status"] == "succeeded"
    assert done["counters"]["keywords_created"] == 2
    status, keywords = request("GET", f"{stack.api}/v1/projects/{project['id']}/keywords", token=token)
    assert status == 200
    assert sorted(k["text"] for k in keywords["items"]) == ["hiking boots", "trail shoes"]


def _batch_spans(stack: RunningStack) -> list[tuple[datetime, datetime]]:
    """(start, end) of every file_import invocation, from the handler's own log lines."""
    starts: dict[str, datetime] = {}
    spans = []
    for line in (stack.state_dir / "logs" / "file_import.log").read_text().splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        if entry.get("message") not in ("Batch started", "Batch finished"):
            continue
        at = datetime.strptime(entry["timestamp"], "%Y-%m-%d %H:%M:%S,%f%z")
        if entry["message"] == "Batch started":
            starts[entry["function_request_id"]] = at
        else:
            spans.append((starts.pop(entry["function_request_id"]), at))
    return spans


def test_a_burst_never_exceeds_reserved_concurrency(local_stack: RunningStack) -> None:
    stack = local_stack
    sqs = stack.client("sqs")
    queue = stack.queue_url(FILE_IMPORT_QUEUE)
    before = stack.status()["runners"]["file_import"]
    body = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "burst"})
    for start in range(0, 500, 10):
        sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": body} for i in range(10)])
        del start
    wait_for(
        lambda: stack.status()["runners"]["file_import"]["deleted"] - before["deleted"] >= 500,
        timeout=300,
        what="500 messages",
    )
    status = stack.status()
    runner = status["runners"]["file_import"]
    assert runner["concurrency_limit"] == 1  # file_import is the singleton
    assert runner["peak_in_flight"] == 1
    assert status["functions"]["file_import"]["peak_concurrency"] == 1
    spans = sorted(_batch_spans(stack))
    assert len(spans) >= runner["batches"] - before["batches"]
    overlaps = [(a, b) for a, b in itertools.pairwise(spans) if b[0] < a[1]]
    assert overlaps == []


def test_poison_message_reaches_the_dlq_alarms_ops_and_can_be_redriven(local_stack: RunningStack) -> None:
    stack = local_stack
    token = tenant_token(stack, "org_e2e_poison")
    project = new_project(stack, token)
    owner_url = stack.runtime["owner_database_url"].replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(owner_url) as blocker:
        # A stuck transaction holds the job row: every delivery fails transiently until SQS gives up.
        job_id = start_import(stack, token, project, "keyword\nstuck keyword\n")
        blocker.execute("SELECT set_config('app.tenant_id', 'org_e2e_poison', true)")
        blocker.execute("SELECT 1 FROM jobs WHERE id = %s FOR UPDATE", (job_id,))
        dlq = stack.queue_url(FILE_IMPORT_DLQ)
        sqs = stack.client("sqs")

        def in_dlq() -> bool:
            attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
            return int(attributes["Attributes"]["ApproximateNumberOfMessages"]) == 1

        wait_for(in_dlq, timeout=180, what="the message in the DLQ")
    listed = stack.cli("dlq", "list", "file_import")
    assert job_id in listed
    assert '"receive_count"' in listed

    mail = wait_for(lambda: f'ALARM: "{DLQ_ALARM}"' in stack.cli("mail") and stack.cli("mail"), timeout=180,
                    what="the alarm e-mail")  # fmt: skip
    message_id = next(line.split()[0] for line in mail.splitlines() if f'ALARM: "{DLQ_ALARM}"' in line)
    text = stack.cli("mail", message_id)
    assert "To: ops+local@kestrel.example" in text
    assert re.search(r"State Change:\s+(OK|INSUFFICIENT_DATA) -> ALARM", text)

    assert "Moved back" in stack.cli("dlq", "redrive", "file_import")
    done = wait_for(lambda: finished(stack, token, project, job_id), what="the redriven import")
    assert done["status"] == "succeeded"
    assert stack.status()["queues"][FILE_IMPORT_DLQ]["visible"] == 0


def test_stopping_loses_nothing(local_stack: RunningStack) -> None:
    stack = local_stack
    # More files than the singleton worker takes per batch, each big enough that loading a batch takes
    # far longer than uploading them all: messages are certainly still queued when the stop comes.
    uploads, lines = 25, 1000
    token = tenant_token(stack, "org_e2e_restart")
    project = new_project(stack, token)
    files = ["keyword\n" + "".join(f"restart {n} {i}\n" for i in range(lines)) for n in range(uploads)]
    with ThreadPoolExecutor(max_workers=8) as pool:  # all at once: far more than the singleton takes per batch
        jobs = list(pool.map(lambda csv_text: start_import(stack, token, project, csv_text), files))
    stack.stop()  # Ctrl-C with messages queued and, most likely, a batch in flight
    saved = (stack.state_dir / "queues.json").read_text()
    assert any(job_id in saved for job_id in jobs), "nothing was left queued at the stop"
    stack.start()  # the emulator kept nothing: the saved messages are re-enqueued
    for job_id in jobs:
        done = wait_for(lambda job_id=job_id: finished(stack, token, project, job_id), what=f"job {job_id}")
        assert done["status"] == "succeeded", done
        assert done["counters"]["keywords_created"] == lines  # each file loaded exactly once in effect
    texts: list[str] = []
    cursor = None
    while True:
        query = "?limit=200" + (f"&cursor={cursor}" if cursor else "")
        status, page = request("GET", f"{stack.api}/v1/projects/{project['id']}/keywords{query}", token=token)
        assert status == 200
        texts += [item["text"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(texts) == len(set(texts)) == uploads * lines


def test_invoke_and_logs_commands(local_stack: RunningStack, tmp_path: Any) -> None:
    stack = local_stack
    event = {
        "version": "2.0",
        "routeKey": "GET /v1/health",
        "rawPath": "/v1/health",
        "rawQueryString": "",
        "headers": {"host": "localhost"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {"method": "GET", "path": "/v1/health", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": "cli"},
            "requestId": "cli-invoke",
            "routeKey": "GET /v1/health",
            "stage": "$default",
            "time": "22/Nov/2026:06:00:00 +0000",
            "timeEpoch": 1795327200000,
        },
        "isBase64Encoded": False,
    }  # fmt: skip
    event_file = tmp_path / "health.json"
    event_file.write_text(json.dumps(event))
    response = json.loads(stack.cli("invoke", "api_projects", "--event", str(event_file)))
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["database"]["at_head"] is True
    batches = [json.loads(line) for line in stack.cli("logs", "file_import").splitlines() if '"Batch started"' in line]
    assert batches, "the worker's JSON log lines are readable through `kestrel logs`"
    assert all(entry["function_name"] == "kestrel-local-file_import" for entry in batches)
    assert all(entry["function_request_id"] for entry in batches)


def test_the_nlp_service_runs_beside_the_stack_and_status_reports_it(local_stack: RunningStack) -> None:
    """`kestrel up` started the service on its port; the functions' URL is in runtime.json, `kestrel status` sees it."""
    stack = local_stack
    url = stack.runtime["nlp_service_url"]
    assert url == f"http://127.0.0.1:{stack.env['KESTREL_LOCAL_NLP_PORT']}"
    status, ready = request("GET", f"{url}/ready")
    assert (status, ready["status"]) == (200, "ready")
    status, found = request(
        "POST", f"{url}/v1/entities", body={"documents": [{"id": "1", "text": "Salomon sells skis."}]}
    )
    assert status == 200, found
    assert stack.status()["nlp_service"] == {"url": url, "ready": True}
    assert "NLP service" in (stack.state_dir / "banner.txt").read_text()


def test_the_dataforseo_stand_in_runs_beside_the_stack_with_its_login_in_the_secret(local_stack: RunningStack) -> None:
    """`kestrel up` started the stand-in on its port and stored its login as the stage's secret; status counts it."""
    stack = local_stack
    runtime = stack.runtime
    url = runtime["dataforseo_api"]
    assert url == f"http://127.0.0.1:{stack.env['KESTREL_LOCAL_DATAFORSEO_PORT']}"
    assert runtime["dataforseo_stand_in"] is True
    secret = stack.client("secretsmanager").get_secret_value(SecretId=runtime["dataforseo_secret_name"])
    login = json.loads(secret["SecretString"])
    auth = base64.b64encode(f"{login['login']}:{login['password']}".encode()).decode()
    task = {"keyword": "best hiking boots", "location_code": 2840, "language_code": "en", "depth": 10, "tag": "e2e"}
    status, answer = request(
        "POST", f"{url}/v3/serp/google/organic/task_post", body=[task], headers={"authorization": f"Basic {auth}"}
    )
    assert status == 200
    assert answer["tasks"][0]["status_code"] == 20100
    status, _ = request("GET", f"{url}/v3/serp/google/organic/tasks_ready")
    assert status == 401
    report = wait_for(lambda: stack.status().get("dataforseo", {}).get("tasks"), what="the stand-in in status")
    assert report >= 1
    assert "task_post" in stack.cli("logs", "dataforseo")
    assert "DataForSEO" in (stack.state_dir / "banner.txt").read_text()
