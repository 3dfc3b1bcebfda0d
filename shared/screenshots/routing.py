"""Every request a page makes, fetched by Kestrel under the crawler's SSRF rules, or refused.

Chromium never reaches the network itself: the context routes ``**/*`` here, and each request is checked
(``check_url``: http(s), a host, no credentials), fetched through the guarded client (its address resolved
once and checked public, or pinned by configuration: ``shared.crawl.ssrf``), and answered with
``route.fulfill``; a request that is refused or fails is aborted. Redirects are not followed here: the
redirects are followed here, hop by hop, each hop's URL checked like the first (Playwright calls a route
handler only for the first URL of a redirect chain: a redirect handed back to Chromium would be followed by
the browser itself, unchecked), and the last answer fulfils the request. A page is first resolved to the
end of its redirects (``resolve``) and loaded at that URL, so that its relative links are its own; the
answer is kept and fulfils the navigation without a second request.
The browser is also started behind a proxy that does not exist (``engine.py``), so anything Chromium might
send without asking a route handler (a preconnect, a WebSocket) goes nowhere.
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin

import httpx
from playwright.sync_api import Route

from shared.crawl.fetch import REDIRECT_STATUSES, _error_code
from shared.crawl.ssrf import BlockedAddress, check_url

# Answer headers that describe the transfer, not the content: httpx has already undone them.
HOP_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"})
# Request headers passed on: what a browser sends about what it accepts; never cookies or credentials.
FORWARDED_HEADERS = frozenset({"accept", "accept-language", "user-agent", "referer", "content-type", "range"})
# A SERP is rendered from the HTML DataForSEO returned: nothing in it is ever requested from Google.
GOOGLE_DOMAINS = ("gstatic.com", "googleusercontent.com", "googleapis.com", "googlesyndication.com")


MAX_REDIRECTS = 10
# What an invocation may keep to answer again (its pages share stylesheets, scripts and images; each page is
# taken in three variants): answers to GET, 200, that the server lets be stored and that do not vary by request.
CACHE_MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Refusal:
    url: str
    reason: str


class Refused(Exception):
    """A hop of a redirect chain that the rules refuse."""


@dataclass(frozen=True)
class Answer:
    url: str  # the last hop's
    status: int
    headers: dict[str, str]
    body: bytes


def is_google(host: str) -> bool:
    """Whether ``host`` is one of Google's (google.com, www.google.co.uk, fonts.gstatic.com...)."""
    name = host.lower().rstrip(".")
    return "google" in name.split(".") or any(name == d or name.endswith("." + d) for d in GOOGLE_DOMAINS)


@dataclass
class GuardedRouter:
    """The route handler of one screenshot's context. ``refusals`` says what was not fetched, and why."""

    client: httpx.Client
    deadline: float  # time.monotonic() after which nothing more is fetched
    max_bytes: int
    refuse_host: Callable[[str], str | None] = lambda host: None
    refusals: list[Refusal] = field(default_factory=list)
    fetched: int = 0
    # The invocation's answers (``Session.cache``): shared by its captures, never across invocations or tenants.
    cache: "AnswerCache | None" = None
    _kept: dict[str, Answer] = field(default_factory=dict)

    def resolve(self, url: str, headers: Mapping[str, str], *, timeout: float) -> str:
        """The URL a page's redirects end at (the answer is kept for its navigation); ``Refused`` or the error.

        ``timeout`` is the navigation's: the whole chain must have answered within it.
        """
        answer = self.fetch("GET", url, headers, None, deadline=min(self.deadline, time.monotonic() + timeout))
        self._kept[answer.url] = answer
        return answer.url

    def __call__(self, route: Route) -> None:
        request = route.request
        url = request.url
        kept = self._kept.pop(url, None) if request.method == "GET" else None
        if kept is None and request.method == "GET" and self.cache is not None:
            kept = self.cache.get(url)
        if kept is not None:
            route.fulfill(status=kept.status, headers=kept.headers, body=kept.body)
            return
        try:
            answer = self.fetch(request.method, url, request.headers, request.post_data_buffer)
        except Refused as exc:
            self._refuse(route, str(exc.args[0]), str(exc.args[1]))
            return
        except Exception as exc:  # whatever one resource does, the page goes on without it
            code = _error_code(exc)
            self._refuse(route, url, f"{code}: {exc}", error="timedout" if code == "timeout" else "failed")
            return
        route.fulfill(status=answer.status, headers=answer.headers, body=answer.body)

    def check(self, url: str) -> None:
        """``Refused(url, reason)`` unless the rules let ``url`` be requested now."""
        try:
            host = check_url(url)
        except (BlockedAddress, ValueError) as exc:
            raise Refused(url, str(exc)) from exc
        reason = self.refuse_host(host)
        if reason is not None:
            raise Refused(url, reason)
        if self.deadline <= time.monotonic():
            raise Refused(url, "the screenshot's time is up")

    def fetch(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, *, deadline: float | None = None
    ) -> Answer:
        """The answer to ``method url`` at the end of its redirects, each hop checked before it is requested."""
        deadline = self.deadline if deadline is None else deadline
        sent = {name: value for name, value in headers.items() if name.lower() in FORWARDED_HEADERS}
        for _ in range(MAX_REDIRECTS + 1):
            self.check(url)
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                raise httpx.ReadTimeout(f"{url}: Timeout, no answer in time")
            with self.client.stream(method, url, headers=sent, content=body, timeout=timeout) as response:
                location = response.headers.get("location")
                if response.status_code in REDIRECT_STATUSES and location:
                    if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                        method, body = "GET", None
                    url = urljoin(url, location.strip())
                    continue
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise ValueError(f"{url}: more than {self.max_bytes} bytes")
                    chunks.append(chunk)
                answered: dict[str, str] = {}
                for name, value in response.headers.multi_items():
                    if name.lower() in HOP_HEADERS:
                        continue
                    answered[name] = f"{answered[name]}\n{value}" if name in answered else value
                self.fetched += 1
                answer = Answer(url, response.status_code, answered, b"".join(chunks))
                if self.cache is not None and method == "GET":
                    self.cache.offer(answer)
                return answer
        raise Refused(url, f"more than {MAX_REDIRECTS} redirects")

    def _refuse(self, route: Route, url: str, reason: str, *, error: str = "blockedbyclient") -> None:
        self.refusals.append(Refusal(url, reason))
        route.abort(error)


@dataclass
class AnswerCache:
    """One invocation's storable answers by URL, up to ``max_bytes`` (what a browser's cache would reuse)."""

    max_bytes: int = CACHE_MAX_BYTES
    size: int = 0
    hits: int = 0
    _answers: dict[str, Answer] = field(default_factory=dict)

    def get(self, url: str) -> Answer | None:
        answer = self._answers.get(url)
        if answer is not None:
            self.hits += 1
        return answer

    def offer(self, answer: Answer) -> None:
        if answer.status != 200 or answer.url in self._answers or self.size + len(answer.body) > self.max_bytes:
            return
        headers = {name.lower(): value.lower() for name, value in answer.headers.items()}
        control = headers.get("cache-control", "")
        vary = {v.strip() for v in headers.get("vary", "").split(",") if v.strip()} - {"accept-encoding"}
        if "no-store" in control or "private" in control or "set-cookie" in headers or vary:
            return
        self._answers[answer.url] = answer
        self.size += len(answer.body)
