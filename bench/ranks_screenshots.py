"""Screenshots per second in one warm environment, beside a bare Playwright loop, and a cold start.

The screenshot half of ``make bench-ranks``. One warm environment is what a serp_screenshot Lambda is after its
first invocation: the engine (``shared.screenshots.engine``) with its browser started, taking the demo site's
pages one after the other as the worker takes a snapshot's: each page in the three variants (desktop 1920x1080
above the fold, desktop full page, mobile viewport), each capture in a fresh context, every request routed
through the SSRF rules and fetched by Kestrel (``GuardedRouter``), the three captures of a page sharing one
invocation cache (what a page answers once is not fetched again for its next variant; nothing is shared
between pages). The floor, in the same run and the same process, is a bare Playwright loop over the same
captures with the same Chromium and flags: a new page per capture (Playwright gives it its own context),
``goto`` until ``load``, a PNG, close; Chromium fetches for itself, in parallel. ``vs_bare_playwright`` is the
engine's rate over the loop's (the issue's goal: at least 0.8). The engine is also timed reusing no answer at
all (a session per capture), printed beside. Rounds alternate; medians are quoted.

The cold start is a new process's, end to end: the interpreter, the imports (Playwright, the engine), launching
Chromium and the first screenshot, until its PNG is in hand, median of a few. In AWS a cold start adds what this
machine cannot measure: pulling and starting the container image (Lambda caches images; a first pull of a new
image takes longer).

    make bench-ranks     (both halves)      .venv/bin/python -m bench.ranks_screenshots     (this half)
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kestrel_local.config import PROJECT_ROOT
from kestrel_local.demo_site import DemoSiteServer
from shared.screenshots.chromium import CHROMIUM_ARGS, LOCAL_CHROMIUM, browser_environment
from shared.screenshots.engine import VARIANTS as VARIANT_SPECS
from shared.screenshots.engine import Engine, EngineConfig, VariantName, png_dimensions

PAGES = 10  # x 3 variants
REPEATS = 3
COLD_STARTS = 3
VARIANTS: tuple[VariantName, ...] = ("desktop_fold", "desktop_full", "mobile")


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def pages_of(site: DemoSiteServer, count: int) -> list[str]:
    """Ordinary pages of the site (no slow page, no redirect, no PDF): products, categories, articles."""
    slow = set(site.catalogue.cases.get("slow", ()))
    urls = [
        f"{site.site_url.rstrip('/')}{path}"
        for path, page in sorted(site.catalogue.pages.items())
        if not page.slow and path.endswith("/") and path.count("/") >= 2
    ]
    urls = [url for url in urls if url not in slow]
    step = max(1, len(urls) // count)
    return urls[::step][:count]


def engine_round(engine: Engine, urls: list[str], *, session_per: str = "page") -> float:
    """Captures per second: each page in every variant, as the worker takes a snapshot's pages.

    ``session_per="page"``: one session (the invocation's cache) per page, shared by its three variants and by
    nothing else, stricter than the worker, whose session spans a snapshot's pages. ``"capture"``: a session per
    capture, no answer reused at all (the diagnostic figure).
    """
    started = time.perf_counter()
    for url in urls:
        if session_per == "page":
            with engine.session() as session:
                for variant in VARIANTS:
                    check(session.page(url, variant).png, variant)
        else:
            for variant in VARIANTS:
                with engine.session() as session:
                    check(session.page(url, variant).png, variant)
    return len(urls) * len(VARIANTS) / (time.perf_counter() - started)


def bare_round(browser: Any, urls: list[str]) -> float:
    """The same captures by a bare loop: a new page (its own context) per capture, Chromium fetching for itself."""
    started = time.perf_counter()
    for url in urls:
        for name in VARIANTS:
            variant = VARIANT_SPECS[name]
            page = browser.new_page(
                viewport={"width": variant.width, "height": variant.height},
                device_scale_factor=variant.scale,
                is_mobile=variant.mobile,
                has_touch=variant.mobile,
            )
            page.goto(url, wait_until="load")
            check(page.screenshot(type="png", full_page=variant.full_page), name)
            page.close()
    return len(urls) * len(VARIANTS) / (time.perf_counter() - started)


def check(png: bytes, name: VariantName) -> None:
    width, height = png_dimensions(png)
    expected = VARIANT_SPECS[name].png_size(height if VARIANT_SPECS[name].full_page else None)
    assert (width, height) == expected, (name, width, height)


COLD_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from shared.screenshots.engine import Engine, EngineConfig
from shared.screenshots.chromium import LOCAL_CHROMIUM
imported = time.perf_counter()
address, url, work = sys.argv[1], sys.argv[2], sys.argv[3]
pinned = {"www.bench-shots.example.com": address}
engine = Engine(EngineConfig(LOCAL_CHROMIUM, work_dir=Path(work), pinned_hosts=pinned))
engine.browser()
launched = time.perf_counter()
with engine.session() as session:
    shot = session.page(url, "desktop_fold")
done = time.perf_counter()
engine.close()
print(json.dumps({"import_s": imported - t0, "launch_s": launched - imported, "first_shot_s": done - launched}))
"""


def cold_start(site: DemoSiteServer, url: str) -> dict[str, float]:
    """A new process, from its spawn to its first PNG (the child reports its parts)."""
    with tempfile.TemporaryDirectory(prefix="kestrel-cold-") as work:
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", COLD_CHILD, site.address, url, work],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        )
        total = time.perf_counter() - started
    parts: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return {"total_s": total, **parts}


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def measure(repeats: int = REPEATS, pages: int = PAGES) -> dict[str, float]:
    if not LOCAL_CHROMIUM.is_file():
        raise SystemExit(f"No Chromium at {LOCAL_CHROMIUM}: run `make setup`.")
    site = DemoSiteServer(domain="bench-shots.example.com", tls=False, crawl_delay=0, slow_seconds=0).start()
    try:
        urls = pages_of(site, pages)
        say(f"{len(urls)} pages of the demo site x {len(VARIANTS)} variants ({', '.join(VARIANTS)}), {repeats} rounds")
        pinned = dict.fromkeys(site.catalogue.hosts, site.address)
        with tempfile.TemporaryDirectory(prefix="kestrel-bench-shots-") as work:
            engine = Engine(EngineConfig(LOCAL_CHROMIUM, work_dir=Path(work) / "engine", pinned_hosts=pinned))
            engine_round(engine, urls[:2])  # warm: the environment after its first invocation
            playwright = engine.playwright  # one Playwright per thread: the engine's
            host, port = site.address.split(":")
            rules = ",".join(f"MAP {name}:80 {host}:{port}" for name in site.catalogue.hosts)
            home = Path(work) / "bare"
            home.mkdir()
            browser = playwright.chromium.launch(
                executable_path=str(LOCAL_CHROMIUM),
                args=[*CHROMIUM_ARGS, f"--host-resolver-rules={rules}"],
                env=browser_environment(LOCAL_CHROMIUM, home),
                chromium_sandbox=False,
            )
            bare_round(browser, urls[:2])
            ours: list[float] = []
            bare: list[float] = []
            uncached: list[float] = []
            try:
                for number in range(repeats):
                    ours.append(engine_round(engine, urls))
                    bare.append(bare_round(browser, urls))
                    uncached.append(engine_round(engine, urls, session_per="capture"))
                    say(
                        f"round {number + 1}: engine {ours[-1]:.2f}/s, bare Playwright {bare[-1]:.2f}/s"
                        f" (engine reusing no answer: {uncached[-1]:.2f}/s)"
                    )
            finally:
                browser.close()
                engine.close()
        colds = [cold_start(site, urls[0]) for _ in range(COLD_STARTS)]
        for cold in colds:
            say(
                "cold start {total_s:.2f} s (imports {import_s:.2f}, Chromium launch {launch_s:.2f}, "
                "first screenshot {first_shot_s:.2f})".format(**cold)
            )
    finally:
        site.stop()
    chromium_dir = LOCAL_CHROMIUM.parent
    package = PROJECT_ROOT / "node_modules" / "@sparticuz" / "chromium" / "bin"
    import playwright as playwright_package

    driver = Path(playwright_package.__file__).parent
    binary_mb = LOCAL_CHROMIUM.stat().st_size / 1e6
    say(
        f"sizes: Chromium unpacked {size_mb(chromium_dir):.0f} MB (binary {binary_mb:.0f} MB), npm package's brotli"
        f" files {size_mb(package):.0f} MB, Python playwright with its driver {size_mb(driver):.0f} MB"
    )
    per_s = statistics.median(ours)
    bare_per_s = statistics.median(bare)
    return {
        "screenshots_per_s": per_s,
        "bare_per_s": bare_per_s,
        "vs_bare_playwright": per_s / bare_per_s,
        "screenshot_cold_s": statistics.median(c["total_s"] for c in colds),
        "uncached_vs_bare": statistics.median(uncached) / bare_per_s,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--pages", type=int, default=PAGES)
    args = parser.parse_args()
    result = measure(args.repeats, args.pages)
    say(
        f"medians: engine {result['screenshots_per_s']:.2f}/s, bare Playwright {result['bare_per_s']:.2f}/s;"
        f" the engine with no answer reused is {result['uncached_vs_bare']:.2f} of the bare loop"
    )
    print(
        f"bench-ranks-screenshots screenshots_per_s={result['screenshots_per_s']:.2f}"
        f" vs_bare_playwright={result['vs_bare_playwright']:.2f} screenshot_cold_s={result['screenshot_cold_s']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
