"""The DataForSEO stand-in's HTTP server: the SERP API's Google organic endpoints as DataForSEO documents them.

Endpoints (all under ``/v3/serp/google/organic``; HTTP basic auth with the stand-in's login, else HTTP 401
with status ``40100``):

* ``POST task_post``: an array of tasks; each answered ``20100 "Task Created."`` with its id, cost and
  ``data`` (what was posted, ``tag`` included), or refused on its own: ``40006`` for the tasks beyond the
  100th, ``40501 "Invalid Field: '<field>'."`` for a missing or invalid keyword, location_code,
  language_code, device, depth or tag. The envelope's ``cost`` is the created tasks' total.
* ``GET tasks_ready``: completed tasks not collected yet, posted in the last three days, 1000 at most.
* ``GET task_get/advanced/{id}``, ``GET task_get/html/{id}``: the SERP (``serp.build_serp``) or its HTML
  pages (``serp.render_pages``); a task not ready yet answers ``40602 "Task In Queue."``, an unknown id
  ``40401 "Task Not Found."``. Getting a task collects it (it leaves ``tasks_ready``).
* ``POST live/advanced``: one task, answered at once with its SERP (more than one: ``40000``).

Tasks are ready ``ready_delay_seconds`` after posting (0 locally). Costs: ``STANDARD_PRICE`` per task of
depth 10 (live: ``LIVE_PRICE``), each further page of ten results 0.75 of that.
"""

import base64
import binascii
import datetime as dt
import hmac
import json
import math
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kestrel_local.dataforseo.serp import Serp, SerpRequest, build_serp, render_pages
from kestrel_local.http_server import BackgroundHttpServer
from shared.ranks.countries import UnknownCountry, by_location_code

# The failure switches: a task whose keyword contains one of these behaves so (see the package docstring).
NO_RESULTS = "kestrel-no-results"
ERROR_ONCE = "kestrel-error-once"
UNPARSEABLE = "kestrel-unparseable"
NEVER_READY = "kestrel-not-ready"

LOCAL_LOGIN = "kestrel-local@example.com"
LOCAL_PASSWORD = "kestrel-local-dataforseo"  # noqa: S105 (the stand-in's own, printed in the banner)
STANDARD_PRICE = Decimal("0.0006")
LIVE_PRICE = Decimal("0.002")
EXTRA_PAGE_SHARE = Decimal("0.75")
MAX_TASKS = 100
READY_WINDOW = dt.timedelta(days=3)
KEEP_TASKS = dt.timedelta(days=30)
VERSION = "0.1.20260101"
_BASE = "/v3/serp/google/organic"
_TASK_GET = re.compile(rf"^{_BASE}/task_get/(advanced|html)/([0-9a-f-]{{36}})$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z]{2,4})?$", re.IGNORECASE)


def task_cost(depth: int, price: Decimal = STANDARD_PRICE) -> Decimal:
    """What a task of ``depth`` results costs: the base price, plus 0.75 of it for each further page of ten."""
    pages = max(1, math.ceil(depth / 10))
    return price * (1 + EXTRA_PAGE_SHARE * (pages - 1))


@dataclass
class Task:
    id: str
    tag: str | None
    keyword: str
    location_code: int
    language_code: str
    device: str
    depth: int
    posted_at: str  # ISO, UTC
    ready_at: str
    cost: str
    collected: bool = False
    failed_once: bool = False

    def request(self) -> SerpRequest:
        return SerpRequest(self.keyword, self.location_code, self.language_code, self.device, self.depth)

    def data(self, function: str) -> dict[str, Any]:
        data: dict[str, Any] = {"api": "serp", "function": function, "se": "google", "se_type": "organic"}
        data |= {"keyword": self.keyword, "location_code": self.location_code, "language_code": self.language_code}
        data |= {"device": self.device, "os": "android" if self.device == "mobile" else "windows"}
        data |= {"depth": self.depth}
        if self.tag is not None:
            data["tag"] = self.tag
        return data


