"""DataForSEO's SERP API (Google organic) over httpx: the standard queue (``task_post``, ``tasks_ready``,
``task_get/advanced``, ``task_get/html``) and ``live/advanced`` for on-demand checks.

Kestrel talks to the REST API itself with the models of ``models`` (the generated ``dataforseo-client``
pins an old urllib3 and imports hundreds of modules at cold start). How answers are classified for the
worker runtime (``shared.errors``):

* HTTP 401, or a ``40100`` status (the login is wrong), or HTTP 402 / a ``402xx`` status other than the
  rate limits (the account cannot pay): ``ConfigurationError``: the message is quarantined and redriven
  once the secret or the account is fixed. A 401 also drops the cached client, so the next invocation
  reads the secret again.
* HTTP 429 / 5xx, network errors and timeouts, a ``5xxxx`` status, the rate-limit statuses: retried
  here ``dataforseo_max_attempts`` times with exponential back-off and jitter, then ``TransientError``
  (SQS retries later). A task still being worked on (``40601``/``40602``) is ``TaskNotReady``. A
  ``task_post`` that may have been carried out (read timeout, HTTP 5xx) is not retried here:
  ``MaybeCarriedOut`` (a ``TransientError``); its tasks, if created, are found by tag in ``tasks_ready``.
* ``40102`` "No Search Results." for a task: ``NoSerpResults`` (that keyword's check fails, never
  position 0). Any other ``4xxxx`` task status (``40501`` invalid field, ``40101`` the search engine
  failed, ``40401`` task not found...): ``DataForSeoTaskError``, a ``PermanentError`` carrying DataForSEO's
  code and message.
* A result the models cannot read: ``UnparseableSerp`` naming the task and the field.

``task_post`` answers per task: a refused task (``40006`` beyond 100 tasks in a call, ``40501``...) is
reported in its ``PostedTask``, not raised, because the other tasks of the call were created and paid for.
A whole call is retried only when DataForSEO refused it as a whole (HTTP 5xx, status ``50000`` at the top),
when no task was created, so a retry never posts a task twice.
"""

import base64
import json
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from botocore.exceptions import ClientError
from pydantic import ValidationError

from shared import aws
from shared.errors import ConfigurationError, KestrelError, PermanentError, TransientError
from shared.observability import logger
from shared.ranks.dataforseo.models import (
    KNOWN_ITEM_TYPES,
    ORGANIC,
    Device,
    Envelope,
    PostedTask,
    ReadyTask,
    SerpItem,
    SerpResult,
    SerpTaskIn,
    WireAdvanced,
    WireHtml,
    WireKnownItem,
    WireOrganicItem,
    WireRanks,
    WireReady,
    WireTask,
    decimal_cost,
    parse_datetime,
)
from shared.settings import DataForSeo, settings_of

MAX_TASKS_PER_POST = 100
MAX_BACKOFF_SECONDS = 20.0
SERP_PATH = "/v3/serp/google/organic"

OK = 20000
TASK_CREATED = 20100
NO_SEARCH_RESULTS = 40102
_AUTH_CODES = frozenset({40100, 40104})  # not authorized; account not verified
_RATE_LIMIT_CODES = frozenset({40202, 40209})  # per-minute limits, simultaneous requests
_NOT_READY_CODES = frozenset({40601, 40602})  # "Task Handed.", "Task In Queue."
_RETRYABLE_HTTP = frozenset({429, 500, 502, 503, 504})


class DataForSeoTaskError(PermanentError):
    """DataForSEO refused or failed one task; ``extra`` has its ``status_code`` and ``task_id``."""

    @property
    def status_code(self) -> int:
        return int(self.extra.get("status_code", 0))


class NoSerpResults(DataForSeoTaskError):
    """40102: the search engine returned no results for the keyword (an error for that check, not a rank)."""


class UnparseableSerp(PermanentError):
    """A SERP result Kestrel's models cannot read: an error on the job, never position 0."""


