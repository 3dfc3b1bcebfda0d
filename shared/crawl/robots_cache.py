"""A host's robots.txt for a crawl: fetched once per crawl (politely, like any page) and kept with it."""

import time
import uuid
from urllib.parse import urlsplit

from shared.crawl import job as crawl_job
from shared.crawl.data import hosts
from shared.crawl.fetch import RETRY_AFTER_STATUSES, fetch
from shared.crawl.politeness import back_off, observe_crawl_delay, pacer
from shared.crawl.robots import MAX_BYTES, RobotsRules, robots_rules
from shared.crawl.ssrf import BlockedAddress
from shared.crawl.urls import host_of
from shared.db import tenant_transaction
from shared.errors import TransientError
from shared.settings import Crawling, settings_of

ROBOTS_REDIRECTS = 5  # RFC 9309 2.3.1.2: follow at least five


def product_token(user_agent: str) -> str:
    """The name robots.txt groups match: ``KestrelBot`` of ``KestrelBot/1.0 (+https://...)``."""
    return user_agent.split("/", 1)[0].split(" ", 1)[0]


def rules_for(tenant_id: str, job_id: uuid.UUID, url: str, *, deadline: float) -> RobotsRules:
    """The rules of ``url``'s host for this crawl; ``BlockedAddress`` when the host is not a public address."""
    settings = settings_of(Crawling)
    parts = urlsplit(url)
    host = parts.hostname or ""
    agent = product_token(settings.crawl_user_agent)
    with tenant_transaction(tenant_id) as session:
        stored = hosts.get(session, job_id, host)
    if stored is None:
        stored = _fetch(f"{parts.scheme}://{parts.netloc}/robots.txt", settings, deadline)
        with tenant_transaction(tenant_id) as session:
            stored = hosts.put(session, job_id, host, stored)
    rules = robots_rules(stored.status, stored.body, user_agent=agent)
    observe_crawl_delay(host, rules.crawl_delay)
    return rules


def _fetch(robots_url: str, settings: Crawling, deadline: float) -> hosts.StoredRobots:
    pace = pacer(settings, deadline=max(deadline, time.monotonic() + 60))
    result = fetch(crawl_job.http_client(), robots_url, max_bytes=MAX_BYTES, max_redirects=ROBOTS_REDIRECTS, pace=pace)
    if result.error is not None and result.error.code == "blocked_address":
        raise BlockedAddress(result.error.message)
    # Busy now is not "unreachable" (which would disallow the whole host for the crawl): try the batch later.
    if result.error is not None and result.error.code == "host_busy":
        raise TransientError(f"{robots_url}: {result.error.message}")
    if result.status in RETRY_AFTER_STATUSES:
        back_off(host_of(robots_url), result.retry_after)
        raise TransientError(f"{robots_url} answered {result.status}; the crawl comes back after the host's back-off")
    return hosts.StoredRobots(result.status, result.body if result.status is not None else None)