class _Refused(Exception):
    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


@dataclass
class _Failures:
    remaining: int = 0
    http_status: int | None = None  # an HTTP error, or (None) a 50000 envelope


class DataForSeoServer(BackgroundHttpServer):
    """The stand-in on ``host:port`` (``port=0`` picks a free one).

    ``sites`` are the Search Console properties whose pages rank (their site URLs, as the Search Console
    stand-in names them). ``state_file`` keeps the tasks across restarts (JSON); ``log_path`` gets a JSON line
    per request (`kestrel logs dataforseo`). ``now`` is the clock of posting, readiness and SERP dates (tests
    move it).
    """

    def __init__(
        self,
        *,
        sites: Sequence[str],
        host: str = "127.0.0.1",
        port: int = 0,
        login: str = LOCAL_LOGIN,
        password: str = LOCAL_PASSWORD,
        ready_delay_seconds: float = 0.0,
        state_file: Path | None = None,
        log_path: Path | None = None,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.sites = tuple(sites)
        self.login = login
        self.password = password
        self.ready_delay = dt.timedelta(seconds=ready_delay_seconds)
        self.state_file = state_file
        self.log_path = log_path
        self._now = now or (lambda: dt.datetime.now(dt.UTC))
        self._lock = threading.Lock()
        self._tasks: dict[str, Task] = {}
        self._live_failed: set[str] = set()
        self._failures = _Failures()
        self.requests: Counter[str] = Counter()
        self.spent = Decimal(0)
        self._load()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._answer(self.rfile.read(length) if length else b"")

            def _answer(self, raw: bytes) -> None:
                path = urlsplit(self.path).path.rstrip("/")
                status, document = server._handle(self.command, path, raw, self.headers.get("Authorization", ""))
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        super().__init__(host, port, Handler, name="dataforseo")

    # -- for tests and the local stack ----------------------------------------------------------

    def fail_next(self, count: int, *, http_status: int | None = None) -> None:
        """The next ``count`` API calls fail as a whole: HTTP ``http_status`` (500, 503...), or by default an
        envelope with status ``50000 "Internal Error."`` (no task created)."""
        with self._lock:
            self._failures = _Failures(count, http_status)

    def tasks(self) -> list[Task]:
        with self._lock:
            return list(self._tasks.values())

    # -- dispatch -------------------------------------------------------------------------------

    def _handle(self, method: str, path: str, raw: bytes, authorization: str) -> tuple[int, dict[str, Any]]:
        status, document = self._dispatch(method, path, raw, authorization)
        if self.log_path is not None:
            line = {
                "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                "method": method,
                "path": path,
                "http_status": status,
                "status_code": document.get("status_code"),
                "status_message": document.get("status_message"),
                "tasks_count": document.get("tasks_count"),
                "tasks_error": document.get("tasks_error"),
                "cost": document.get("cost"),
            }
            with self._lock:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                with self.log_path.open("a") as log:
                    log.write(json.dumps(line) + "\n")
        return status, document

    def _dispatch(self, method: str, path: str, raw: bytes, authorization: str) -> tuple[int, dict[str, Any]]:
        started = self._now()
        if not self._authorized(authorization):
            self._count("unauthorized")
            message = "You are not authorized to access this resource. See your login details in the dashboard."
            return 401, _envelope(40100, message, [], started, self._now())
        with self._lock:
            failure = self._failures.remaining > 0
            if failure:
                self._failures.remaining -= 1
                http_status = self._failures.http_status
        if failure:
            self._count("failed")
            if http_status is not None:
                message = "Sorry, we could not process your request due to the internal server error."
                return http_status, _envelope(50000, message, [], started, self._now())
            return 200, _envelope(50000, "Internal Error.", [], started, self._now())
        try:
            if method == "POST" and path == f"{_BASE}/task_post":
                self._count("task_post")
                return 200, self._task_post(raw, started)
            if method == "GET" and path == f"{_BASE}/tasks_ready":
                self._count("tasks_ready")
                return 200, self._tasks_ready(started)
            if method == "POST" and path == f"{_BASE}/live/advanced":
                self._count("live/advanced")
                return 200, self._live(raw, started)
            match = _TASK_GET.match(path) if method == "GET" else None
            if match is not None:
                self._count(f"task_get/{match.group(1)}")
                return 200, self._task_get(match.group(1), match.group(2), started)
        except _Refused as refused:
            return 200, _envelope(refused.status_code, refused.message, [], started, self._now())
        self._count("not_found")
        return 404, _envelope(40400, "Not Found.", [], started, self._now())

    def _authorized(self, authorization: str) -> bool:
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, self.login) and hmac.compare_digest(password, self.password)

    def _count(self, endpoint: str) -> None:
        with self._lock:
            self.requests[endpoint] += 1

    # -- endpoints ------------------------------------------------------------------------------

    def _task_post(self, raw: bytes, started: dt.datetime) -> dict[str, Any]:
        posted = _post_array(raw)
        answers = []
        created: list[Task] = []
        now = self._now()
        for index, body in enumerate(posted):
            echo = {"api": "serp", "function": "task_post", "se": "google", "se_type": "organic"}
            echo |= body if isinstance(body, dict) else {}
            task_id = _task_id(now)
            path = ["v3", "serp", "google", "organic", "task_post"]
            if index >= MAX_TASKS:
                answers.append(_task(task_id, 40006, "You can set only 100 tasks at a time.", path, echo, None))
                continue
            try:
                task = self._new_task(task_id, body, now)
            except _Refused as refused:
                answers.append(_task(task_id, refused.status_code, refused.message, path, echo, None))
                continue
            created.append(task)
            answers.append(_task(task_id, 20100, "Task Created.", path, echo, None, cost=Decimal(task.cost)))
        with self._lock:
            for task in created:
                self._tasks[task.id] = task
                self.spent += Decimal(task.cost)
        self._save()
        return _envelope(20000, "Ok.", answers, started, self._now())

    def _new_task(self, task_id: str, body: Any, now: dt.datetime, price: Decimal = STANDARD_PRICE) -> Task:
        if not isinstance(body, dict):
            raise _Refused(40501, "Invalid Field: 'task'.")
        keyword = body.get("keyword")
        if not isinstance(keyword, str) or not keyword.strip() or len(keyword) > 700:
            raise _Refused(40501, "Invalid Field: 'keyword'.")
        location = body.get("location_code")
        try:
            if not isinstance(location, int) or isinstance(location, bool):
                raise UnknownCountry(str(location))
            by_location_code(location)
        except UnknownCountry:
            raise _Refused(40501, "Invalid Field: 'location_code'.") from None
        language = body.get("language_code")
        if not isinstance(language, str) or not _LANGUAGE.match(language):
            raise _Refused(40501, "Invalid Field: 'language_code'.")
        device = body.get("device", "desktop")
        if device not in ("desktop", "mobile"):
            raise _Refused(40501, "Invalid Field: 'device'.")
        depth = body.get("depth", 100)
        if not isinstance(depth, int) or isinstance(depth, bool) or not 1 <= depth <= 700:
            raise _Refused(40501, "Invalid Field: 'depth'.")
        tag = body.get("tag")
        if tag is not None and (not isinstance(tag, str) or len(tag) > 255):
            raise _Refused(40501, "Invalid Field: 'tag'.")
        ready = now + self.ready_delay
        if NEVER_READY in keyword:
            ready = now + dt.timedelta(days=365)
        return Task(
            id=task_id,
            tag=tag,
            keyword=keyword,
            location_code=location,
            language_code=language.lower(),
            device=device,
            depth=depth,
            posted_at=now.isoformat(),
            ready_at=ready.isoformat(),
            cost=str(task_cost(depth, price)),
        )

    def _tasks_ready(self, started: dt.datetime) -> dict[str, Any]:
        now = self._now()
        with self._lock:
            ready = [
                task
                for task in self._tasks.values()
                if not task.collected
                and dt.datetime.fromisoformat(task.ready_at) <= now
                and now - dt.datetime.fromisoformat(task.posted_at) <= READY_WINDOW
            ][:1000]
        result = [
            {
                "id": task.id,
                "se": "google",
                "se_type": "organic",
                "date_posted": _date(dt.datetime.fromisoformat(task.posted_at)),
                "tag": task.tag,
                "endpoint_regular": f"{_BASE}/task_get/regular/{task.id}",
                "endpoint_advanced": f"{_BASE}/task_get/advanced/{task.id}",
                "endpoint_html": f"{_BASE}/task_get/html/{task.id}",
            }
            for task in ready
        ]
        data = {"api": "serp", "function": "tasks_ready", "se": "google", "se_type": "organic"}
        path = ["v3", "serp", "google", "organic", "tasks_ready"]
        answer = _task(_task_id(now), 20000, "Ok.", path, data, result)
        return _envelope(20000, "Ok.", [answer], started, self._now())

    def _task_get(self, kind: str, task_id: str, started: dt.datetime) -> dict[str, Any]:
        now = self._now()
        path = ["v3", "serp", "google", "organic", "task_get", kind, task_id]
        with self._lock:
            task = self._tasks.get(task_id)
        if task is None:
            answer = _task(task_id, 40401, "Task Not Found.", path, {"api": "serp", "function": "task_get"}, None)
            return _envelope(20000, "Ok.", [answer], started, self._now())
        data = task.data("task_get")
        ready_at = dt.datetime.fromisoformat(task.ready_at)
        if ready_at > now:
            answer = _task(task_id, 40602, "Task In Queue.", path, data, None)
            return _envelope(20000, "Ok.", [answer], started, self._now())
        with self._lock:
            task.collected = True
            fail = ERROR_ONCE in task.keyword and not task.failed_once
            task.failed_once = task.failed_once or fail
        self._save()
        answer = self._result(task, kind, data, path, ready_at, fail=fail)
        return _envelope(20000, "Ok.", [answer], started, self._now())

    def _live(self, raw: bytes, started: dt.datetime) -> dict[str, Any]:
        posted = _post_array(raw)
        now = self._now()
        if len(posted) != 1:
            raise _Refused(40000, "You can set only one task at a time.")
        task_id = _task_id(now)
        path = ["v3", "serp", "google", "organic", "live", "advanced"]
        echo = {"api": "serp", "function": "live", "se": "google", "se_type": "organic"}
        echo |= posted[0] if isinstance(posted[0], dict) else {}
        try:
            task = self._new_task(task_id, posted[0], now, LIVE_PRICE)
        except _Refused as refused:
            answer = _task(task_id, refused.status_code, refused.message, path, echo, None)
            return _envelope(20000, "Ok.", [answer], started, self._now())
        # the error-once switch fails the first live call of a keyword: a retried call answers
        with self._lock:
            fail = ERROR_ONCE in task.keyword and task.keyword not in self._live_failed
            if fail:
                self._live_failed.add(task.keyword)
            else:
                self.spent += Decimal(task.cost)
        answer = self._result(task, "advanced", task.data("live"), path, now, fail=fail)
        cost = Decimal(0) if fail else Decimal(task.cost)
        answer["cost"] = float(cost)
        return _envelope(20000, "Ok.", [answer], started, self._now(), cost=cost)

    def _result(
        self, task: Task, kind: str, data: dict[str, Any], path: list[str], checked: dt.datetime, *, fail: bool
    ) -> dict[str, Any]:
        if fail:
            return _task(task.id, 50000, "Internal Error.", path, data, None)
        if NO_RESULTS in task.keyword:
            return _task(task.id, 40102, "No Search Results.", path, data, None)
        request = task.request()
        serp = build_serp(request, check_date=checked.date(), sites=self.sites)
        head = {
            "keyword": task.keyword,
            "type": "organic",
            "se_domain": serp.se_domain,
            "location_code": task.location_code,
            "language_code": task.language_code,
        }
        if kind == "html":
            pages = render_pages(request, serp)
            items = [{"page": index, "date": _date(checked), "html": html} for index, html in enumerate(pages, 1)]
            result = head | {"datetime": _date(checked), "items_count": len(items), "items": items}
            return _task(task.id, 20000, "Ok.", path, data, [result])
        items = _unparseable(serp) if UNPARSEABLE in task.keyword else serp.items
        result = head | {
            "check_url": serp.check_url,
            "datetime": _date(checked),
            "spell": None,
            "refinement_chips": None,
            "item_types": serp.item_types,
            "se_results_count": serp.se_results_count,
            "items_count": len(items),
            "items": items,
        }
        return _task(task.id, 20000, "Ok.", path, data, [result])

    # -- state ----------------------------------------------------------------------------------

    def _load(self) -> None:
        if self.state_file is None or not self.state_file.exists():
            return
        try:
            saved = json.loads(self.state_file.read_text())
        except ValueError:
            return
        cutoff = self._now() - KEEP_TASKS
        for raw in saved.get("tasks", []):
            task = Task(**raw)
            if dt.datetime.fromisoformat(task.posted_at) >= cutoff:
                self._tasks[task.id] = task
        self.spent = Decimal(saved.get("spent", "0"))

    def _save(self) -> None:
        if self.state_file is None:
            return
        with self._lock:
            document = {
                "tasks": [asdict(task) for task in self._tasks.values()],
                "spent": str(self.spent),
            }
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(document))
        temporary.replace(self.state_file)


