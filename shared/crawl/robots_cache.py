"""A host's robots.txt for a crawl: fetched once per crawl (politely, like any page) and kept with it."""

import time
import uuid
from urllib.parse import urlsplit

from shared.crawl import job as crawl_job
from shared.crawl.data import hosts
from shared.crawl.fetch import fetch
from shared.crawl.politeness import turn_at
from shared.crawl.robots import MAX_BYTES, RobotsRules, robots_rules
from shared.db import tenant_transaction
from shared.settings import Crawling, settings_of

ROBOTS_REDIRECTS = 5  # RFC 9309 2.3.1.2: follow at least five


def product_token(user_agent: str) -> str:
    """The name robots.txt groups match: ``KestrelBot`` of ``KestrelBot/1.0 (+https://...)``."""
    return user_agent.split("/", 1)[0].split(" ", 1)[0]


def rules_for(tenant_id: str, job_id: uuid.UUID, url: str, *, deadline: float) -> RobotsRules:
    """The rules of ``url``'s host for this crawl."""
    settings = settings_of(Crawling)
    parts = urlsplit(url)
    host = parts.hostname or ""
    agent = product_token(settings.crawl_user_agent)
    with tenant_transaction(tenant_id) as session:
        stored = hosts.get(session, job_id, host)
    if stored is None:
        stored = _fetch(host, f"{parts.scheme}://{parts.netloc}/robots.txt", settings, deadline)
        with tenant_transaction(tenant_id) as session:
            stored = hosts.put(session, job_id, host, stored)
    return robots_rules(stored.status, stored.body, user_agent=agent)


def _fetch(host: str, robots_url: str, settings: Crawling, deadline: float) -> hosts.StoredRobots:
    with turn_at(
        host,
        settings.limit_for(host),
        crawl_delay=None,
        lease_seconds=settings.crawl_timeout_seconds * 2,
        deadline=max(deadline, time.monotonic() + 60),
    ) as turn:
        if turn is None:
            return hosts.StoredRobots(None, None)
        result = fetch(crawl_job.http_client(), robots_url, max_bytes=MAX_BYTES, max_redirects=ROBOTS_REDIRECTS)
        if result.status in (429, 503):
            turn.back_off(result.retry_after)
    return hosts.StoredRobots(result.status, result.body if result.status is not None else None)
