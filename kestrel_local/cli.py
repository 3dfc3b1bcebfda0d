"""``kestrel``: run the Kestrel platform on this machine (see `kestrel --help`)."""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from kestrel_local.config import LocalSettings, local_settings
from kestrel_local.dataforseo import LOCAL_LOGIN, LOCAL_PASSWORD
from kestrel_local.stack import LocalStack, Runtime, StatePaths, local_client

EXIT_OK, EXIT_ERROR = 0, 1


def _paths(settings: LocalSettings) -> StatePaths:
    return StatePaths(settings.state_dir)


def _stack_spec(settings: LocalSettings, runtime: Runtime) -> Any:
    from kestrel_local.stack import load_local_stack

    return load_local_stack(settings, _paths(settings), issuer=runtime.issuer, aws_endpoint=runtime.aws_endpoint)


def _sqs(runtime: Runtime) -> Any:
    return local_client("sqs", endpoint=runtime.aws_endpoint, region=runtime.region)


def all_permissions(spec: Any) -> list[str]:
    """Every permission the API's routes require."""
    return sorted({scope for route in spec.routes for scope in route.scopes})


def mint(settings: LocalSettings, runtime: Runtime, *, tenant: str, user: str, permissions: list[str] | None) -> str:
    from kestrel_local.identity import current_signing_key, mint_token
    from kestrel_local.tenants import ensure_tenant

    ensure_tenant(runtime.owner_database_url, tenant, tenant)
    chosen = permissions if permissions is not None else all_permissions(_stack_spec(settings, runtime))
    return mint_token(
        current_signing_key(_paths(settings).identity),
        runtime.issuer,
        audience=runtime.audience,
        tenant=tenant,
        user=user,
        permissions=chosen,
    )


def banner(
    settings: LocalSettings,
    runtime: Runtime,
    project_id: str,
    backfill_job_id: str | None = None,
    crawl_id: str | None = None,
) -> str:
    from kestrel_local.demo import DEMO_TENANT, DEMO_USER

    token = mint(settings, runtime, tenant=DEMO_TENANT, user=DEMO_USER.removeprefix("auth0|"), permissions=None)
    api = runtime.api_url
    backfill = (
        "\nThe demo property's Search Console backfill runs in the background (progress and days):\n\n"
        f"  curl -s -H 'Authorization: Bearer {token}' {api}/v1/projects/{project_id}/jobs/{backfill_job_id}\n"
        if backfill_job_id
        else ""
    )
    crawl = (
        "\nThe demo site's crawl (progress, then its pages and the site audit):\n\n"
        f"  curl -s -H 'Authorization: Bearer {token}' {api}/v1/projects/{project_id}/crawls/{crawl_id}\n\n"
        f"  curl -s -H 'Authorization: Bearer {token}' {api}/v1/projects/{project_id}/audit\n"
        if crawl_id
        else ""
    )
    nlp = runtime.nlp_service_url
    entities = (
        "\nThe NLP service the functions call (entities of a text):\n\n"
        f"  curl -s {nlp}/v1/entities -H 'content-type: application/json' "
        """-d '{"documents": [{"id": "1", "text": "Salomon opened a store in Annecy."}]}'\n"""
        if nlp
        else ""
    )
    dataforseo = runtime.dataforseo_api
    serp = (
        "\nThe DataForSEO stand-in (the SERP API the rank checks call; login in the secret "
        f"{runtime.dataforseo_secret_name}):\n\n"
        f"  curl -s -u {LOCAL_LOGIN}:{LOCAL_PASSWORD} {dataforseo}/v3/serp/google/organic/live/advanced "
        """-H 'content-type: application/json' -d '[{"keyword": "best hiking boots", "location_code": 2840, """
        """"language_code": "en", "depth": 10}]'\n"""
        if dataforseo and runtime.dataforseo_stand_in
        else ""
    )
    return (
        "\nKestrel is up.\n"
        f"  API:           {api}   (OpenAPI: {api}/v1/openapi.json)\n"
        f"  Identity:      {runtime.issuer}   (`kestrel token --tenant T --user U` for more tokens)\n"
        f"  AWS emulator:  {runtime.aws_endpoint}\n"
        f"  NLP service:   {nlp or 'none'}   (/ready, /version, /v1/entities, /v1/topics/...)\n"
        f"  DataForSEO:    {dataforseo or 'none'}   ({'stand-in; ' if runtime.dataforseo_stand_in else ''}"
        f"secret {runtime.dataforseo_secret_name or 'none'}; `kestrel logs dataforseo`)\n"
        f"  State:         {settings.state_dir}   (`kestrel status`, `kestrel logs -f`, `kestrel mail`)\n"
        f"\nA demo token for tenant {DEMO_TENANT} (valid 24 h):\n\n  {token}\n"
        "\nTry:\n\n"
        f"  curl -s {api}/v1/health\n\n"
        f"  curl -s -H 'Authorization: Bearer {token}' {api}/v1/projects\n\n"
        f"  curl -s -H 'Authorization: Bearer {token}' '{api}/v1/projects/{project_id}/keywords?tag=brand'\n"
        f"{backfill}"
        f"{crawl}"
        f"{entities}"
        f"{serp}"
    )