# ---------------------------------------------------------------- the wire


def _post_array(raw: bytes) -> list[Any]:
    try:
        posted = json.loads(raw or b"null")
    except ValueError:
        raise _Refused(40503, "POST Data Is Invalid.") from None
    if isinstance(posted, dict):  # DataForSEO also takes {"0": {...}, "1": {...}}
        posted = list(posted.values())
    if not isinstance(posted, list) or not posted:
        raise _Refused(40503, "POST Data Is Invalid.")
    return posted


def _task_id(now: dt.datetime) -> str:
    """An id shaped like DataForSEO's: ``MMDDHHMM-1535-0066-0000-<12 hex>`` (a UUID's layout)."""
    return f"{now:%m%d%H%M}-1535-0066-0000-{uuid.uuid4().hex[:12]}"


def _date(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S +00:00")


def _seconds(started: dt.datetime, finished: dt.datetime) -> str:
    return f"{max(0.0, (finished - started).total_seconds()):.4f} sec."


def _task(
    task_id: str,
    status_code: int,
    message: str,
    path: list[str],
    data: Mapping[str, Any],
    result: list[Any] | None,
    *,
    cost: Decimal = Decimal(0),
) -> dict[str, Any]:
    return {
        "id": task_id,
        "status_code": status_code,
        "status_message": message,
        "time": "0.0100 sec.",
        "cost": float(cost),
        "result_count": len(result or []),
        "path": path,
        "data": dict(data),
        "result": result,
    }


def _envelope(
    status_code: int,
    message: str,
    tasks: list[dict[str, Any]],
    started: dt.datetime,
    finished: dt.datetime,
    *,
    cost: Decimal | None = None,
) -> dict[str, Any]:
    total = cost if cost is not None else sum((Decimal(str(task["cost"])) for task in tasks), Decimal(0))
    return {
        "version": VERSION,
        "status_code": status_code,
        "status_message": message,
        "time": _seconds(started, finished),
        "cost": float(total),
        "tasks_count": len(tasks),
        "tasks_error": sum(1 for task in tasks if task["status_code"] >= 40000),
        "tasks": tasks,
    }


def _unparseable(serp: Serp) -> list[dict[str, Any]]:
    """The SERP with its first organic result missing its URL: what a parser change at DataForSEO looks like."""
    items = [dict(item) for item in serp.items]
    for item in items:
        if item["type"] == "organic":
            del item["url"]
            break
    return items
