"""One batch of a crawl: claim URLs of one host, visit them (a few at a time, politely), record what was seen.

A batch ends by sending the crawl's next batch while URLs remain queued; the
batch that finds nothing left to fetch and no other batch holding URLs
finishes the crawl. A cancelled crawl stops at its next batch. A batch that recorded new or changed pages tells
nlp_entities once it committed (the pages wait in the outbox, ``page_changed_events``).
"""

import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from shared.crawl import completion, raw_html, robots_cache
from shared.crawl import job as crawl_job
from shared.crawl.data import frontier, snapshots
from shared.crawl.data.frontier import MAX_ATTEMPTS, Claimed, Discovered
from shared.crawl.job import CrawlJob
from shared.crawl.politeness import interval_seconds
from shared.crawl.ssrf import BlockedAddress
from shared.crawl.urls import host_of, normalize
from shared.crawl.visit import Visit, visit
from shared.db import tenant_transaction
from shared.jobs import lifecycle
from shared.jobs.models import JobErrors
from shared.nlp import enqueue as nlp_enqueue
from shared.observability import logger
from shared.settings import Crawling, settings_of

BATCH_SECONDS = 120.0  # well inside the function's timeout, with the writes after it
CLAIM_LEASE = timedelta(minutes=10)  # longer than a batch can last: a live batch's URLs are never taken over
MAX_FETCHERS = 3
GAVE_UP = "gave up after {attempts} attempts (no answer in time, or the site kept asking to come back later)"


def batch_size(settings: Crawling, host: str, crawl_delay: float | None) -> int:
    """As many URLs as the host's pace lets one batch fetch in its time."""
    pace = interval_seconds(settings.limit_for(host), crawl_delay)
    return max(1, min(settings.crawl_batch_size, int(BATCH_SECONDS / pace)))


def run_batch(tenant_id: str, job_id: uuid.UUID) -> bool:
    """Crawl one batch; True when the crawl has more to do (the caller sends the next batch)."""
    settings = settings_of(Crawling)
    deadline = time.monotonic() + BATCH_SECONDS
    with tenant_transaction(tenant_id) as session:
        crawl = crawl_job.load(session, job_id)
        if not crawl.live:
            return False
        claimed = frontier.claim(session, job_id, limit=settings.crawl_batch_size, lease=CLAIM_LEASE)
    if not claimed:  # all taken, or the rows it saw were being settled by another batch
        return _finish_or_continue(tenant_id, job_id)
    try:
        robots = robots_cache.rules_for(tenant_id, job_id, claimed[0].url, deadline=deadline)
    except BlockedAddress as exc:  # a host of the site (a subdomain) on a private address: its URLs fail
        return _record(tenant_id, crawl, [], claimed, [], {}, reason=exc.detail)
    size = batch_size(settings, claimed[0].host, robots.crawl_delay)
    claimed, returned = claimed[:size], claimed[size:]
    exhausted = [c for c in claimed if c.attempts > MAX_ATTEMPTS]
    to_visit = [c for c in claimed if c.attempts <= MAX_ATTEMPTS]
    client = crawl_job.http_client()
    fetchers = min(MAX_FETCHERS, settings.limit_for(claimed[0].host).concurrency)
    with ThreadPoolExecutor(max_workers=fetchers) as pool:
        visits = list(
            pool.map(
                lambda c: visit(
                    c, client=client, robots=robots, scope=crawl.scope, settings=settings, deadline=deadline
                ),
                to_visit,
            )
        )
        html_keys = _store_html(pool, tenant_id, crawl, visits)
    return _record(tenant_id, crawl, visits, exhausted, returned, html_keys)


def _store_html(pool: ThreadPoolExecutor, tenant_id: str, crawl: CrawlJob, visits: Sequence[Visit]) -> dict[str, str]:
    """Each HTML page's raw bytes to S3 (in parallel); returns the key of each page's object."""
    pages = [(v.claimed.url, v.html) for v in visits if v.html is not None]
    keys = {url: raw_html.key_for(tenant_id, crawl.project_id, crawl.job_id, url) for url, _ in pages}
    list(pool.map(lambda page: raw_html.store(keys[page[0]], page[1]), pages))
    return keys


