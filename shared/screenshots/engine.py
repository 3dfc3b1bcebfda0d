"""The screenshot engine: one Chromium per warm environment, a fresh context per screenshot.

``Engine`` starts the browser on first use and keeps it for the environment's life (a cold start pays the
launch once; each screenshot then costs a context, a page and the capture). Every screenshot gets its own
browser context (no cookie, cache or storage shared with another page or tenant), routed through
``GuardedRouter`` (the crawler's SSRF rules on every request), with a navigation timeout and a total
timeout after which nothing more is fetched and the capture is taken or abandoned. Work is grouped in
``Engine.session()``, one per invocation: its own directory under the engine's, which the captures are
written to and which is removed when the invocation ends, with whatever Chromium left in its temp
directory meanwhile (crash dumps, shared-memory files: on Lambda, /tmp outlives the invocation).

A SERP is rendered from the HTML DataForSEO returned (``Session.html``: set as the page's content,
scripts off, nothing fetched from Google); a page is loaded from its URL (``Session.page``).
"""

import shutil
import struct
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import httpx
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from shared.crawl.fetch import _error_code
from shared.crawl.ssrf import AddressPolicy, guarded_client
from shared.errors import ConfigurationError
from shared.screenshots.chromium import CHROMIUM_ARGS, browser_environment
from shared.screenshots.routing import AnswerCache, GuardedRouter, Refusal, Refused, is_google
from shared.settings import Crawling, Screenshots

VariantName = Literal["desktop_fold", "desktop_full", "mobile"]
VARIANT_NAMES: tuple[VariantName, ...] = get_args(VariantName)
CAPTURE_ATTEMPTS = 3
# A proxy nobody listens on: a connection Chromium would open without asking the route handler fails.
NOWHERE_PROXY = {"server": "http://127.0.0.1:9", "bypass": "<-loopback>"}
MOBILE_USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/153.0.0.0 Mobile Safari/537.36"
)
DESKTOP_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/153.0.0.0 Safari/537.36"
)


@dataclass(frozen=True)
class Variant:
    """A way of looking at a page: the viewport (CSS pixels), its pixel density, and whether the whole page."""

    name: VariantName
    width: int
    height: int
    scale: float = 1.0
    mobile: bool = False
    full_page: bool = False

    def png_size(self, page_height: int | None = None) -> tuple[int, int]:
        """The PNG's size in pixels: the viewport's, or the (capped) page height's for a full page."""
        height = page_height if self.full_page and page_height is not None else self.height
        return round(self.width * self.scale), round(height * self.scale)


VARIANTS: dict[VariantName, Variant] = {
    "desktop_fold": Variant("desktop_fold", 1920, 1080),
    "desktop_full": Variant("desktop_full", 1920, 1080, full_page=True),
    "mobile": Variant("mobile", 390, 844, scale=2.0, mobile=True),
}


class ScreenshotFailed(Exception):
    """This page could not be captured (it never loaded, it was refused): recorded, the others go on."""


@dataclass(frozen=True)
class Shot:
    variant: VariantName
    url: str
    png: bytes
    width: int
    height: int
    refusals: tuple[Refusal, ...]


@dataclass(frozen=True)
class EngineConfig:
    executable: Path
    work_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "kestrel-screenshots")
    navigation_timeout: float = 20.0
    total_timeout: float = 45.0
    max_full_height: int = 15_000  # CSS pixels: a full page longer than this is cut (PNG size, memory)
    max_resource_bytes: int = 10 * 1024 * 1024
    pinned_hosts: Mapping[str, str] = field(default_factory=dict)
    ca_file: str | None = None
    extra_args: tuple[str, ...] = ()


