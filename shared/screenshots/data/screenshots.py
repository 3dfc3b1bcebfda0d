"""The screenshots table, and what a snapshot says to shoot. Every function takes the caller's session."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select

from shared.db import TenantSession
from shared.ranks.tables import RankTask, Screenshot, SerpItem, SerpSnapshot

COMPETITORS_ABOVE = 3  # the organic results above the project's that are shot with its page


@dataclass(frozen=True)
class SnapshotToShoot:
    project_id: uuid.UUID
    snapshot_id: uuid.UUID
    keyword_id: uuid.UUID
    device: str  # "desktop" | "mobile": which SERP DataForSEO fetched
    provider_task_id: str | None
    check_url: str | None
    ranking_url: str | None
    pages: tuple[str, ...]  # the ranking URL first (when ranked), then the organic results above it, best first
    live: bool = False  # an on-demand check (live/advanced): DataForSEO keeps no HTML of it to get


@dataclass(frozen=True)
class NewScreenshot:
    kind: str  # "serp" | "page"
    url: str
    variant: str
    width: int
    height: int | None
    s3_key: str | None
    bytes: int | None
    status: str  # "stored" | "failed"
    error: str | None
    captured_at: datetime
    expires_at: datetime | None


def snapshot_to_shoot(session: TenantSession, project_id: uuid.UUID, snapshot_id: uuid.UUID) -> SnapshotToShoot | None:
    snapshot = session.execute(
        select(SerpSnapshot).where(SerpSnapshot.project_id == project_id, SerpSnapshot.id == snapshot_id)
    ).scalar_one_or_none()
    if snapshot is None:
        return None
    above = select(SerpItem.url).where(
        SerpItem.project_id == project_id,
        SerpItem.snapshot_id == snapshot_id,
        SerpItem.type == "organic",
        SerpItem.url.is_not(None),
    )
    if snapshot.position is not None:
        above = above.where(SerpItem.rank_group < snapshot.position)
    competitors = session.execute(above.order_by(SerpItem.rank_group, SerpItem.item_index).limit(COMPETITORS_ABOVE))
    mode = (
        None
        if snapshot.rank_task_id is None
        else session.execute(select(RankTask.mode).where(RankTask.id == snapshot.rank_task_id)).scalar_one_or_none()
    )
    pages = ([snapshot.url] if snapshot.url else []) + [url for (url,) in competitors if url and url != snapshot.url]
    return SnapshotToShoot(
        project_id=project_id,
        snapshot_id=snapshot_id,
        keyword_id=snapshot.keyword_id,
        device=snapshot.device,
        provider_task_id=snapshot.provider_task_id,
        check_url=snapshot.check_url,
        ranking_url=snapshot.url,
        pages=tuple(dict.fromkeys(pages)),
        live=mode == "live",
    )


def store(session: TenantSession, snapshot: SnapshotToShoot, shots: list[NewScreenshot]) -> list[uuid.UUID]:
    """Record the snapshot's screenshots (in the transaction that finishes the unit of work)."""
    rows = [
        Screenshot(
            tenant_id=session.tenant_id,
            project_id=snapshot.project_id,
            snapshot_id=snapshot.snapshot_id,
            keyword_id=snapshot.keyword_id,
            kind=shot.kind,
            url=shot.url,
            variant=shot.variant,
            width=shot.width,
            height=shot.height,
            s3_key=shot.s3_key,
            bytes=shot.bytes,
            status=shot.status,
            error=shot.error,
            captured_at=shot.captured_at,
            expires_at=shot.expires_at,
        )
        for shot in shots
    ]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]


def page_of(
    session: TenantSession,
    project_id: uuid.UUID,
    *,
    keyword_id: uuid.UUID | None,
    snapshot_id: uuid.UUID | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Screenshot]:
    """A project's screenshots, newest first (keyset on ``(captured_at, id)``), optionally of a keyword or snapshot."""
    query = select(Screenshot).where(Screenshot.project_id == project_id)
    if keyword_id is not None:
        query = query.where(Screenshot.keyword_id == keyword_id)
    if snapshot_id is not None:
        query = query.where(Screenshot.snapshot_id == snapshot_id)
    if after is not None:
        captured_at, last_id = after
        query = query.where(
            or_(
                Screenshot.captured_at < captured_at,
                and_(Screenshot.captured_at == captured_at, Screenshot.id < last_id),
            )
        )
    query = query.order_by(Screenshot.captured_at.desc(), Screenshot.id.desc()).limit(limit)
    return list(session.execute(query).scalars())


def one(session: TenantSession, project_id: uuid.UUID, screenshot_id: uuid.UUID) -> Screenshot | None:
    return session.execute(
        select(Screenshot).where(Screenshot.project_id == project_id, Screenshot.id == screenshot_id)
    ).scalar_one_or_none()
