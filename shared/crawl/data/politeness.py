"""The platform-wide per-host limiter's two calls (the SQL functions of migration 0007).

Hosts are paced across every crawl of every tenant, so this is the one crawl state
outside any tenant: it holds host names and times only.
"""

from dataclasses import dataclass

from sqlalchemy import text

from shared.db import system_transaction


@dataclass(frozen=True)
class Grant:
    slot: int | None  # None: not now
    wait_ms: int


def acquire(host: str, *, slots: int, interval_ms: int, lease_ms: int) -> Grant:
    with system_transaction() as session:
        row = session.execute(
            text("SELECT slot, wait_ms FROM kestrel_crawl_acquire_host(:host, :slots, :interval_ms, :lease_ms)"),
            {"host": host, "slots": slots, "interval_ms": interval_ms, "lease_ms": lease_ms},
        ).one()
    return Grant(row.slot, int(row.wait_ms))


def release(host: str, slot: int, *, backoff_ms: int = 0) -> None:
    with system_transaction() as session:
        session.execute(
            text("SELECT kestrel_crawl_release_host(:host, :slot, :backoff_ms)"),
            {"host": host, "slot": slot, "backoff_ms": backoff_ms},
        )


def set_crawl_delay(host: str, delay_ms: int) -> None:
    """The Crawl-delay ``host``'s robots.txt asks of us (0: none), applied to every request to it."""
    with system_transaction() as session:
        session.execute(text("SELECT kestrel_crawl_host_delay(:host, :delay_ms)"), {"host": host, "delay_ms": delay_ms})