class TaskNotReady(TransientError):
    """The task is still queued or being worked on (40601/40602): collect it later."""


class MaybeCarriedOut(TransientError):
    """The call failed after it was sent (a read timeout, an HTTP 5xx): DataForSEO may have carried it out.

    ``task_post`` is not retried on these (a retry could create, and pay for, the tasks twice): the caller
    finds tasks that were created after all by their tags in ``tasks_ready``.
    """


def _auth_header(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


def read_login(secret_name: str) -> tuple[str, str]:
    """The ``{"login", "password"}`` secret, read fresh (a fixed secret takes effect at once)."""
    try:
        raw = aws.client("secretsmanager").get_secret_value(SecretId=secret_name)["SecretString"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("ResourceNotFoundException", "AccessDeniedException", "AccessDenied"):
            raise ConfigurationError(f"The DataForSEO login secret {secret_name!r} cannot be read ({code}).") from exc
        raise TransientError(f"Secrets Manager failed reading {secret_name!r}: {code}") from exc
    try:
        value = json.loads(raw)
        login, password = value["login"], value["password"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(
            f'The DataForSEO login secret {secret_name!r} is not JSON {{"login": ..., "password": ...}}.'
        ) from exc
    if not isinstance(login, str) or not isinstance(password, str) or not login or not password:
        raise ConfigurationError(f"The DataForSEO login secret {secret_name!r} has an empty login or password.")
    return login, password


def _backoff(attempt: int, base: float) -> float:
    delay = min(MAX_BACKOFF_SECONDS, base * 2.0 ** (attempt - 1))
    return delay * (0.5 + random.random() / 2)  # noqa: S311 (jitter, not security)


def classify(status_code: int, message: str, *, what: str, task_id: str | None = None) -> KestrelError | None:
    """The error a DataForSEO status code means for ``what`` (None for success)."""
    if status_code in (OK, TASK_CREATED):
        return None
    detail = f"DataForSEO {what}: {status_code} {message}".rstrip()
    extra: dict[str, Any] = {"status_code": status_code, "task_id": task_id}
    if status_code in _AUTH_CODES:
        return ConfigurationError(f"{detail} (check the DataForSEO login secret)", **extra)
    if status_code in _RATE_LIMIT_CODES or status_code >= 50000:
        return TransientError(detail, **extra)
    if 40200 <= status_code < 40300:
        return ConfigurationError(f"{detail} (check the DataForSEO account's balance and limits)", **extra)
    if status_code in _NOT_READY_CODES:
        return TaskNotReady(detail, **extra)
    if status_code == NO_SEARCH_RESULTS:
        return NoSerpResults(detail, **extra)
    return DataForSeoTaskError(detail, **extra)


class DataForSeoClient:
    """One per execution environment (``dataforseo_client()``); its connections are reused while warm.

    ``login`` (tests) replaces the secret; ``sleep`` is the back-off's (tests pass a no-op).
    """

    def __init__(
        self,
        settings: DataForSeo,
        *,
        http: httpx.Client | None = None,
        login: tuple[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        user, password = login or read_login(settings.dataforseo_secret_name)
        self._base_url = settings.dataforseo_api_base_url.rstrip("/")
        self._http = http or httpx.Client(timeout=httpx.Timeout(settings.dataforseo_timeout_seconds, connect=10.0))
        self._headers = {"Authorization": _auth_header(user, password), "User-Agent": "kestrel-rank-check"}
        self._sleep = sleep

    def close(self) -> None:
        self._http.close()

    # ---------------------------------------------------------------- the endpoints

    def post_tasks(self, tasks: Sequence[SerpTaskIn]) -> list[PostedTask]:
        """Post up to 100 tasks to the standard queue; one ``PostedTask`` per task, in the order given."""
        if len(tasks) > MAX_TASKS_PER_POST:
            raise ValueError(f"DataForSEO takes at most {MAX_TASKS_PER_POST} tasks a call ({len(tasks)} given).")
        if not tasks:
            return []
        tags = [task.tag for task in tasks]
        if len(set(tags)) != len(tags):
            raise ValueError("Each posted task needs its own tag (the answer is matched to the tasks by tag).")
        body = [task.body() for task in tasks]
        envelope = self._call("POST", f"{SERP_PATH}/task_post", body, what="task_post", read=_same, repeatable=False)
        answered: dict[str, WireTask] = {}
        for index, task in enumerate(envelope.tasks or []):
            tag = task.data.get("tag")
            # DataForSEO answers in the order posted; the tag is the check, the index a fallback.
            key = tag if isinstance(tag, str) and tag in tags else (tags[index] if index < len(tags) else None)
            if key is not None:
                answered.setdefault(key, task)
        posted = []
        for tag in tags:
            answer = answered.get(tag)
            if answer is None:  # not created as far as Kestrel can tell: the caller posts it again
                posted.append(PostedTask(tag, None, 0, "Missing from DataForSEO's answer.", decimal_cost(0)))
            else:
                cost = decimal_cost(answer.cost)
                posted.append(PostedTask(tag, answer.id, answer.status_code, answer.status_message, cost))
        return posted

    def tasks_ready(self) -> list[ReadyTask]:
        """Completed tasks not collected yet (DataForSEO lists those of the last three days, 1000 a call)."""
        task = self._call(
            "GET", f"{SERP_PATH}/tasks_ready", None, what="tasks_ready", read=lambda e: _only_task(e, "tasks_ready")
        )
        ready = []
        for raw in task.result or []:
            try:
                item = WireReady.model_validate(raw)
                posted = parse_datetime(item.date_posted) if item.date_posted else None
            except (ValidationError, ValueError) as exc:
                raise PermanentError(f"DataForSEO's tasks_ready answer is not as documented: {exc}") from exc
            ready.append(ReadyTask(item.id, item.tag or None, posted))
        return ready

    def task_get_advanced(self, task_id: str) -> SerpResult:
        """A completed task's SERP with every item."""
        what = f"task_get/advanced {task_id}"
        return self._call(
            "GET",
            f"{SERP_PATH}/task_get/advanced/{task_id}",
            None,
            what=what,
            read=lambda envelope: _serp(_only_task(envelope, what, task_id=task_id), what),
        )

    def task_get_html(self, task_id: str) -> list[str]:
        """The SERP's HTML page(s), in page order (DataForSEO keeps them 7 days)."""
        what = f"task_get/html {task_id}"
        task = self._call(
            "GET",
            f"{SERP_PATH}/task_get/html/{task_id}",
            None,
            what=what,
            read=lambda envelope: _only_task(envelope, what, task_id=task_id),
        )
        if not task.result:
            raise UnparseableSerp(f"DataForSEO {what}: no result", task_id=task_id, field="result")
        try:
            html = WireHtml.model_validate(task.result[0])
        except ValidationError as exc:
            raise UnparseableSerp(f"DataForSEO {what}: {_first_error(exc)}", task_id=task_id) from exc
        pages = sorted(html.items or [], key=lambda page: page.page)
        if not pages:
            raise UnparseableSerp(f"DataForSEO {what}: the result has no HTML page", task_id=task_id, field="items")
        return [page.html for page in pages]

    def live_advanced(self, task: SerpTaskIn) -> SerpResult:
        """One SERP checked now (on-demand checks: dearer than the standard queue)."""
        what = f"live/advanced {task.keyword!r}"
        return self._call(
            "POST",
            f"{SERP_PATH}/live/advanced",
            [task.body()],
            what=what,
            read=lambda envelope: _serp(_only_task(envelope, what), what),
        )

    # ---------------------------------------------------------------- the HTTP call, retried

    def _call[T](
        self,
        method: str,
        path: str,
        body: list[dict[str, Any]] | None,
        *,
        what: str,
        read: Callable[[Envelope], T],
        repeatable: bool = True,
    ) -> T:
        """One call and ``read`` of its answer, retried while either fails transiently (a task-level 50000
        too). A task still in the queue is not waited for here: ``TaskNotReady`` at once. A call that is not
        ``repeatable`` (posting tasks) is retried only when DataForSEO surely did nothing: refused
        connections, 429, a ``50000`` envelope."""
        attempts = self.settings.dataforseo_max_attempts
        for attempt in range(1, attempts + 1):
            try:
                return read(self._once(method, path, body, what=what))
            except TaskNotReady:
                raise
            except TransientError as exc:
                if isinstance(exc, MaybeCarriedOut) and not repeatable:
                    raise
                if attempt == attempts:
                    raise TransientError(f"{exc.detail} (after {attempt} attempts)", **exc.extra) from exc
                delay = _backoff(attempt, self.settings.dataforseo_backoff_seconds)
                logger.warning(
                    "DataForSEO call failed; backing off",
                    extra={"what": what, "attempt": attempt, "delay_seconds": round(delay, 3), "problem": exc.detail},
                )
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, method: str, path: str, body: list[dict[str, Any]] | None, *, what: str) -> Envelope:
        try:
            response = self._http.request(method, self._base_url + path, json=body, headers=self._headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # never sent
            raise TransientError(f"DataForSEO {what}: no connection ({type(exc).__name__}: {exc})") from exc
        except httpx.TransportError as exc:  # read timeouts, resets: sent, maybe carried out
            raise MaybeCarriedOut(f"DataForSEO {what}: no answer ({type(exc).__name__}: {exc})") from exc
        status = response.status_code
        message = _message(response)
        if status == 401:
            forget_client()
            raise ConfigurationError(
                f"DataForSEO {what}: 401 {message} (check the DataForSEO login secret)", status_code=401
            )
        if status == 402:
            raise ConfigurationError(f"DataForSEO {what}: 402 {message} (check the account's balance)")
        if status == 404:
            raise ConfigurationError(f"DataForSEO {what}: 404 {message} (check dataforseo_api_base_url)")
        if status == 429:
            raise TransientError(f"DataForSEO {what}: HTTP {status} {message}")
        if status in _RETRYABLE_HTTP or status >= 500:
            raise MaybeCarriedOut(f"DataForSEO {what}: HTTP {status} {message}")
        if status != 200:
            raise PermanentError(f"DataForSEO {what}: HTTP {status} {message}")
        try:
            envelope = Envelope.model_validate_json(response.content)
        except ValidationError as exc:
            raise PermanentError(f"DataForSEO {what}: the answer is not as documented ({_first_error(exc)})") from exc
        error = classify(envelope.status_code, envelope.status_message, what=what)
        if error is not None:
            if error.extra.get("status_code") in _AUTH_CODES:
                forget_client()
            raise error
        return envelope


def _same(envelope: Envelope) -> Envelope:
    return envelope


def _only_task(envelope: Envelope, what: str, *, task_id: str | None = None) -> WireTask:
    if not envelope.tasks:
        raise PermanentError(f"DataForSEO {what}: the answer has no task", task_id=task_id)
    task = envelope.tasks[0]
    error = classify(task.status_code, task.status_message, what=what, task_id=task.id or task_id)
    if error is not None:
        raise error
    return task


def _serp(task: WireTask, what: str) -> SerpResult:
    task_id = task.id or ""
    if not task.result or not isinstance(task.result[0], dict):
        raise UnparseableSerp(f"DataForSEO {what}: no result", task_id=task_id, field="result")
    result = task.result[0]
    try:
        top = WireAdvanced.model_validate(result)
        checked_at = parse_datetime(top.datetime)
    except ValidationError as exc:
        raise UnparseableSerp(f"DataForSEO {what}: {_first_error(exc)}", task_id=task_id) from exc
    except ValueError as exc:
        raise UnparseableSerp(
            f"DataForSEO {what}: datetime {top.datetime!r} is not a date", task_id=task_id, field="datetime"
        ) from exc
    items = [parse_item(raw, index=index, task_id=task_id, what=what) for index, raw in enumerate(top.items or [])]
    device = task.data.get("device")
    return SerpResult(
        task_id=task_id,
        tag=_tag(task.data.get("tag")),
        keyword=top.keyword,
        location_code=top.location_code,
        language_code=top.language_code,
        device=_device(device),
        check_url=top.check_url,
        datetime=checked_at,
        se_results_count=top.se_results_count,
        items_count=top.items_count,
        item_types=list(top.item_types or dict.fromkeys(item.type for item in items)),
        items=items,
        cost=decimal_cost(task.cost),
    )


def _message(response: httpx.Response) -> str:
    """DataForSEO's ``status_message`` of an error answer, else the start of its body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("status_message"):
        code = body.get("status_code")
        return f"{body['status_message']}" + (f" ({code})" if code else "")
    return response.text.strip()[:300] or response.reason_phrase


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "(top level)"
    return f"field {where}: {error['msg']}"


def _tag(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _device(value: Any) -> Device:
    return "mobile" if value == "mobile" else "desktop"


def parse_item(raw: Any, *, index: int, task_id: str, what: str = "SERP") -> SerpItem:
    """One SERP item: known types strictly (an organic result without a URL is unparseable), others leniently.

    Whatever the type, an item must have ``type``, ``rank_group`` and ``rank_absolute``.
    """
    if not isinstance(raw, dict):
        raise UnparseableSerp(f"DataForSEO {what}: items.{index} is not an object", task_id=task_id, field="items")
    item_type = raw.get("type")
    known = isinstance(item_type, str) and item_type in KNOWN_ITEM_TYPES
    model: type[WireRanks] = WireOrganicItem if item_type == ORGANIC else WireKnownItem if known else WireRanks
    try:
        parsed = model.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        raise UnparseableSerp(
            f"DataForSEO {what}: items.{index}.{field} ({item_type}): {error['msg']}",
            task_id=task_id,
            field=f"items.{index}.{field}",
        ) from exc
    if isinstance(parsed, WireKnownItem):
        domain, url, title, description = parsed.domain, parsed.url, parsed.title, parsed.description
    else:
        domain, url, title, description = (_text(raw.get(name)) for name in ("domain", "url", "title", "description"))
    return SerpItem(
        type=parsed.type,
        rank_group=parsed.rank_group,
        rank_absolute=parsed.rank_absolute,
        domain=domain,
        url=url,
        title=title,
        description=description,
        known=known,
        raw=raw,
        linked_urls=tuple(dict.fromkeys(_urls(raw))),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _urls(value: Any, depth: int = 0) -> list[str]:
    """Every ``url`` in an item and its nested elements (not image or cache URLs), in order."""
    if depth > 4:
        return []
    found: list[str] = []
    if isinstance(value, dict):
        url = value.get("url")
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            found.append(url)
        for key, nested in value.items():
            if isinstance(nested, list | dict) and key not in ("rectangle", "images", "related_image_searches"):
                found.extend(_urls(nested, depth + 1))
    elif isinstance(value, list):
        for nested in value:
            found.extend(_urls(nested, depth + 1))
    return found


_clients: dict[str, DataForSeoClient] = {}


def dataforseo_client() -> DataForSeoClient:
    """The execution environment's client, made anew when the settings are read anew or after a 401."""
    settings = settings_of(DataForSeo)
    cached = _clients.get("current")
    if cached is None or cached.settings is not settings:
        cached = _clients["current"] = DataForSeoClient(settings)
    return cached


def forget_client() -> None:
    """Drop the cached client: the next ``dataforseo_client()`` reads the login secret again."""
    _clients.pop("current", None)
