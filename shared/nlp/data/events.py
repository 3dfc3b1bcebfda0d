"""The crawl's outbox as nlp_entities reads it: a project's unconsumed page-changed events.

Claims are row locks (``FOR UPDATE SKIP LOCKED``) held by the transaction that analyses the events' pages and
marks them consumed: two invocations working on one project take different events, and a failure (the service
down, a crash) releases the claim with everything else.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update

from shared.crawl.tables import PageChangedEvent
from shared.db import TenantSession


@dataclass(frozen=True)
class ClaimedEvent:
    id: int
    page_id: uuid.UUID
    content_hash: str


def claim(session: TenantSession, project_id: uuid.UUID, *, limit: int) -> list[ClaimedEvent]:
    """Up to ``limit`` of the project's unconsumed events, oldest first, that no other transaction holds."""
    rows = session.execute(
        select(PageChangedEvent.id, PageChangedEvent.page_id, PageChangedEvent.content_hash)
        .where(
            PageChangedEvent.tenant_id == session.tenant_id,  # the partial index's leading column
            PageChangedEvent.consumed_at.is_(None),
            PageChangedEvent.project_id == project_id,
        )
        .order_by(PageChangedEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    return [ClaimedEvent(row.id, row.page_id, row.content_hash) for row in rows]


def mark_consumed(session: TenantSession, event_ids: Sequence[int]) -> None:
    if event_ids:
        session.execute(
            update(PageChangedEvent)
            .where(PageChangedEvent.id.in_(list(event_ids)), PageChangedEvent.consumed_at.is_(None))
            .values(consumed_at=func.now())
        )


def pending(session: TenantSession, project_id: uuid.UUID) -> int:
    """The project's events not yet consumed (including any another transaction is working on)."""
    return (
        session.scalar(
            select(func.count()).where(
                PageChangedEvent.tenant_id == session.tenant_id,
                PageChangedEvent.consumed_at.is_(None),
                PageChangedEvent.project_id == project_id,
            )
        )
        or 0
    )