def _discovered(crawl: CrawlJob, visits: Sequence[Visit]) -> list[Discovered]:
    """Links to follow (internal, in scope, not nofollow, within the depth) and where redirects led."""
    scope, max_depth = crawl.scope, crawl.settings.max_depth
    found: list[Discovered] = []
    for v in visits:
        depth = (v.claimed.depth or 0) + 1
        if v.result is not None and v.result.redirects and v.result.error is None:
            target = normalize(v.result.final_url)
            if scope.contains(target) and scope.admits_path(target):
                found.append(Discovered(target, host_of(target), v.claimed.depth))
        if v.facts is None or v.facts.nofollow or (max_depth is not None and depth > max_depth):
            continue
        for link in v.facts.links:
            if (
                link.internal
                and "nofollow" not in link.rel
                and scope.contains(link.url)
                and scope.admits_path(link.url)
            ):
                found.append(Discovered(link.url, host_of(link.url), depth))
    return found


def _record(
    tenant_id: str,
    crawl: CrawlJob,
    visits: Sequence[Visit],
    exhausted: Sequence[Claimed],
    returned: Sequence[Claimed],
    html_keys: dict[str, str],
    *,
    reason: str | None = None,
) -> bool:
    """Record the batch; ``exhausted`` URLs failed (for ``reason``, else after too many attempts)."""
    job_id = crawl.job_id
    with tenant_transaction(tenant_id) as session:
        current = crawl_job.load(session, job_id, for_update=True)  # serialises the crawl's batches' admissions
        recorded = [v for v in visits if v.outcome not in ("retry", "busy")]
        written = snapshots.record(
            session, project_id=crawl.project_id, job_id=job_id, visits=recorded, html_keys=html_keys
        )
        outcomes: list[tuple[str, str]] = [(v.claimed.url, v.outcome) for v in recorded]
        outcomes += [(v.claimed.url, "queued") for v in visits if v.outcome == "retry"]  # an attempt: counted
        outcomes += [(c.url, "failed") for c in exhausted]
        frontier.settle(session, job_id, outcomes)
        # never fetched (over the batch's size, or the host busy): not an attempt
        not_fetched = [c.url for c in returned] + [v.claimed.url for v in visits if v.outcome == "busy"]
        frontier.give_back(session, job_id, not_fetched)
        if current.live:
            frontier.admit(session, job_id, _discovered(crawl, recorded), max_pages=crawl.settings.max_pages)
            if exhausted:
                errors = JobErrors()
                for c in exhausted:
                    errors.add_url(c.url, reason or GAVE_UP.format(attempts=c.attempts - 1))
                lifecycle.add_errors(session, job_id, errors)
            progress = completion.progress_of(session, job_id)
            lifecycle.report_progress(
                session, job_id, percent=progress.percent, counters=progress.model_dump(exclude={"percent"})
            )
            more = progress.queued > 0
        else:
            more = False
    if any(page.change in snapshots.EMITTED for page in written):  # committed: nlp_entities will find them
        nlp_enqueue.relay_page_changes(tenant_id, crawl.project_id)
    logger.info(
        "Crawl batch recorded",
        extra={"job_id": str(job_id), "visited": len(visits), "host": visits[0].claimed.host if visits else None},
    )
    if not more and current.live:
        return _finish_or_continue(tenant_id, job_id)
    return more


def _finish_or_continue(tenant_id: str, job_id: uuid.UUID) -> bool:
    """This batch has nothing to fetch. True when URLs wait to be claimed (the caller sends a batch for them);
    otherwise the batch that sees no other batch holding URLs audits and finishes the crawl."""
    with tenant_transaction(tenant_id) as session:
        waiting = frontier.has_claimable(session, job_id)
        others_busy = frontier.has_live_claims(session, job_id)
    if waiting:
        return True
    if not others_busy:
        completion.finish_crawl(tenant_id, job_id)
    return False