def png_dimensions(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk; ``ValueError`` if ``png`` is not a PNG."""
    if len(png) < 24 or png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


class Engine:
    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._client: httpx.Client | None = None
        self.launches = 0

    # -- the browser, once per environment -------------------------------------------------------

    def browser(self) -> Browser:
        if self._browser is not None and self._browser.is_connected():
            return self._browser
        executable = self.config.executable
        if not executable.is_file():
            raise ConfigurationError(
                f"No Chromium at {executable}: `make setup` unpacks @sparticuz/chromium there "
                "(KESTREL_CHROMIUM_PATH names another)."
            )
        home = self.config.work_dir / "browser"
        home.mkdir(parents=True, exist_ok=True)
        if self._playwright is None:
            self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=str(executable),
            args=[*CHROMIUM_ARGS, *self.config.extra_args],
            env=browser_environment(executable, home),
            headless=True,
            chromium_sandbox=False,
            proxy=NOWHERE_PROXY,  # type: ignore[arg-type]
        )
        self.launches += 1
        return self._browser

    @property
    def playwright(self) -> Playwright:
        """The Playwright driver the browser runs under (one per thread: the bench launches its floor from it)."""
        self.browser()
        assert self._playwright is not None  # noqa: S101 (browser() started it)
        return self._playwright

    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = guarded_client(
                AddressPolicy(pinned=dict(self.config.pinned_hosts)),
                timeout=self.config.navigation_timeout,
                ca_file=self.config.ca_file,
            )
        return self._client

    def close(self) -> None:
        if self._browser is not None:
            with suppress(PlaywrightError):
                self._browser.close()
            self._browser = None
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None
        if self._client is not None:
            self._client.close()
            self._client = None

    @contextmanager
    def session(self) -> Iterator["Session"]:
        """One invocation's work: its own directory, removed after, with Chromium's leftovers in its temp dir."""
        directory = self.config.work_dir / f"invocation-{uuid.uuid4().hex}"
        directory.mkdir(parents=True)
        browser_home = self.config.work_dir / "browser"
        before = set(browser_home.iterdir()) if browser_home.is_dir() else set()
        try:
            yield Session(self, directory)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
            if browser_home.is_dir():
                for leftover in set(browser_home.iterdir()) - before:
                    if leftover.name.startswith(("core", ".org.chromium.", "Crashpad")):
                        shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink(
                            missing_ok=True
                        )


@dataclass
class Session:
    engine: Engine
    directory: Path
    taken: int = 0
    # The invocation's storable answers, shared by its captures (a page in three variants is fetched once).
    cache: AnswerCache = field(default_factory=AnswerCache)

    def page(self, url: str, variant: VariantName) -> Shot:
        """The page at ``url`` as ``variant`` shows it. ``ScreenshotFailed`` if it never loads."""
        return self._capture(variant, url=url, html=None)

    def html(self, html: str, variant: VariantName, *, url: str) -> Shot:
        """A SERP: ``html`` (DataForSEO's copy of the results page for ``url``) set as the page's content."""
        return self._capture(variant, url=url, html=html)

    def _capture(self, variant_name: VariantName, *, url: str, html: str | None) -> Shot:
        config = self.engine.config
        variant = VARIANTS[variant_name]
        started = time.monotonic()
        deadline = started + config.total_timeout
        serp = html is not None
        router = GuardedRouter(
            self.engine.client(),
            deadline=deadline,
            max_bytes=config.max_resource_bytes,
            cache=self.cache,
            refuse_host=(lambda host: "a SERP is never fetched from Google" if is_google(host) else None)
            if serp
            else (lambda host: None),
        )
        context = self._context(variant, javascript=not serp)
        try:
            context.route("**/*", router)
            # WebSockets are not HTTP requests the route sees: answered by nobody, closed at once.
            context.route_web_socket("**/*", lambda socket: socket.close())
            page = context.new_page()
            page.set_default_timeout(config.total_timeout * 1000)
            try:
                if html is not None:
                    page.set_content(html, wait_until="load", timeout=config.navigation_timeout * 1000)
                else:
                    final_url = self._resolve(router, url, variant, config.navigation_timeout)
                    page.goto(final_url, wait_until="domcontentloaded", timeout=config.navigation_timeout * 1000)
            except PlaywrightError as exc:
                raise ScreenshotFailed(_first_line(exc, router.refusals)) from exc
            if html is None:
                # A resource that never finishes loading does not stop the capture of what is there.
                remaining = max(0.0, min(config.navigation_timeout, deadline - time.monotonic()))
                with suppress(PlaywrightTimeout):
                    page.wait_for_load_state("load", timeout=remaining * 1000)
            clip_height: int | None = None
            if variant.full_page:
                page_height = int(page.evaluate("() => document.documentElement.scrollHeight") or variant.height)
                clip_height = max(variant.height, min(page_height, config.max_full_height))
            path = self.directory / f"shot-{self.taken}.png"
            self.taken += 1
            options: dict[str, Any] = {"path": path, "type": "png", "animations": "disabled"}
            if clip_height is not None:
                options |= {"full_page": True, "clip": {"x": 0, "y": 0, "width": variant.width, "height": clip_height}}
            # Headless Chromium now and then answers captureScreenshot with "Unable to capture screenshot" (no
            # frame ready yet, under load): the capture is tried again while the total timeout allows.
            for attempt in range(CAPTURE_ATTEMPTS):
                remaining_ms = (deadline - time.monotonic()) * 1000
                try:
                    page.screenshot(timeout=max(1000.0, remaining_ms), **options)
                    break
                except PlaywrightError as exc:
                    if attempt + 1 == CAPTURE_ATTEMPTS or remaining_ms < 2000:
                        raise ScreenshotFailed(f"the capture failed: {_first_line(exc, ())}") from exc
                    page.wait_for_timeout(250)
            png = path.read_bytes()
            path.unlink()
        finally:
            with suppress(PlaywrightError):
                context.close()
        width, height = png_dimensions(png)
        return Shot(variant_name, url, png, width, height, tuple(router.refusals))

    @staticmethod
    def _resolve(router: GuardedRouter, url: str, variant: Variant, timeout: float) -> str:
        """Where ``url``'s redirects end, each hop under the rules; ``ScreenshotFailed`` when refused or unreachable."""
        agent = MOBILE_USER_AGENT if variant.mobile else DESKTOP_USER_AGENT
        headers = {
            "user-agent": agent,
            "accept": "text/html,application/xhtml+xml,*/*;q=0.8",
            "accept-language": "en-US",
        }
        try:
            return router.resolve(url, headers, timeout=timeout)
        except Refused as exc:
            raise ScreenshotFailed(f"{exc.args[0]}: {exc.args[1]}") from exc
        except Exception as exc:
            raise ScreenshotFailed(f"{url}: {_error_code(exc)}: {exc}") from exc

    def _context(self, variant: Variant, *, javascript: bool) -> BrowserContext:
        return self.engine.browser().new_context(
            viewport={"width": variant.width, "height": variant.height},
            device_scale_factor=variant.scale,
            is_mobile=variant.mobile,
            has_touch=variant.mobile,
            user_agent=MOBILE_USER_AGENT if variant.mobile else DESKTOP_USER_AGENT,
            java_script_enabled=javascript,
            service_workers="block",  # a service worker's fetches would bypass the route
            accept_downloads=False,
            locale="en-US",
        )


def _first_line(exc: Exception, refusals: tuple[Refusal, ...] | list[Refusal]) -> str:
    message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    refused = next((r for r in refusals), None)
    return f"{message} ({refused.url}: {refused.reason})" if refused is not None else message


_engine: Engine | None = None


def warm_engine(settings: Screenshots, crawling: Crawling | None = None) -> Engine:
    """This environment's engine (one browser per warm environment), made on first use.

    ``crawling`` gives the pinned hosts and the extra CA (the local demo sites); the SSRF rules are the crawler's.
    """
    global _engine
    if _engine is None:
        work_dir = Path(settings.screenshot_work_dir or Path(tempfile.gettempdir()) / "kestrel-screenshots")
        _engine = Engine(
            EngineConfig(
                executable=Path(settings.chromium_path),
                work_dir=work_dir,
                navigation_timeout=settings.screenshot_navigation_timeout_seconds,
                total_timeout=settings.screenshot_total_timeout_seconds,
                max_full_height=settings.screenshot_max_full_height,
                max_resource_bytes=settings.screenshot_max_resource_bytes,
                pinned_hosts=dict(crawling.crawl_pinned_hosts) if crawling else {},
                ca_file=crawling.crawl_ca_file if crawling else None,
                extra_args=tuple(settings.screenshot_chromium_args),
            )
        )
    return _engine


def forget_engine() -> None:
    """Close this environment's engine (tests that reconfigure a long-lived process)."""
    global _engine
    if _engine is not None:
        _engine.close()
        _engine = None
