"""Fetching a page against a real HTTP server on loopback, reached as ``site.test`` through a pinned address."""

import gzip
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared.crawl.fetch import FETCH_ERROR_CODES, Hop, HostBusy, fetch, media_type, parse_retry_after
from shared.crawl.ssrf import AddressPolicy, guarded_client

SITE = "http://site.test"
PAGE = b"<html><head><title>Trail shoes</title></head><body><h1>Trail shoes</h1></body></html>"


def _redirect(location: str, status: int = 301) -> tuple[int, dict[str, str], bytes]:
    return status, {"Location": location}, b""


ROUTES: dict[str, tuple[int, dict[str, str], bytes]] = {
    "/": (200, {"Content-Type": 'text/html; charset="ISO-8859-1"', "Set-Cookie": "a=1"}, PAGE),
    "/old": _redirect("/older", 301),
    "/older": _redirect(f"{SITE}/newer", 302),
    "/newer": _redirect("/", 308),
    "/loop-a": _redirect("/loop-b"),
    "/loop-b": _redirect("/loop-a"),
    "/to-metadata": _redirect("http://169.254.169.254/latest/meta-data/"),
    "/to-file": _redirect("file:///etc/passwd"),
    "/to-loopback-name": _redirect("http://loopback.test/"),
    "/to-private": _redirect("/private"),
    "/big": (200, {"Content-Type": "text/plain"}, b"x" * 10_000),
    "/busy": (503, {"Retry-After": "120"}, b""),
    "/throttled": (429, {"Retry-After": "Wed, 01 Jan 2031 00:01:00 GMT"}, b""),
    "/moved-retry": (301, {"Retry-After": "5"}, b""),  # a redirect without Location is an answer
    "/gzip": (200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, gzip.compress(PAGE)),
    "/not-found": (404, {"Content-Type": "text/html"}, b"gone"),
}
ROUTES.update({f"/chain-{n}": _redirect(f"/chain-{n + 1}") for n in range(15)})


class _Site(BaseHTTPRequestHandler):
    requested: list[str] = []

    def do_GET(self) -> None:
        _Site.requested.append(self.path)
        if self.path == "/slow":
            time.sleep(1.0)
        status, headers, body = ROUTES.get(self.path, (200, {"Content-Type": "text/html"}, PAGE))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("X-Robots-Tag", "noarchive")
        self.send_header("X-Robots-Tag", "nosnippet")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(port):
    _Site.requested = []
    policy = AddressPolicy(pinned={"site.test": f"127.0.0.1:{port}"})
    with guarded_client(policy, timeout=0.5, user_agent="KestrelBot/1.0") as client:
        yield client


def test_a_page_with_its_type_charset_and_headers(client):
    result = fetch(client, f"{SITE}/", max_bytes=1_000_000)
    assert (result.final_url, result.status, result.error, result.redirects) == (f"{SITE}/", 200, None, ())
    assert (result.content_type, result.charset) == ("text/html", "iso-8859-1")
    assert result.body == PAGE
    assert not result.truncated
    assert result.headers["set-cookie"] == "a=1"
    assert result.headers["x-robots-tag"] == "noarchive, nosnippet"  # repeated headers joined
    assert 0 < result.response_ms < 1000
    assert result.retry_after is None


def test_a_redirect_chain_is_followed_hop_by_hop_and_recorded(client):
    result = fetch(client, f"{SITE}/old", max_bytes=1_000_000)
    assert result.redirects == (
        Hop(f"{SITE}/old", 301),
        Hop(f"{SITE}/older", 302),
        Hop(f"{SITE}/newer", 308),
    )
    assert (result.final_url, result.status, result.body, result.error) == (f"{SITE}/", 200, PAGE, None)
    assert _Site.requested == ["/old", "/older", "/newer", "/"]


def test_a_redirect_loop_stops_at_the_first_repeat(client):
    result = fetch(client, f"{SITE}/loop-a", max_bytes=1000)
    assert result.error is not None
    assert result.error.code == "redirect_loop"
    assert "/loop-a" in result.error.message
    assert [hop.url for hop in result.redirects] == [f"{SITE}/loop-a", f"{SITE}/loop-b"]
    assert (result.final_url, result.status) == (f"{SITE}/loop-b", 301)
    assert _Site.requested == ["/loop-a", "/loop-b"]


def test_too_many_redirects(client):
    result = fetch(client, f"{SITE}/chain-0", max_bytes=1000, max_redirects=3)
    assert result.error is not None
    assert result.error.code == "too_many_redirects"
    assert len(result.redirects) == 4  # three followed, the fourth refused
    assert _Site.requested == ["/chain-0", "/chain-1", "/chain-2", "/chain-3"]


def test_a_redirect_to_the_metadata_service_is_never_requested(client):
    result = fetch(client, f"{SITE}/to-metadata", max_bytes=1000)
    assert result.error is not None
    assert result.error.code == "blocked_address"
    assert "169.254.169.254" in result.error.message
    assert (result.final_url, result.status) == (f"{SITE}/to-metadata", 301)


def test_a_redirect_to_a_file_url_is_refused(client):
    asked: list[str] = []
    result = fetch(client, f"{SITE}/to-file", max_bytes=1000, may_follow=lambda url: asked.append(url))
    assert result.error is not None
    assert result.error.code == "redirect_refused"
    assert "file:///etc/passwd" in result.error.message
    assert asked == []  # refused before the caller is even asked


