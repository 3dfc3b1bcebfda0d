"""robots.txt as each crawl fetched it, per host: fetched once per crawl, read by every batch."""

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from shared.crawl.tables import CrawlHost
from shared.db import TenantSession


@dataclass(frozen=True)
class StoredRobots:
    status: int | None
    body: bytes | None


def get(session: TenantSession, job_id: uuid.UUID, host: str) -> StoredRobots | None:
    row = session.scalar(select(CrawlHost).where(CrawlHost.job_id == job_id, CrawlHost.host == host))
    return None if row is None else StoredRobots(row.robots_status, row.robots_body)


def put(session: TenantSession, job_id: uuid.UUID, host: str, robots: StoredRobots) -> StoredRobots:
    """Store the host's robots.txt unless another batch stored it first; returns the stored one."""
    session.execute(
        insert(CrawlHost)
        .values(
            tenant_id=session.tenant_id, job_id=job_id, host=host, robots_status=robots.status, robots_body=robots.body
        )
        .on_conflict_do_nothing()
    )
    stored = get(session, job_id, host)
    return stored if stored is not None else robots
