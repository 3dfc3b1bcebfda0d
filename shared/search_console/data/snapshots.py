"""Search Console UI export snapshots: aggregates of a date range, upserted on their natural key."""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Boolean, literal_column, or_
from sqlalchemy.dialects.postgresql import insert

from shared.db import TenantSession
from shared.search_console.tables import GscExportSnapshot

BATCH_ROWS = 1000
_VALUES = ("clicks", "impressions", "ctr", "position")


def upsert(
    session: TenantSession,
    *,
    property_id: uuid.UUID,
    job_id: uuid.UUID,
    snapshots: Sequence[Mapping[str, Any]],
) -> tuple[int, int]:
    """Insert new snapshots and update changed ones; identical ones are not rewritten. Returns (created, updated).

    ``snapshots`` carry report, key, range_start, range_end, search_type, clicks, impressions, ctr, position,
    with each natural key once.
    """
    created = updated = 0
    for start in range(0, len(snapshots), BATCH_ROWS):
        rows = [
            {"tenant_id": session.tenant_id, "property_id": property_id, "job_id": job_id, **snapshot}
            for snapshot in snapshots[start : start + BATCH_ROWS]
        ]
        stmt = insert(GscExportSnapshot).values(rows)
        stmt = stmt.on_conflict_do_update(
            constraint="uq_gsc_export_snapshots_natural_key",
            set_={name: stmt.excluded[name] for name in (*_VALUES, "job_id")},
            where=or_(*(getattr(GscExportSnapshot, name).is_distinct_from(stmt.excluded[name]) for name in _VALUES)),
        )
        # xmax is 0 on a freshly inserted row version, and the updating transaction's id on an updated one.
        inserted = session.scalars(stmt.returning(literal_column("xmax = 0", Boolean))).all()
        created += sum(1 for new in inserted if new)
        updated += sum(1 for new in inserted if not new)
    return created, updated
