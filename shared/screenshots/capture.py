"""The serp_screenshot worker: a SERP snapshot's screenshots, stored in S3 with a row each.

A ``ScreenshotSnapshot`` names a snapshot rank_check stored. Its SERP is rendered from the HTML DataForSEO kept
for the task (``task_get/html``, 7 days; Kestrel never requests Google), as the device it was checked on saw
it (desktop: the fold and the full page; mobile: the mobile viewport). Then the ranking page and the organic
results above it (at most three, best first; the top three when the project does not rank) are loaded through
the SSRF rules, each in the three variants. Each PNG goes to S3 under the tenant's prefix at a key fixed by the
snapshot and the capture, and the rows are written in the transaction that completes the unit of work: a
redelivery after that does nothing, one before it overwrites the same objects and writes the rows once.

A capture that fails (a page that never loads, a refused redirect, a SERP whose HTML DataForSEO no longer
has, or never had: an on-demand check's ``live/advanced`` keeps none, and Kestrel does not pay a second live
call for it) is a row with status ``failed`` and its reason, not a failed message: the other captures stand. A
transient failure of DataForSEO or S3 fails the message and SQS retries it.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.db import tenant_transaction
from shared.errors import PermanentError
from shared.observability import logger, metrics
from shared.ranks.dataforseo import dataforseo_client
from shared.runtime.work import RunOnce, Work
from shared.screenshots import storage
from shared.screenshots.data import screenshots as data
from shared.screenshots.data.screenshots import NewScreenshot, SnapshotToShoot
from shared.screenshots.engine import VARIANT_NAMES, ScreenshotFailed, Session, Shot, VariantName, warm_engine
from shared.screenshots.models import ScreenshotSnapshot
from shared.settings import Crawling, Screenshots, ScreenshotStore, settings_of

LEASE = timedelta(minutes=15)  # longer than the function's 300 s timeout
# Captures not started by then are recorded as not taken: the function's timeout is 300 s.
TIME_BUDGET_SECONDS = 220.0
LIVE_HAS_NO_HTML = (
    "An on-demand (live) check leaves no SERP HTML at DataForSEO (task_get/html serves the standard queue's tasks): "
    "the SERP is captured for the daily checks."
)
SERP_VARIANTS: dict[str, tuple[VariantName, ...]] = {
    "desktop": ("desktop_fold", "desktop_full"),
    "mobile": ("mobile",),
}


def rule_for(message: ScreenshotSnapshot) -> RunOnce:
    return RunOnce(message.tenant_id, f"serp_screenshot:{message.snapshot_id}", LEASE)


@dataclass(frozen=True)
class Capture:
    kind: str  # "serp" | "page"
    name: str  # the object's name under the snapshot's prefix
    url: str
    variant: VariantName


def plan(snapshot: SnapshotToShoot) -> list[Capture]:
    """What to capture of a snapshot, in order: its SERP, then each page in each variant."""
    serp_url = snapshot.check_url or "https://www.google.com/search"
    captures = [
        Capture("serp", f"serp-{variant}", serp_url, variant) for variant in SERP_VARIANTS.get(snapshot.device, ())
    ]
    for index, url in enumerate(snapshot.pages):
        captures += [Capture("page", f"page-{index}-{variant}", url, variant) for variant in VARIANT_NAMES]
    return captures


def serp_html(snapshot: SnapshotToShoot) -> str:
    """The SERP's HTML from DataForSEO, or why there is none (a ``PermanentError``'s message: no retry helps)."""
    if snapshot.live:
        raise PermanentError(LIVE_HAS_NO_HTML)
    if snapshot.provider_task_id is None:
        raise PermanentError("The snapshot has no DataForSEO task to read the SERP's HTML from.")
    return dataforseo_client().task_get_html(snapshot.provider_task_id)[0]


def handle(message: ScreenshotSnapshot, work: Work) -> None:
    started = time.monotonic()
    with tenant_transaction(message.tenant_id) as session:
        snapshot = data.snapshot_to_shoot(session, message.project_id, message.snapshot_id)
    if snapshot is None:  # deleted with its keyword or project since: nothing to show
        logger.info("Snapshot gone; no screenshots", extra={"snapshot_id": str(message.snapshot_id)})
        return
    captures = plan(snapshot)
    html: str | None = None
    html_error: str | None = None
    if any(capture.kind == "serp" for capture in captures):
        try:
            html = serp_html(snapshot)
        except PermanentError as exc:  # gone after 7 days, no results: recorded on the SERP's rows
            html_error = exc.detail
    store = settings_of(ScreenshotStore)
    engine = warm_engine(settings_of(Screenshots), settings_of(Crawling))
    rows: list[NewScreenshot] = []
    failed_urls: dict[str, str] = {}
    with engine.session() as shooting:
        for capture in captures:
            now = datetime.now(UTC)
            if capture.kind == "serp" and html is None:
                rows.append(_failed(capture, html_error or "no SERP HTML", now))
            elif capture.url in failed_urls:  # the page did not load in one variant: not tried again
                rows.append(_failed(capture, failed_urls[capture.url], now))
            elif time.monotonic() - started > TIME_BUDGET_SECONDS:
                rows.append(_failed(capture, "not taken: the invocation's time ran out", now))
            else:
                try:
                    shot = _take(shooting, capture, html)
                except ScreenshotFailed as exc:
                    if capture.kind == "page":
                        failed_urls[capture.url] = str(exc)
                    rows.append(_failed(capture, str(exc), now))
                    continue
                key = storage.key_for(message.tenant_id, snapshot.project_id, snapshot.snapshot_id, capture.name)
                storage.put(key, shot.png)
                rows.append(
                    NewScreenshot(
                        kind=capture.kind,
                        url=capture.url,
                        variant=capture.variant,
                        width=shot.width,
                        height=shot.height,
                        s3_key=key,
                        bytes=len(shot.png),
                        status="stored",
                        error=None,
                        captured_at=now,
                        expires_at=now + timedelta(days=store.screenshot_retention_days),
                    )
                )
    with work.finish() as session:
        data.store(session, snapshot, rows)
    stored = sum(1 for row in rows if row.status == "stored")
    metrics.add_metric(name="ScreenshotsStored", unit="Count", value=stored)
    metrics.add_metric(name="ScreenshotsFailed", unit="Count", value=len(rows) - stored)


def _take(shooting: Session, capture: Capture, html: str | None) -> Shot:
    if capture.kind == "serp" and html is not None:
        return shooting.html(html, capture.variant, url=capture.url)
    return shooting.page(capture.url, capture.variant)


def _failed(capture: Capture, reason: str, now: datetime) -> NewScreenshot:
    width = {"desktop_fold": 1920, "desktop_full": 1920, "mobile": 780}[capture.variant]
    return NewScreenshot(
        kind=capture.kind,
        url=capture.url,
        variant=capture.variant,
        width=width,
        height=None,
        s3_key=None,
        bytes=None,
        status="failed",
        error=reason[:1000],
        captured_at=now,
        expires_at=None,
    )
