"""A crawl's frontier: admitting URLs (once per crawl, within its page budget), claiming batches, recording outcomes.

A claim is a lease (``claimed_until``): a batch whose invocation died gives its URLs
back when the lease ends, and a URL that outlives ``MAX_ATTEMPTS`` claims fails
instead of being retried forever.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Table, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import insert

from shared.crawl.tables import FRONTIER_STATES, FrontierUrl
from shared.db import TenantSession

MAX_ATTEMPTS = 3
_FRONTIER: Table = FrontierUrl.__table__  # type: ignore[assignment]  # executemany updates by URL go through Core (the ORM's bulk path wants whole keys)


@dataclass(frozen=True)
class Discovered:
    """A URL found for a crawl: by a link (``depth``), a sitemap or Search Console."""

    url: str
    host: str
    depth: int | None
    in_sitemap: bool = False
    in_search_console: bool = False


@dataclass(frozen=True)
class Claimed:
    url: str
    host: str
    depth: int | None
    attempts: int
    in_sitemap: bool
    in_search_console: bool


def _merged(known: Discovered, item: Discovered) -> Discovered:
    """One URL found twice: the smaller depth (None: none known), and either finding's sitemap/Search Console flags."""
    depths = [depth for depth in (known.depth, item.depth) if depth is not None]
    return Discovered(
        known.url,
        known.host,
        min(depths) if depths else None,
        known.in_sitemap or item.in_sitemap,
        known.in_search_console or item.in_search_console,
    )


def admit(session: TenantSession, job_id: uuid.UUID, found: Sequence[Discovered], *, max_pages: int) -> int:
    """Add new URLs while the crawl has room; a known URL keeps its state and gains the smaller depth and the
    sitemap/Search Console flags. Returns how many were new. The caller holds the job's row lock, so concurrent
    batches cannot overshoot ``max_pages`` together."""
    if not found:
        return 0
    merged: dict[str, Discovered] = {}
    for item in found:
        merged[item.url] = _merged(merged[item.url], item) if item.url in merged else item
    existing = {
        row.url: Discovered(row.url, row.host, row.depth, row.in_sitemap, row.in_search_console)
        for row in session.execute(
            select(
                FrontierUrl.url,
                FrontierUrl.host,
                FrontierUrl.depth,
                FrontierUrl.in_sitemap,
                FrontierUrl.in_search_console,
            ).where(FrontierUrl.job_id == job_id, FrontierUrl.url.in_(list(merged)))
        )
    }
    updates = []
    for url, known in existing.items():
        combined = _merged(known, merged[url])
        if combined != known:
            updates.append({"u": url, "d": combined.depth, "s": combined.in_sitemap, "g": combined.in_search_console})
    if updates:
        session.execute(
            update(_FRONTIER)
            .where(_FRONTIER.c.job_id == job_id, _FRONTIER.c.url == bindparam("u"))
            .values(depth=bindparam("d"), in_sitemap=bindparam("s"), in_search_console=bindparam("g")),
            updates,
        )
    room = max_pages - size(session, job_id)
    new = [item for url, item in merged.items() if url not in existing]
    # Shallow pages first when the budget cannot take them all (links found from the homepage matter most).
    new.sort(key=lambda item: (item.depth is None, item.depth or 0))
    new = new[: max(0, room)]
    if not new:
        return 0
    session.execute(
        insert(FrontierUrl)
        .values(
            [
                {
                    "tenant_id": session.tenant_id,
                    "job_id": job_id,
                    "url": item.url,
                    "host": item.host,
                    "depth": item.depth,
                    "in_sitemap": item.in_sitemap,
                    "in_search_console": item.in_search_console,
                }
                for item in new
            ]
        )
        .on_conflict_do_nothing()
    )
    return len(new)


def size(session: TenantSession, job_id: uuid.UUID) -> int:
    return session.scalar(select(func.count()).where(FrontierUrl.job_id == job_id)) or 0


