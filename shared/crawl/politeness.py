"""Taking turns at a host: at most N requests in flight and one start per interval, across the whole platform.

The interval is the slower of the host's configured rate and the ``Crawl-delay`` its
robots.txt asks for (kept with the host's pace once its robots.txt is read, so it
holds for every request to it: pages, sitemaps, redirect hops, other crawls). Every
request takes its own turn, redirect hops included (a hop to another host paces
that host). A 429 or 503 pushes the host's next turn
back by its ``Retry-After`` (or a default back-off), for every crawl that shares it.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from shared.crawl.data import politeness
from shared.crawl.fetch import HostBusy
from shared.crawl.urls import host_of
from shared.settings import Crawling, HostLimit

DEFAULT_BACKOFF_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 600.0


def interval_seconds(limit: HostLimit, crawl_delay: float | None) -> float:
    return max(1.0 / limit.requests_per_second, crawl_delay or 0.0)


def backoff_seconds(retry_after: float | None) -> float:
    """How long a host that answered 429/503 is left alone: its Retry-After, within bounds."""
    wanted = DEFAULT_BACKOFF_SECONDS if retry_after is None else retry_after
    return min(MAX_BACKOFF_SECONDS, max(0.0, wanted))


def observe_crawl_delay(host: str, crawl_delay: float | None) -> None:
    """Pace ``host`` at the Crawl-delay its robots.txt asks for, from now on, for every crawl."""
    politeness.set_crawl_delay(host, int((crawl_delay or 0.0) * 1000))


@contextmanager
def turn_at(host: str, limit: HostLimit, *, lease_seconds: float, deadline: float) -> Iterator[None]:
    """Hold one of ``host``'s request slots, once its pace allows; ``HostBusy`` when that is after ``deadline``
    (``time.monotonic()``)."""
    interval_ms = int(interval_seconds(limit, None) * 1000)
    while True:
        grant = politeness.acquire(
            host, slots=limit.concurrency, interval_ms=interval_ms, lease_ms=int(lease_seconds * 1000)
        )
        if grant.slot is not None:
            break
        if time.monotonic() + grant.wait_ms / 1000 > deadline:
            raise HostBusy(f"{host}: no turn before the batch's deadline (other crawls are pacing it)")
        time.sleep(grant.wait_ms / 1000)
    try:
        yield
    finally:
        politeness.release(host, grant.slot)


def pacer(settings: Crawling, *, deadline: float) -> Callable[[str], AbstractContextManager[None]]:
    """``fetch``'s ``pace``: a turn at each request's host."""

    def pace(url: str) -> AbstractContextManager[None]:
        host = host_of(url)
        return turn_at(
            host, settings.limit_for(host), lease_seconds=settings.crawl_timeout_seconds * 2, deadline=deadline
        )

    return pace


def back_off(host: str, retry_after: float | None) -> None:
    """Leave ``host`` alone for a while, every crawl of every tenant."""
    politeness.release(host, slot=-1, backoff_ms=int(backoff_seconds(retry_after) * 1000))
