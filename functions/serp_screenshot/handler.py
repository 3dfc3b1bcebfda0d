"""serp_screenshot: a SERP snapshot's screenshots (its SERP from DataForSEO's HTML, its ranking and competing pages).

Runs from a container image in AWS (images/serp_screenshot/Dockerfile: Chromium and Playwright); `kestrel up`
runs this same handler as a Python function, with the Chromium `make setup` unpacked.
"""

from shared.runtime.worker import Worker
from shared.screenshots import capture
from shared.screenshots.models import ScreenshotSnapshot
from shared.settings import Crawling, Database, DataForSeo, Screenshots, ScreenshotStore

worker: Worker[ScreenshotSnapshot, ScreenshotSnapshot] = Worker(
    "serp_screenshot",
    ScreenshotSnapshot,
    capture.handle,
    idempotency=capture.rule_for,
    settings=(Database, Screenshots, ScreenshotStore, Crawling, DataForSeo),
)
handler = worker.lambda_handler()
