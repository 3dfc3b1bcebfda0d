"""The screenshot engine against real pages: the local demo site over TLS, and a hostile site.

Screenshots decode as PNGs of each variant's size; every request a page makes goes through the SSRF rules
(a page's script, image or redirect to a loopback, private or metadata address is refused and never
reaches it; a SERP never requests anything from Google); a page that does not load in time fails alone.
"""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kestrel_local.demo_site.server import DemoSiteServer
from shared.screenshots.engine import Engine, EngineConfig, ScreenshotFailed, png_dimensions
from tests.support.chromium import local_chromium

HOSTILE = "hostile.example"


class Recorder(ThreadingHTTPServer):
    """A server that records every request it gets: the secrets a page must never reach."""

    def __init__(self, body: bytes) -> None:
        self.requests: list[str] = []
        self.body = body
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.requests.append(self.path)
                if self.path == "/to-metadata":
                    self.send_response(302)
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(recorder.body)))
                self.end_headers()
                self.wfile.write(recorder.body)

            def do_POST(self) -> None:
                self.do_GET()

            def log_message(self, format: str, *args: Any) -> None:
                return

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server_address[1])


@pytest.fixture(scope="module")
def site() -> Iterator[DemoSiteServer]:
    with DemoSiteServer(crawl_delay=0.0, slow_seconds=3.0) as running:
        yield running


@pytest.fixture(scope="module")
def secret() -> Iterator[Recorder]:
    server = Recorder(b"secret")
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def hostile(secret: Recorder) -> Iterator[Recorder]:
    """A public-looking site (pinned, as the demo site is) whose page tries to reach ``secret`` on loopback."""
    target = f"http://127.0.0.1:{secret.port}"
    page = f"""<!doctype html><html><head><title>Hostile</title>
      <link rel="stylesheet" href="{target}/style.css"><link rel="preconnect" href="{target}">
      </head><body style="height:3000px"><h1>Nothing to see</h1>
      <img src="{target}/pixel.gif"><img src="http://169.254.169.254/latest/meta-data/iam">
      <iframe src="file:///etc/passwd"></iframe><iframe src="http://[::1]:{secret.port}/v6"></iframe>
      <script>
        fetch("{target}/fetch", {{method: "POST", body: "x"}}).catch(() => {{}});
        try {{ new WebSocket("ws://127.0.0.1:{secret.port}/socket"); }} catch (e) {{}}
        navigator.sendBeacon && navigator.sendBeacon("{target}/beacon", "x");
      </script></body></html>""".encode()
    server = Recorder(page)
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def engine(site: DemoSiteServer, hostile: Recorder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    pinned = dict.fromkeys(site.catalogue.hosts, site.address) | {HOSTILE: f"127.0.0.1:{hostile.port}"}
    running = Engine(
        EngineConfig(
            Path(local_chromium()),
            work_dir=tmp_path_factory.mktemp("screenshots"),
            navigation_timeout=2.0,
            total_timeout=8.0,
            pinned_hosts=pinned,
            ca_file=str(site.ca_file),
        )
    )
    yield running
    running.close()


def test_each_variant_decodes_as_a_png_of_its_size(engine: Engine, site: DemoSiteServer) -> None:
    with engine.session() as session:
        fold = session.page(site.site_url, "desktop_fold")
        full = session.page(site.site_url, "desktop_full")
        mobile = session.page(site.site_url, "mobile")
    assert png_dimensions(fold.png) == (fold.width, fold.height) == (1920, 1080)
    assert png_dimensions(mobile.png) == (780, 1688)  # 390 x 844 CSS pixels at a density of 2
    width, height = png_dimensions(full.png)
    assert width == 1920
    assert height > 1080
    assert len(full.png) > len(fold.png)
    assert not fold.refusals  # everything the demo page loads is on its own (pinned) host
    paths = {entry.target for entry in site.access_log}
    assert "/static/site.css" in paths


def test_a_redirect_is_followed_hop_by_hop_through_the_rules(engine: Engine, site: DemoSiteServer) -> None:
    apex = site.site_url.replace("://www.", "://", 1)  # the apex redirects to www
    with engine.session() as session:
        shot = session.page(apex, "desktop_fold")
    assert (shot.width, shot.height) == (1920, 1080)


def test_a_hostile_page_reaches_nothing_it_must_not(engine: Engine, hostile: Recorder, secret: Recorder) -> None:
    with engine.session() as session:
        shot = session.page(f"http://{HOSTILE}/", "desktop_full")
    assert shot.width == 1920
    assert shot.height >= 3000
    assert secret.requests == []  # neither the image, the fetch, the beacon, the preconnect nor the socket
    refused = {refusal.url.split("?")[0] for refusal in shot.refusals}
    assert f"http://127.0.0.1:{secret.port}/pixel.gif" in refused
    assert "http://169.254.169.254/latest/meta-data/iam" in refused


def test_a_redirect_to_the_metadata_service_fails_the_capture(engine: Engine, hostile: Recorder) -> None:
    with engine.session() as session, pytest.raises(ScreenshotFailed, match=r"169\.254\.169\.254"):
        session.page(f"http://{HOSTILE}/to-metadata", "desktop_fold")


def test_a_url_that_is_not_http_is_refused(engine: Engine) -> None:
    with engine.session() as session, pytest.raises(ScreenshotFailed, match="only http and https"):
        session.page("file:///etc/passwd", "desktop_fold")


def test_a_serp_is_rendered_from_its_html_and_nothing_comes_from_google(engine: Engine, site: DemoSiteServer) -> None:
    html = f"""<html><head><meta name="viewport" content="width=device-width"><link rel="stylesheet" href="https://www.gstatic.com/serp.css"></head>
      <body><h3>Trail running shoes</h3><img src="https://www.google.com/logo.png">
      <img src="{site.site_url}images/logo.gif"><script>document.body.innerHTML = "scripts run";</script>
      </body></html>"""
    with engine.session() as session:
        shot = session.html(html, "mobile", url="https://www.google.com/search?q=trail+running+shoes")
    assert png_dimensions(shot.png) == (780, 1688)
    refused = {refusal.url for refusal in shot.refusals}
    assert refused == {"https://www.gstatic.com/serp.css", "https://www.google.com/logo.png"}


def test_a_page_slower_than_the_navigation_timeout_fails_alone(engine: Engine, site: DemoSiteServer) -> None:
    slow = site.catalogue.cases["slow"][0]  # answers after 3 s; the navigation timeout is 2 s
    with engine.session() as session:
        with pytest.raises(ScreenshotFailed, match=r"[Tt]imeout"):
            session.page(slow, "desktop_fold")
        again = session.page(site.site_url, "desktop_fold")  # the browser is fine
    assert (again.width, again.height) == (1920, 1080)
    assert engine.launches == 1  # one browser for the whole module: a warm environment's


def test_an_invocation_leaves_no_directory_behind(engine: Engine, site: DemoSiteServer) -> None:
    with engine.session() as session:
        session.page(site.site_url, "desktop_fold")
        directory = session.directory
        assert directory.is_dir()
    assert not directory.exists()
    assert [p.name for p in engine.config.work_dir.iterdir() if p.name.startswith("invocation-")] == []
