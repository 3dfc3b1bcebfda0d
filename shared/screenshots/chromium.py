"""The Chromium that takes screenshots: where it is, and how it is started.

The binary comes from the npm package ``@sparticuz/chromium`` (a headless shell built for serverless
platforms: no sandbox helper, no root, fonts and SwiftShader beside it), unpacked by
``scripts/chromium-path.mjs``: into ``.state/chromium/`` by ``make setup`` on a developer's machine and CI,
into ``/opt/chromium/`` by the image's Dockerfile. Playwright's own browser download is never used (it
reaches a CDN). Python Playwright drives it through ``executable_path``.
"""

import os
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
# Where `make setup` unpacks it (the Makefile's CHROMIUM variable names the same place).
LOCAL_CHROMIUM = REPOSITORY / ".state" / "chromium" / "chromium"

# @sparticuz/chromium's recommended flags (its `Chromium.args`, graphics off), less what Playwright sets itself
# (--headless, --no-sandbox when chromiumSandbox is false) and less --single-process: with it, Chromium 153
# exits when the first Playwright context is closed (a fresh context per capture is the point), and a renderer
# crash would take the browser; several renderers fit in the function's 2 GB. The network flags keep Chromium
# from opening connections that no request handler sees (DNS prefetch, preconnect): every request the page
# makes goes through the SSRF rules.
CHROMIUM_ARGS = (
    "--ash-no-nudges",
    "--disable-domain-reliability",
    "--disable-print-preview",
    "--disk-cache-size=33554432",
    "--no-default-browser-check",
    "--no-pings",
    "--font-render-hinting=none",
    "--disable-features=AudioServiceOutOfProcess,IsolateOrigins,site-per-process,NetworkPrediction",
    "--ignore-gpu-blocklist",
    "--in-process-gpu",
    "--disable-webgl",
    "--disable-setuid-sandbox",
    "--no-zygote",
    "--dns-prefetch-disable",
    "--disable-background-networking",
    "--disable-component-update",
    "--metrics-recording-only",
    "--mute-audio",
    "--hide-scrollbars",
)


def browser_environment(executable: Path, home: Path) -> dict[str, str | float | bool]:
    """The browser process's environment: its fonts (fontconfig), and a home and temp directory of its own.

    The unpack script writes ``fonts/fonts.conf`` beside the binary (the package's fonts plus the system's).
    In the image, the Amazon Linux libraries Chromium needs are on ``LD_LIBRARY_PATH`` (set by the Dockerfile).
    """
    environment: dict[str, str | float | bool] = {
        "HOME": str(home),
        "TMPDIR": str(home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }
    fonts = executable.parent / "fonts"
    if (fonts / "fonts.conf").is_file():
        environment["FONTCONFIG_PATH"] = str(fonts)
    for name in ("LD_LIBRARY_PATH", "LANG", "TZ"):
        if name in os.environ:
            environment[name] = os.environ[name]
    return environment