def cmd_up(args: argparse.Namespace) -> int:
    settings = local_settings()
    paths = _paths(settings)
    if args.detach:
        return _up_detached(settings, paths)
    if paths.runtime.exists() and _alive(Runtime.read(paths).pid):
        print(f"The local stack is already running (pid {Runtime.read(paths).pid}); `kestrel down` stops it.")
        return EXIT_ERROR
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print("Starting the local stack...", flush=True)
    stack = LocalStack(settings)
    try:
        stack.start()
        from kestrel_local.demo import connect_search_console, seed, start_demo_crawl

        project = seed(Runtime.read(paths).owner_database_url)
        backfill = None
        if stack.search_console is not None:
            stack.act_as("api_imports")
            backfill = connect_search_console(
                stack.search_console, project.id, backfill_days=settings.demo_backfill_days
            )
        crawl = None
        if stack.demo_site is not None:
            stack.act_as("api_content")
            crawl = start_demo_crawl(project.id)
        text = banner(
            settings,
            Runtime.read(paths),
            str(project.id),
            str(backfill.id) if backfill else None,
            str(crawl.id) if crawl else None,
        )
        (paths.root / "banner.txt").write_text(text)
        print(text, flush=True)
        if args.no_wait:
            return EXIT_OK
        print("Serving. Ctrl-C stops everything (queued messages are kept for the next `up`).", flush=True)
        stop.wait()
    finally:
        print("Stopping: letting in-flight invocations finish...", flush=True)
        stack.stop()
        print("Stopped.", flush=True)
    return EXIT_OK


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _up_detached(settings: LocalSettings, paths: StatePaths) -> int:
    paths.root.mkdir(parents=True, exist_ok=True)
    (paths.root / "banner.txt").unlink(missing_ok=True)
    log = (paths.root / "up.log").open("ab")
    child = subprocess.Popen(
        [sys.executable, "-m", "kestrel_local.cli", "up"],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if child.poll() is not None:
            print(f"`kestrel up` exited with {child.returncode}; see {paths.root / 'up.log'}")
            return EXIT_ERROR
        if (paths.root / "banner.txt").exists():
            print((paths.root / "banner.txt").read_text())
            print(f"Running in the background (pid {child.pid}); `kestrel down` stops it.")
            return EXIT_OK
        time.sleep(0.2)
    print("The local stack did not come up in time; see the log in the state directory.")
    return EXIT_ERROR


def cmd_down(args: argparse.Namespace) -> int:
    paths = _paths(local_settings())
    try:
        runtime = Runtime.read(paths)
    except RuntimeError as exc:
        print(exc)
        return EXIT_OK
    os.kill(runtime.pid, signal.SIGTERM)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline and _alive(runtime.pid) and paths.runtime.exists():
        time.sleep(0.2)
    while time.monotonic() < deadline and _alive(runtime.pid):
        time.sleep(0.2)
    if _alive(runtime.pid):
        print(f"The stack (pid {runtime.pid}) is still stopping after {args.timeout}s.")
        return EXIT_ERROR
    print("Stopped.")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    settings = local_settings()
    paths = _paths(settings)
    runtime = Runtime.read(paths)
    status = json.loads(paths.status.read_text()) if paths.status.exists() else {}
    spec = _stack_spec(settings, runtime)
    sqs = _sqs(runtime)
    queues = {}
    for queue in spec.queues.values():
        attributes = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
        queues[queue.name] = {
            "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
            "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        }
    nlp_service = {"url": runtime.nlp_service_url, "ready": _nlp_ready(runtime.nlp_service_url)}
    report = {"api": runtime.api_url, "pid": runtime.pid, **status, "queues": queues, "nlp_service": nlp_service}
    if args.json:
        print(json.dumps(report, indent=2))
        return EXIT_OK
    print(f"Local stack pid {runtime.pid}, API {runtime.api_url}")
    readiness = "ready" if nlp_service["ready"] else "NOT READY"
    print(f"NLP service {runtime.nlp_service_url or 'none'} ({readiness}; log: kestrel logs nlp_service)")
    dataforseo = status.get("dataforseo") or {}
    if dataforseo.get("stand_in"):
        print(
            f"DataForSEO stand-in {dataforseo['url']}: {dataforseo['tasks']} tasks "
            f"({dataforseo['not_collected']} not collected), ${dataforseo['spent_usd']} spent "
            "(log: kestrel logs dataforseo)"
        )
    else:
        print(f"DataForSEO {runtime.dataforseo_api or 'none'}")
    print("\nFunctions:")
    for name, stats in status.get("functions", {}).items():
        print(
            f"  {name:<18} invocations {stats['invocations']:>6}  errors {stats['errors']:>4}  "
            f"throttles {stats['throttles']:>4}  in use {stats['concurrency_in_use']}/{stats['limit']}"
        )
    print("\nQueues:")
    for name, depth in queues.items():
        print(f"  {name:<40} {depth['visible']:>6} visible  {depth['in_flight']:>6} in flight")
    print("\nAlarms:")
    for name, state in status.get("alarms", {}).items():
        print(f"  {name:<48} {state}")
    return EXIT_OK


def _nlp_ready(url: str) -> bool:
    """Whether the NLP service answers /ready (spaCy loaded) right now."""
    if not url:
        return False
    try:
        with urllib.request.urlopen(f"{url}/ready", timeout=5) as response:  # noqa: S310 - the stack's own URL
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


def cmd_token(args: argparse.Namespace) -> int:
    settings = local_settings()
    runtime = Runtime.read(_paths(settings))
    print(mint(settings, runtime, tenant=args.tenant, user=args.user, permissions=args.permissions))
    return EXIT_OK


def cmd_invoke(args: argparse.Namespace) -> int:
    from kestrel_local.environments import Environments
    from kestrel_local.stack import function_overrides

    settings = local_settings()
    paths = _paths(settings)
    runtime = Runtime.read(paths)
    spec = _stack_spec(settings, runtime)
    if args.function not in spec.functions:
        print(f"No function {args.function!r}; the stack has: {', '.join(sorted(spec.functions))}")
        return EXIT_ERROR
    event = json.loads(Path(args.event).read_text()) if args.event != "-" else json.load(sys.stdin)
    overrides = function_overrides(
        runtime.app_database_url,
        runtime.aws_endpoint,
        settings,
        search_console=runtime.search_console,
        demo_site=runtime.demo_site,
        nlp_service_url=runtime.nlp_service_url,
        dataforseo_api=runtime.dataforseo_api,
    )
    environments = Environments({args.function: spec.functions[args.function]}, overrides, paths.logs)
    try:
        result = environments.invoke(args.function, event)
    finally:
        environments.close()
    if result.ok:
        print(json.dumps(result.response, indent=2, default=str))
        return EXIT_OK
    print(json.dumps({"errorType": result.error_type, "errorMessage": result.error_message}, indent=2))
    return EXIT_ERROR


def cmd_logs(args: argparse.Namespace) -> int:
    log_dir = _paths(local_settings()).logs
    files = [log_dir / f"{args.function}.log"] if args.function else sorted(log_dir.glob("*.log"))
    positions: dict[Path, int] = {}
    while True:
        for path in files:
            if not path.exists():
                continue
            with path.open() as log:
                log.seek(positions.get(path, 0))
                for line in log:
                    prefix = "" if args.function else f"{path.stem}: "
                    print(prefix + line.rstrip("\n"), flush=True)
                positions[path] = log.tell()
        if not args.follow:
            return EXIT_OK
        time.sleep(0.5)
        if not args.function:
            files = sorted(log_dir.glob("*.log"))


def _worker_queue(spec: Any, worker: str) -> str:
    for source in spec.event_sources:
        if source.function == worker:
            queue: str = source.queue
            return queue
    workers = sorted({source.function for source in spec.event_sources})
    raise SystemExit(f"No worker {worker!r}; the workers are: {', '.join(workers)}")


def cmd_dlq(args: argparse.Namespace) -> int:
    from kestrel_local.provision import provision
    from kestrel_local.queues_state import dlq_list, dlq_redrive

    settings = local_settings()
    runtime = Runtime.read(_paths(settings))
    spec = _stack_spec(settings, runtime)
    queue = _worker_queue(spec, args.worker)
    provisioned = provision(spec, endpoint_url=runtime.aws_endpoint)
    sqs = _sqs(runtime)
    if args.action == "redrive":
        result = dlq_redrive(provisioned, sqs=sqs, queue=queue)
        print(f"Moved back to their queues: {result.moved or 'nothing'}")
        return EXIT_OK
    messages = dlq_list(provisioned, sqs=sqs, queue=queue)
    if not messages:
        print(f"The dead-letter queue of {args.worker} is empty.")
    for message in messages:
        print(
            json.dumps(
                {
                    "message_id": message.message_id,
                    "reason": message.quarantine_reason or "redriven by SQS after maxReceiveCount",
                    "attributes": message.message_attributes,
                    "receive_count": message.receive_count,
                    "body": message.body[:500],
                },
                indent=2,
            )
        )
    return EXIT_OK


def cmd_mail(args: argparse.Namespace) -> int:
    from kestrel_local.mail import Mailbox

    mailbox = Mailbox(_paths(local_settings()).mail)
    if args.id:
        message = mailbox.read(args.id)
        print(f"To: {message.to}\nSubject: {message.subject}\nDate: {message.date}\n\n{message.body}")
        return EXIT_OK
    messages = mailbox.list()
    if not messages:
        print("No mail.")
    for message in messages:
        print(f"{message.id}  {message.date}  {message.to}  {message.subject}")
    return EXIT_OK


def cmd_schedule(args: argparse.Namespace) -> int:
    from kestrel_local.provision import provision
    from kestrel_local.schedules import Scheduler

    settings = local_settings()
    runtime = Runtime.read(_paths(settings))
    spec = _stack_spec(settings, runtime)
    provisioned = provision(spec, endpoint_url=runtime.aws_endpoint)
    names = [schedule.name for schedule in spec.schedules]
    if args.action == "list" or args.name not in names:
        if args.action == "run":
            print(f"No schedule {args.name!r}.")
        print("Schedules:", ", ".join(names) or "none")
        return EXIT_OK if args.action == "list" else EXIT_ERROR
    scheduler = Scheduler(
        spec.schedules,
        region=runtime.region,
        account_id=spec.account_id,
        sqs=_sqs(runtime),
        queue_urls={logical_id: queue.url for logical_id, queue in provisioned.queues.items()},
    )
    for firing in scheduler.run_now(args.name):
        print(f"Fired {firing.schedule} into {firing.target}: {firing.payload[:200]}")
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="kestrel", description="Run the Kestrel platform on this machine.")
    commands = root.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start everything (foreground; Ctrl-C stops it)")
    up.add_argument("--detach", action="store_true", help="run in the background; `kestrel down` stops it")
    up.add_argument("--no-wait", action="store_true", help="start, seed, print, then stop (a smoke test)")
    up.set_defaults(func=cmd_up)

    down = commands.add_parser("down", help="stop a stack started with --detach (or in another terminal)")
    down.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for in-flight work")
    down.set_defaults(func=cmd_down)

    status = commands.add_parser("status", help="functions, queues and alarms of the running stack")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    token = commands.add_parser("token", help="print a signed token from the local identity issuer")
    token.add_argument("--tenant", required=True, help="the organization (org_id); created if missing")
    token.add_argument("--user", default="local-user")
    token.add_argument("--permissions", nargs="*", default=None, help="default: every permission the API defines")
    token.set_defaults(func=cmd_token)

    invoke = commands.add_parser("invoke", help="invoke a function with an event file, print its response")
    invoke.add_argument("function")
    invoke.add_argument("--event", required=True, help="a JSON event file, or - for standard input")
    invoke.set_defaults(func=cmd_invoke)

    logs = commands.add_parser("logs", help="the functions' JSON log lines")
    logs.add_argument("function", nargs="?")
    logs.add_argument("-f", "--follow", action="store_true")
    logs.set_defaults(func=cmd_logs)

    dlq = commands.add_parser("dlq", help="a worker's dead-letter queue")
    dlq.add_argument("action", choices=["list", "redrive"])
    dlq.add_argument("worker")
    dlq.set_defaults(func=cmd_dlq)

    mail = commands.add_parser("mail", help="the ops mailbox (alarm e-mails)")
    mail.add_argument("id", nargs="?")
    mail.set_defaults(func=cmd_mail)

    schedule = commands.add_parser("schedule", help="the stack's EventBridge schedules")
    schedule.add_argument("action", choices=["run", "list"])
    schedule.add_argument("name", nargs="?")
    schedule.set_defaults(func=cmd_schedule)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        result: int = args.func(args)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return EXIT_ERROR
    return result


if __name__ == "__main__":
    sys.exit(main())
