"""``DemoSiteServer``: the demo catalogue over HTTPS (a local CA's certificate) or plain HTTP, with instrumentation.

It answers for the catalogue's hosts only (the Host header; any other host gets 421): the apex
redirects to ``www``, robots.txt and the sitemaps are generated from the catalogue, pages render
from it. Tests see every request in ``access_log`` and the most concurrent requests per host in
``peak_in_flight``, and can make the next requests fail with ``fail_next``.
"""

import dataclasses
import shutil
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import trustme

from kestrel_local.demo_site.catalogue import Page, SiteCatalogue, site_catalogue
from kestrel_local.demo_site.competitors import CompetitorSite, competitor_catalogue, competitor_page
from kestrel_local.demo_site.render import render
from kestrel_local.demo_site.sitemaps import SITEMAPS, robots_txt, sitemap, sitemap_index
from kestrel_local.http_server import BackgroundHttpServer

DEFAULT_DOMAIN = "demo-outdoor.example.com"
_PIXEL = bytes.fromhex("47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b")
_STYLESHEET = b"body{font-family:system-ui,sans-serif;margin:0}main{max-width:60rem;margin:auto}\n"


@dataclass(frozen=True)
class AccessLogEntry:
    started: float  # time.monotonic()
    finished: float
    host: str
    method: str
    target: str  # path and query, as requested
    status: int
    user_agent: str


@dataclass
class _Failure:
    path_prefix: str
    status: int
    remaining: int
    retry_after: int | None


