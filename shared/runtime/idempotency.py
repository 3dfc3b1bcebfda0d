"""Pre-execution and completion markers for units of work.

``claim`` commits an ``in_progress`` marker with a lease before the work
starts; ``complete`` is written in the same transaction as the work's final
writes. A redelivery after completion is then a no-op, and a crash mid-work
leaves an expiring lease, after which a redelivery reruns the work. A failure
the process survives releases the claim at once (``release``).
"""

from datetime import timedelta
from typing import Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from shared.db import TenantSession
from shared.runtime.tables import IdempotencyRecord

Claim = Literal["claimed", "completed", "busy"]


def claim(session: TenantSession, key: str, *, lease: timedelta) -> Claim:
    new = insert(IdempotencyRecord).values(
        tenant_id=session.tenant_id, key=key, status="in_progress", locked_until=func.now() + lease
    )
    stmt = new.on_conflict_do_update(
        index_elements=[IdempotencyRecord.tenant_id, IdempotencyRecord.key],
        set_={"locked_until": new.excluded.locked_until},
        where=(IdempotencyRecord.status == "in_progress") & (IdempotencyRecord.locked_until < func.now()),
    ).returning(IdempotencyRecord.key)
    if session.execute(stmt).first() is not None:
        return "claimed"
    status = session.scalar(
        select(IdempotencyRecord.status).where(
            IdempotencyRecord.tenant_id == session.tenant_id, IdempotencyRecord.key == key
        )
    )
    return "completed" if status == "completed" else "busy"


def complete(session: TenantSession, key: str) -> None:
    session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.tenant_id == session.tenant_id, IdempotencyRecord.key == key)
        .values(status="completed", completed_at=func.now())
    )


def release(session: TenantSession, key: str) -> None:
    """Give up an unfinished claim, so that a retry can run the work at once."""
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.tenant_id == session.tenant_id,
            IdempotencyRecord.key == key,
            IdempotencyRecord.status == "in_progress",
        )
    )