def claim(session: TenantSession, job_id: uuid.UUID, *, limit: int, lease: timedelta) -> list[Claimed]:
    """Up to ``limit`` URLs of one host, shallowest first: queued ones, or claims whose lease ended."""
    rows = session.execute(
        text(
            """
            WITH next_host AS (
              SELECT host FROM crawl_frontier
              WHERE job_id = :job_id AND (state = 'queued' OR (state = 'claimed' AND claimed_until < now()))
              ORDER BY depth NULLS LAST, discovered_at
              LIMIT 1
            ), batch AS (
              SELECT url FROM crawl_frontier
              WHERE job_id = :job_id AND host = (SELECT host FROM next_host)
                AND (state = 'queued' OR (state = 'claimed' AND claimed_until < now()))
              ORDER BY depth NULLS LAST, discovered_at
              LIMIT :limit
              FOR UPDATE SKIP LOCKED
            )
            UPDATE crawl_frontier f
            SET state = 'claimed', claimed_until = now() + :lease, attempts = f.attempts + 1
            FROM batch WHERE f.job_id = :job_id AND f.url = batch.url
            RETURNING f.url, f.host, f.depth, f.attempts, f.in_sitemap, f.in_search_console
            """
        ),
        {"job_id": job_id, "limit": limit, "lease": lease},
    ).all()
    return [Claimed(r.url, r.host, r.depth, r.attempts, r.in_sitemap, r.in_search_console) for r in rows]


def settle(session: TenantSession, job_id: uuid.UUID, outcomes: Iterable[tuple[str, str]]) -> None:
    """Record each URL's outcome state (``fetched``, ``failed``, ``blocked``, or ``queued`` to try again)."""
    values = [{"u": url, "s": state} for url, state in outcomes]
    if values:
        session.execute(
            update(_FRONTIER)
            .where(_FRONTIER.c.job_id == job_id, _FRONTIER.c.url == bindparam("u"))
            .values(state=bindparam("s"), claimed_until=None),
            values,
        )


def give_back(session: TenantSession, job_id: uuid.UUID, urls: Sequence[str]) -> None:
    """Return claimed URLs that were not fetched (over the batch's size, or the host was busy): queued again, and
    the claim does not count as an attempt."""
    if urls:
        session.execute(
            update(_FRONTIER)
            .where(_FRONTIER.c.job_id == job_id, _FRONTIER.c.url.in_(list(urls)), _FRONTIER.c.state == "claimed")
            .values(state="queued", claimed_until=None, attempts=_FRONTIER.c.attempts - 1)
        )


def counts(session: TenantSession, job_id: uuid.UUID) -> dict[str, int]:
    """URLs per state (every state present, zero when none)."""
    rows = session.execute(
        select(FrontierUrl.state, func.count()).where(FrontierUrl.job_id == job_id).group_by(FrontierUrl.state)
    ).all()
    found = {state: int(count) for state, count in rows}
    return {state: found.get(state, 0) for state in FRONTIER_STATES}


def has_claimable(session: TenantSession, job_id: uuid.UUID) -> bool:
    """Whether a URL waits to be claimed: queued, or claimed under a lease that ended (its batch died)."""
    return bool(
        session.scalar(
            select(func.count()).where(
                FrontierUrl.job_id == job_id,
                (FrontierUrl.state == "queued")
                | ((FrontierUrl.state == "claimed") & (FrontierUrl.claimed_until < func.now())),
            )
        )
    )


def has_live_claims(session: TenantSession, job_id: uuid.UUID) -> bool:
    """Whether another batch still holds URLs of the crawl under a lease that has not ended."""
    return bool(
        session.scalar(
            select(func.count()).where(
                FrontierUrl.job_id == job_id, FrontierUrl.state == "claimed", FrontierUrl.claimed_until >= func.now()
            )
        )
    )