@dataclass(frozen=True)
class _Response:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class DemoSiteServer(BackgroundHttpServer):
    """The demo site on ``host:port`` (``port=0`` picks a free one).

    With ``tls`` (the default) it serves a certificate for ``domain`` and ``*.domain`` from a local CA
    whose PEM is written to ``ca_file`` (a temporary file unless a path is given); clients trust that
    file and connect to this address under the site's host name. ``latency_seconds`` delays every
    answer (a far-away server, so that concurrent requests overlap in tests). ``slow_seconds`` is how long the
    catalogue's slow page takes; ``crawl_delay`` is what robots.txt asks for. ``competitors`` are other sites
    served as virtual hosts (``kestrel_local.demo_site.competitors``: the pages the DataForSEO stand-in's
    SERPs link), under the same certificate authority.
    """

    def __init__(
        self,
        *,
        domain: str = DEFAULT_DOMAIN,
        scale: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = True,
        ca_file: Path | None = None,
        crawl_delay: float = 0.2,
        slow_seconds: float = 1.2,
        latency_seconds: float = 0.0,
        competitors: Sequence[CompetitorSite] = (),
    ) -> None:
        self.catalogue: SiteCatalogue = site_catalogue(domain, scale=scale)
        self.competitors = {host: site for site in competitors for host in (site.host, site.domain)}
        self.tls = tls
        self.crawl_delay = crawl_delay
        self.slow_seconds = slow_seconds
        self.latency_seconds = latency_seconds
        self.access_log: list[AccessLogEntry] = []
        self.peak_in_flight: dict[str, int] = {}
        self._in_flight: dict[str, int] = {}
        self._failures: list[_Failure] = []
        self._rendered: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._temporary_dir: Path | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as crawlers expect

            def do_GET(self) -> None:
                self._answer(send_body=True)

            def do_HEAD(self) -> None:
                self._answer(send_body=False)

            def _answer(self, *, send_body: bool) -> None:
                host = (self.headers.get("Host") or "").lower().rsplit(":", 1)[0]
                started = time.monotonic()
                server._enter(host)
                try:
                    time.sleep(server.latency_seconds)
                    response = server._respond(host, self.path)
                finally:
                    server._leave(host)
                self.send_response(response.status)
                for name, value in response.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if send_body:
                    self.wfile.write(response.body)
                server._log(
                    AccessLogEntry(
                        started,
                        time.monotonic(),
                        host,
                        self.command,
                        self.path,
                        response.status,
                        self.headers.get("User-Agent", ""),
                    )
                )

            def log_message(self, format: str, *args: Any) -> None:
                return

        super().__init__(host, port, Handler, name=f"demo-site-{domain}")
        self._server.handle_error = _quiet_about_disconnects(self._server.handle_error)  # type: ignore[method-assign,assignment]
        if tls:
            self.ca_file = ca_file or self._temporary_ca_path()
            self._server.socket = self._tls_context(self.ca_file).wrap_socket(
                # the handshake happens on first read, in the request's thread, not in the accept loop
                self._server.socket,
                server_side=True,
                do_handshake_on_connect=False,
            )

    # -- configuration ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """This server's own address (``https://127.0.0.1:port``); the site's URLs are ``site_url``'s."""
        return super().url.replace("http://", "https://", 1) if self.tls else super().url

    @property
    def site_url(self) -> str:
        """The site's home page as the crawler names it: reached through the pinned-host map."""
        return self.catalogue.base_url if self.tls else self.catalogue.base_url.replace("https://", "http://", 1)

    @property
    def hosts(self) -> tuple[str, ...]:
        """Every host this server answers for: the site's, then its competitors' (pin them all to ``address``)."""
        return (*self.catalogue.hosts, *self.competitors)

    @property
    def address(self) -> str:
        """``127.0.0.1:port``: the value of the pinned-host map for the site's hosts."""
        return self.url.split("://", 1)[1]

    def _temporary_ca_path(self) -> Path:
        self._temporary_dir = Path(tempfile.mkdtemp(prefix="kestrel-demo-site-"))
        return self._temporary_dir / "ca.pem"

    def _tls_context(self, ca_file: Path) -> ssl.SSLContext:
        authority = trustme.CA(organization_name="Kestrel local demo CA")
        domain = self.catalogue.domain
        authority.cert_pem.write_to_path(str(ca_file))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        others = [
            name for site in dict.fromkeys(self.competitors.values()) for name in (site.domain, f"*.{site.domain}")
        ]
        authority.issue_cert(domain, f"*.{domain}", *others).configure_cert(context)
        return context

    def stop(self) -> None:
        super().stop()
        if self._temporary_dir is not None:
            shutil.rmtree(self._temporary_dir, ignore_errors=True)

    # -- instrumentation --------------------------------------------------------------------------

    def fail_next(self, path_prefix: str, status: int, *, times: int, retry_after: int | None = None) -> None:
        """Answer ``status`` (429, 503...) to the next ``times`` requests whose target starts with ``path_prefix``."""
        with self._lock:
            self._failures.append(_Failure(path_prefix, status, times, retry_after))

    def revise(self, path: str, **changes: Any) -> Page:
        """Edit one page of the site from now on (its title, H1s, paragraphs...), as its owner would between crawls."""
        with self._lock:
            page = dataclasses.replace(self.catalogue.pages[path], **changes)
            pages = {**self.catalogue.pages, path: page}
            self.catalogue = dataclasses.replace(self.catalogue, pages=pages)
            self._rendered.pop(path, None)
        return page

    def reset_log(self) -> None:
        with self._lock:
            self.access_log.clear()
            self.peak_in_flight.clear()

    def _enter(self, host: str) -> None:
        with self._lock:
            self._in_flight[host] = self._in_flight.get(host, 0) + 1
            self.peak_in_flight[host] = max(self.peak_in_flight.get(host, 0), self._in_flight[host])

    def _leave(self, host: str) -> None:
        with self._lock:
            self._in_flight[host] -= 1

    def _log(self, entry: AccessLogEntry) -> None:
        with self._lock:
            self.access_log.append(entry)

    def _injected_failure(self, target: str) -> _Failure | None:
        with self._lock:
            for failure in self._failures:
                if failure.remaining > 0 and target.startswith(failure.path_prefix):
                    failure.remaining -= 1
                    return failure
        return None

    # -- responses --------------------------------------------------------------------------------

    def _respond(self, host: str, target: str) -> _Response:
        catalogue = self.catalogue
        if host in self.competitors:
            return self._competitor(self.competitors[host], host, target)
        if host not in catalogue.hosts:
            return _text(421, f"This server does not answer for {host or 'a request without a Host'}.\n")
        failure = self._injected_failure(target)
        if failure is not None:
            headers = (("Retry-After", str(failure.retry_after)),) if failure.retry_after is not None else ()
            return _text(failure.status, "Slow down.\n", headers)
        scheme = "https" if self.tls else "http"
        if host == catalogue.domain:
            return _redirect(f"{scheme}://www.{catalogue.domain}{target}")
        path = target.split("?", 1)[0].split("#", 1)[0] or "/"
        if path in catalogue.redirects:
            return _redirect(catalogue.redirects[path])
        if path == "/robots.txt":
            return _text(200, robots_txt(catalogue, crawl_delay=self.crawl_delay))
        if path == "/sitemap.xml":
            return _Response(200, (("Content-Type", "application/xml"),), sitemap_index(catalogue))
        if path in SITEMAPS:
            gzipped = path.endswith(".gz")
            content_type = "application/gzip" if gzipped else "application/xml"
            return _Response(200, (("Content-Type", content_type),), sitemap(catalogue, path))
        if path.startswith("/images/"):
            return _Response(200, (("Content-Type", "image/gif"),), _PIXEL)
        if path == "/static/site.css":
            return _Response(200, (("Content-Type", "text/css"),), _STYLESHEET)
        page = catalogue.page_for(path)
        if page is None:
            return self._not_found(path)
        if page.slow:
            time.sleep(self.slow_seconds)
        return _Response(200, _page_headers(page), self._render(page))

    def _competitor(self, site: CompetitorSite, host: str, target: str) -> _Response:
        """A competitor's site: its home, its articles (any ``/{section}/{slug}/``), robots.txt and assets."""
        failure = self._injected_failure(target)
        if failure is not None:
            return _text(failure.status, "Slow down.\n")
        scheme = "https" if self.tls else "http"
        if host == site.domain:
            return _redirect(f"{scheme}://{site.host}{target}")
        path = target.split("?", 1)[0].split("#", 1)[0] or "/"
        if path == "/robots.txt":
            return _text(200, "User-agent: *\nAllow: /\n")
        if path.startswith("/images/"):
            return _Response(200, (("Content-Type", "image/gif"),), _PIXEL)
        if path == "/static/site.css":
            return _Response(200, (("Content-Type", "text/css"),), _STYLESHEET)
        catalogue = competitor_catalogue(site.domain)
        page = competitor_page(site.domain, path)
        if page is None:
            missing = Page(
                path=path,
                kind="not-found",
                title=f"Not found | {site.name}",
                description=None,
                h1s=("Page not found",),
                robots="noindex",
            )
            return _Response(404, (("Content-Type", "text/html; charset=utf-8"),), render(catalogue, missing))
        return _Response(200, (("Content-Type", "text/html; charset=utf-8"),), render(catalogue, page))

    def _render(self, page: Page) -> bytes:
        with self._lock:
            cached = self._rendered.get(page.path)
        if cached is None:
            cached = render(self.catalogue, page)
            with self._lock:
                self._rendered[page.path] = cached
        return cached

    def _not_found(self, path: str) -> _Response:
        page = Page(
            path=path,
            kind="not-found",
            title=f"Page Not Found | {self.catalogue.brand}",
            description=None,
            h1s=("Page not found",),
            paragraphs=("The page you were looking for has moved or no longer exists. Try the search above.",),
            robots="noindex",
        )
        return _Response(404, (("Content-Type", "text/html; charset=utf-8"),), render(self.catalogue, page))


def _page_headers(page: Page) -> tuple[tuple[str, str], ...]:
    # a page in a legacy encoding declares it only in its <meta charset>, as such sites often do
    content_type = (
        page.content_type if page.content_type != "text/html" or page.charset != "utf-8" else "text/html; charset=utf-8"
    )
    headers = [("Content-Type", content_type)]
    if page.x_robots_tag:
        headers.append(("X-Robots-Tag", page.x_robots_tag))
    if page.header_canonical:
        headers.append(("Link", f'<{page.header_canonical}>; rel="canonical"'))
    return tuple(headers)


def _text(status: int, text: str, headers: tuple[tuple[str, str], ...] = ()) -> _Response:
    return _Response(status, (("Content-Type", "text/plain; charset=utf-8"), *headers), text.encode())


def _redirect(location: str) -> _Response:
    return _Response(301, (("Location", location), ("Content-Type", "text/plain; charset=utf-8")), b"Moved.\n")


def _quiet_about_disconnects(report: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """Clients that hang up or refuse the certificate are the client's business; other errors are still printed."""

    def handle_error(request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError | ssl.SSLError):
            report(request, client_address)

    return handle_error
