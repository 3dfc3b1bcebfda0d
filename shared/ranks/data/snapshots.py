"""serp_snapshots and serp_items: a keyword's SERP on a day and every item of it (one partition per project).

A keyword has one snapshot a day: a later check of the day (a live check after the daily one) replaces it,
its items with it, in one transaction.
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from shared.db import TenantSession
from shared.projects.tables import Keyword, Project
from shared.ranks.tables import SerpItem, SerpSnapshot


@dataclass(frozen=True)
class CheckedKeyword:
    """What storing a keyword's SERP needs to know of it and its project."""

    keyword_id: uuid.UUID
    project_id: uuid.UUID
    domain: str
    device: str


def project_depth(session: TenantSession, project_id: uuid.UUID) -> int | None:
    """How many results the project's checks read (None: no such project)."""
    return session.scalar(
        select(Project.rank_depth).where(Project.tenant_id == session.tenant_id, Project.id == project_id)
    )


def checked_keywords(session: TenantSession, keyword_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, CheckedKeyword]:
    rows = session.execute(
        select(Keyword.id, Keyword.project_id, Keyword.device, Project.domain)
        .join(Project, Project.id == Keyword.project_id)
        .where(Keyword.tenant_id == session.tenant_id, Keyword.id.in_(keyword_ids))
    ).all()
    return {row.id: CheckedKeyword(row.id, row.project_id, row.domain, row.device) for row in rows}


def store(session: TenantSession, snapshot: dict[str, Any], items: Sequence[dict[str, Any]]) -> uuid.UUID:
    """Insert or replace the keyword's snapshot of the day and its items; returns the snapshot's id."""
    values = {"tenant_id": session.tenant_id, **snapshot}
    statement = pg_insert(SerpSnapshot).values(**values)
    replaced = {name: statement.excluded[name] for name in values if name not in ("tenant_id", "project_id", "id")}
    snapshot_id: uuid.UUID = session.execute(
        statement.on_conflict_do_update(
            index_elements=[SerpSnapshot.project_id, SerpSnapshot.keyword_id, SerpSnapshot.check_date],
            set_=replaced,
        ).returning(SerpSnapshot.id)
    ).scalar_one()
    project_id = snapshot["project_id"]
    session.execute(delete(SerpItem).where(SerpItem.project_id == project_id, SerpItem.snapshot_id == snapshot_id))
    if items:
        session.execute(
            insert(SerpItem),
            [
                {"tenant_id": session.tenant_id, "project_id": project_id, "snapshot_id": snapshot_id, **item}
                for item in items
            ],
        )
    return snapshot_id


def count_items(session: TenantSession, project_id: uuid.UUID, snapshot_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            select(func.count()).where(SerpItem.project_id == project_id, SerpItem.snapshot_id == snapshot_id)
        )
        or 0
    )


def of_keyword(
    session: TenantSession, project_id: uuid.UUID, keyword_id: uuid.UUID, day: dt.date
) -> SerpSnapshot | None:
    return session.scalar(
        select(SerpSnapshot).where(
            SerpSnapshot.project_id == project_id, SerpSnapshot.keyword_id == keyword_id, SerpSnapshot.check_date == day
        )
    )
