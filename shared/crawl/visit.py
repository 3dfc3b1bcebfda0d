"""Visiting one URL of a crawl: robots.txt first, then a polite fetch, then the page's facts and verdict.

Nothing about one page is fatal to the crawl: a timeout, a TLS error, a redirect
loop, a page too large, an undecodable charset all become the page's outcome.
A 429 or 503 makes the host back off (for every crawl) and the URL is tried
again later, up to the frontier's attempts.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import httpx

from shared.crawl.data.frontier import MAX_ATTEMPTS, Claimed
from shared.crawl.extract import BLOCKED_BY_ROBOTS, Indexability, PageFacts, extract_page, indexability
from shared.crawl.fetch import HTML_TYPES, RETRY_AFTER_STATUSES, FetchResult, fetch
from shared.crawl.politeness import back_off, pacer
from shared.crawl.robots import RobotsRules
from shared.crawl.urls import CrawlScope, host_of
from shared.settings import Crawling

# retry: fetched, the site asked to come back later (an attempt); busy: not fetched, the host's turn did not come
Outcome = Literal["fetched", "failed", "blocked", "retry", "busy"]


@dataclass(frozen=True)
class Visit:
    """What visiting one claimed URL came to."""

    claimed: Claimed
    outcome: Outcome
    result: FetchResult | None = None
    facts: PageFacts | None = None
    verdict: Indexability = BLOCKED_BY_ROBOTS

    @property
    def html(self) -> bytes | None:
        """The raw page worth keeping: an HTML answer whose facts were read."""
        return self.result.body if self.facts is not None and self.result is not None else None


def is_html(result: FetchResult) -> bool:
    return result.content_type in HTML_TYPES


def visit(
    claimed: Claimed,
    *,
    client: httpx.Client,
    robots: RobotsRules,
    scope: CrawlScope,
    settings: Crawling,
    deadline: float,
) -> Visit:
    if not robots.allows(claimed.url):
        return Visit(claimed, "blocked")
    pace = pacer(settings, deadline=deadline)
    result = fetch(
        client,
        claimed.url,
        max_bytes=settings.crawl_max_page_bytes,
        may_follow=_redirect_rule(scope, robots, claimed.host),
        pace=pace,
    )
    if result.error is not None and result.error.code == "host_busy":  # the site is busy with other crawls
        return Visit(claimed, "busy")
    if result.status in RETRY_AFTER_STATUSES:
        back_off(host_of(result.final_url), result.retry_after)
        if claimed.attempts < MAX_ATTEMPTS:
            return Visit(claimed, "retry", result)
    if result.error is not None and result.status is None:
        return Visit(claimed, "failed", result, verdict=indexability(None, None, None, claimed.url))
    facts = None
    # A redirect is recorded as such; its target is a page of its own (the crawl admits it).
    if not result.redirects and result.status == 200 and is_html(result):
        facts = extract_page(
            result.body,
            url=result.final_url,
            header_charset=result.charset,
            link_header=result.headers.get("link"),
            x_robots_tag=result.headers.get("x-robots-tag"),
            is_internal=scope.contains,
        )
    verdict = (
        Indexability(False, "redirect")
        if result.redirects
        else indexability(result.status, result.content_type, facts, result.final_url)
    )
    return Visit(claimed, "fetched" if result.error is None else "failed", result, facts, verdict)


def _redirect_rule(scope: CrawlScope, robots: RobotsRules, host: str) -> Callable[[str], str | None]:
    """Redirects are followed within the crawl's scope and robots.txt only (the hop is still recorded).

    Another host of the site (the apex redirecting to ``www.``) has its own robots.txt, read when its pages
    are crawled; a hop to it is followed.
    """

    def refusal(url: str) -> str | None:
        if not scope.contains(url):
            return f"redirects out of the crawl's scope to {url}"
        if host_of(url) == host and not robots.allows(url):
            return f"redirects to {url}, which robots.txt disallows"
        return None

    return refusal