def test_a_redirect_the_caller_refuses_is_not_followed(client):
    def may_follow(url: str) -> str | None:
        return "disallowed by robots.txt" if url.endswith("/private") else None

    result = fetch(client, f"{SITE}/to-private", max_bytes=1000, may_follow=may_follow)
    assert result.error is not None
    assert (result.error.code, result.error.message) == (
        "redirect_refused",
        f"{SITE}/private: disallowed by robots.txt",
    )
    assert _Site.requested == ["/to-private"]


def test_a_name_resolving_to_loopback_is_refused(client, monkeypatch):
    real_getaddrinfo = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host == "loopback.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    result = fetch(client, f"{SITE}/to-loopback-name", max_bytes=1000)
    assert result.error is not None
    assert result.error.code == "blocked_address"
    direct = fetch(client, "http://loopback.test/", max_bytes=1000)
    assert (direct.status, direct.error and direct.error.code) == (None, "blocked_address")


def test_a_host_that_does_not_resolve(client):
    result = fetch(client, "http://no-such-host.invalid/", max_bytes=1000)
    assert (result.status, result.error and result.error.code) == (None, "dns")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "not a url", "https://user:pw@site.test/"])
def test_a_url_that_may_not_be_fetched(client, url):
    result = fetch(client, url, max_bytes=1000)
    assert result.error is not None
    assert (result.status, result.error.code) == (None, "invalid_url")
    assert url in result.error.message


def test_a_slow_page_times_out(client):
    result = fetch(client, f"{SITE}/slow", max_bytes=1000)
    assert (result.status, result.error and result.error.code) == (None, "timeout")
    assert 400 < result.response_ms < 1000


def test_the_body_stops_at_the_size_limit(client):
    result = fetch(client, f"{SITE}/big", max_bytes=4096)
    assert (len(result.body), result.truncated, result.error) == (4096, True, None)
    whole = fetch(client, f"{SITE}/big", max_bytes=10_000)
    assert (len(whole.body), whole.truncated) == (10_000, False)


def test_gzip_content_encoding_is_decoded(client):
    result = fetch(client, f"{SITE}/gzip", max_bytes=1_000_000)
    assert result.body == PAGE
    assert result.headers["content-encoding"] == "gzip"


def test_retry_after_in_seconds_and_as_a_date_on_429_and_503_only(client):
    assert fetch(client, f"{SITE}/busy", max_bytes=1000).retry_after == 120.0
    throttled = fetch(client, f"{SITE}/throttled", max_bytes=1000)
    assert throttled.status == 429
    assert throttled.retry_after is not None
    assert throttled.retry_after > 0
    moved = fetch(client, f"{SITE}/moved-retry", max_bytes=1000)
    assert (moved.status, moved.redirects, moved.retry_after) == (301, (), None)


def test_error_codes_are_a_closed_set():
    assert set(FETCH_ERROR_CODES) == {
        "timeout",
        "tls",
        "connect",
        "dns",
        "blocked_address",
        "redirect_loop",
        "too_many_redirects",
        "redirect_refused",
        "invalid_url",
        "protocol",
        "host_busy",
    }


def test_every_request_redirect_hops_included_takes_its_turn(client):
    paced: list[str] = []

    @contextmanager
    def pace(url: str) -> Iterator[None]:
        paced.append(url)
        yield

    result = fetch(client, f"{SITE}/chain-0", max_bytes=1000, max_redirects=3, pace=pace)
    assert paced == [f"{SITE}/chain-{n}" for n in range(4)]
    assert result.error is not None


def test_a_host_whose_turn_does_not_come_is_busy_and_nothing_is_requested(client):
    def busy(url: str) -> Iterator[None]:
        raise HostBusy(url)

    _Site.requested.clear()
    result = fetch(client, f"{SITE}/", max_bytes=1000, pace=contextmanager(busy))
    assert result.error is not None
    assert result.error.code == "host_busy"
    assert result.status is None
    assert _Site.requested == []


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Wed, 01 Jan 2031 00:01:00 GMT", 60.0),
        ("Tue, 31 Dec 2030 23:00:00 GMT", 0.0),  # in the past: no wait
        ("-5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value, seconds):
    assert parse_retry_after(value, now=datetime(2031, 1, 1, tzinfo=UTC)) == seconds


@pytest.mark.parametrize(
    ("header", "parsed"),
    [
        ('Text/HTML; charset="UTF-8"', ("text/html", "utf-8")),
        ("application/xhtml+xml;charset=iso-8859-1;q=1", ("application/xhtml+xml", "iso-8859-1")),
        ("text/plain", ("text/plain", None)),
        (None, (None, None)),
    ],
)
def test_media_type(header, parsed):
    assert media_type(header) == parsed


def test_tls_and_connection_failures_are_told_apart(client, port):
    # The site speaks plain HTTP: a TLS handshake with it fails.
    tls = fetch(client, "https://site.test/", max_bytes=1000)
    assert (tls.status, tls.error and tls.error.code) == (None, "tls")
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        closed_port = unused.getsockname()[1]
    policy = AddressPolicy(pinned={"closed.test": f"127.0.0.1:{closed_port}"})
    with guarded_client(policy) as closed_client:
        refused = fetch(closed_client, "http://closed.test/", max_bytes=1000)
    assert (refused.status, refused.error and refused.error.code) == (None, "connect")
