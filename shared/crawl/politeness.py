"""Taking turns at a host: at most N requests in flight and one start per interval, across the whole platform.

The interval is the slower of the host's configured rate and the ``Crawl-delay`` its
robots.txt asks for. A 429 or 503 pushes the host's next turn back by its
``Retry-After`` (or a default back-off), for every crawl that shares the host.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from shared.crawl.data import politeness
from shared.settings import HostLimit

DEFAULT_BACKOFF_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 600.0


@dataclass
class Turn:
    """A granted request slot; ``back_off`` asks every crawler to leave the host alone for a while."""

    host: str
    slot: int
    backoff_seconds: float = field(default=0.0)

    def back_off(self, seconds: float | None) -> None:
        wanted = DEFAULT_BACKOFF_SECONDS if seconds is None else seconds
        self.backoff_seconds = max(self.backoff_seconds, min(MAX_BACKOFF_SECONDS, max(0.0, wanted)))


def interval_seconds(limit: HostLimit, crawl_delay: float | None) -> float:
    return max(1.0 / limit.requests_per_second, crawl_delay or 0.0)


@contextmanager
def turn_at(
    host: str, limit: HostLimit, *, crawl_delay: float | None, lease_seconds: float, deadline: float
) -> Iterator[Turn | None]:
    """Wait for a turn at ``host`` until ``deadline`` (``time.monotonic()``); None when it did not come in time."""
    interval_ms = int(interval_seconds(limit, crawl_delay) * 1000)
    while True:
        grant = politeness.acquire(
            host, slots=limit.concurrency, interval_ms=interval_ms, lease_ms=int(lease_seconds * 1000)
        )
        if grant.slot is not None:
            break
        if time.monotonic() + grant.wait_ms / 1000 > deadline:
            yield None
            return
        time.sleep(grant.wait_ms / 1000)
    turn = Turn(host, grant.slot)
    try:
        yield turn
    finally:
        politeness.release(host, turn.slot, backoff_ms=int(turn.backoff_seconds * 1000))
