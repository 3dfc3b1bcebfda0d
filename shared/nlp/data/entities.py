"""Pages' entities and the project's aggregates: replacing a page's analysis, and reading them for the API.

A replacement runs under the project's advisory lock (``lock_project``): two invocations never rewrite the same
page's rows at once, and the aggregates' increments, made in the same transaction as the rows they count,
cannot be lost. The lock is taken for the writes only (not while the service answers).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, delete, func, or_, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert

from shared.crawl.tables import CrawledPage
from shared.db import TenantSession
from shared.nlp.aggregate import Delta, EntityRow, RemovedRow, deltas
from shared.nlp.tables import NlpPageState, PageEntity, ProjectEntity
from shared.observability import logger

ENTITIES_LOCK_CLASS = 0x4E45  # "NE": one project's entity writes (rollup's classes are 0x6E57 and 0x6E52)
_LOCK_PROJECT = text("SELECT pg_advisory_xact_lock(:lock_class, hashtext(CAST(:project_id AS text)))")


def lock_project(session: TenantSession, project_id: uuid.UUID) -> None:
    session.execute(_LOCK_PROJECT, {"lock_class": ENTITIES_LOCK_CLASS, "project_id": project_id})


@dataclass(frozen=True)
class PageAnalysis:
    """What to store of one page: its state (what was analysed, in what language) and its entities."""

    page_id: uuid.UUID
    content_hash: str
    language: str | None
    supported: bool
    reason: str | None
    pipeline_name: str | None
    pipeline_version: str | None
    words: int
    truncated: bool
    entities: Sequence[EntityRow]


def processed_hashes(session: TenantSession, page_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The content hash each page's stored analysis was made from."""
    if not page_ids:
        return {}
    rows = session.execute(
        select(NlpPageState.page_id, NlpPageState.content_hash).where(NlpPageState.page_id.in_(list(page_ids)))
    ).all()
    return {row.page_id: row.content_hash for row in rows}


def store(session: TenantSession, project_id: uuid.UUID, pages: Sequence[PageAnalysis]) -> None:
    """Replace the pages' entity rows and states, and move the aggregates by the difference."""
    if not pages:
        return
    page_ids = [page.page_id for page in pages]
    removed = [
        RemovedRow(row.entity_id, row.mentions)
        for row in session.execute(
            delete(PageEntity)
            .where(PageEntity.project_id == project_id, PageEntity.page_id.in_(page_ids))
            .returning(PageEntity.entity_id, PageEntity.mentions),
            execution_options={"synchronize_session": False},
        )
    ]
    added = [row for page in pages for row in page.entities]
    new_rows = [
        {
            "tenant_id": session.tenant_id,
            "project_id": project_id,
            "page_id": page.page_id,
            "entity_id": row.entity_id,
            "mentions": row.mentions,
            "first_offset": row.first_offset,
            "text": row.text,
        }
        for page in pages
        for row in page.entities
    ]
    if new_rows:
        session.execute(insert(PageEntity), new_rows)
    _apply(session, project_id, deltas(removed, added))
    _store_states(session, project_id, pages)


_MOVE_AGGREGATES = text(
    """
    UPDATE project_entities e
    SET pages = e.pages + d.pages, mentions = e.mentions + d.mentions, updated_at = now()
    FROM unnest(CAST(:ids AS uuid[]), CAST(:pages AS integer[]), CAST(:mentions AS integer[])) AS d(id, pages, mentions)
    WHERE e.project_id = :project_id AND e.id = d.id
    RETURNING e.id
    """
)


def _apply(session: TenantSession, project_id: uuid.UUID, changes: Sequence[Delta]) -> None:
    """Existing aggregates move by their deltas, new entities get a row, entities left on no page lose theirs."""
    if not changes:
        return
    moved = set(
        session.scalars(
            _MOVE_AGGREGATES,
            {
                "project_id": project_id,
                "ids": [d.entity_id for d in changes],
                "pages": [d.pages for d in changes],
                "mentions": [d.mentions for d in changes],
            },
        )
    )
    new = [d for d in changes if d.entity_id not in moved]
    broken = [d for d in new if d.label is None or d.pages <= 0]
    if broken:  # rows removed for an entity without an aggregate: counted from nothing, not below zero
        logger.warning(
            "Entity aggregates missing for removed rows", extra={"project_id": str(project_id), "count": len(broken)}
        )
    rows = [
        {
            "tenant_id": session.tenant_id,
            "project_id": project_id,
            "id": d.entity_id,
            "label": d.label,
            "normalized": d.normalized,
            "text": d.text,
            "pages": d.pages,
            "mentions": d.mentions,
        }
        for d in new
        if d.label is not None and d.pages > 0
    ]
    if rows:
        session.execute(insert(ProjectEntity), rows)
    lost = [d.entity_id for d in changes if d.pages < 0]
    if lost:
        session.execute(
            delete(ProjectEntity)
            .where(ProjectEntity.project_id == project_id, ProjectEntity.id.in_(lost), ProjectEntity.pages <= 0)
            .execution_options(synchronize_session=False)
        )


def _store_states(session: TenantSession, project_id: uuid.UUID, pages: Sequence[PageAnalysis]) -> None:
    rows = [
        {
            "tenant_id": session.tenant_id,
            "page_id": page.page_id,
            "project_id": project_id,
            "content_hash": page.content_hash,
            "language": page.language,
            "supported": page.supported,
            "reason": page.reason,
            "pipeline_name": page.pipeline_name,
            "pipeline_version": page.pipeline_version,
            "words": page.words,
            "entities": len(page.entities),
            "truncated": page.truncated,
        }
        for page in pages
    ]
    statement = insert(NlpPageState)
    updated = {
        name: statement.excluded[name]
        for name in (
            "content_hash",
            "language",
            "supported",
            "reason",
            "pipeline_name",
            "pipeline_version",
            "words",
            "entities",
            "truncated",
        )
    }
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[NlpPageState.page_id], set_={**updated, "processed_at": func.now()}
        ),
        rows,
    )


# ---------------------------------------------------------------- reads for the API


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def top_entities(
    session: TenantSession,
    project_id: uuid.UUID,
    *,
    label: str | None,
    contains: str | None,
    limit: int,
    after: tuple[int, int, uuid.UUID] | None,
) -> list[ProjectEntity]:
    """Up to ``limit + 1`` entities, most pages first, then most mentions (the extra one says there is more)."""
    stmt = select(ProjectEntity).where(
        ProjectEntity.tenant_id == session.tenant_id, ProjectEntity.project_id == project_id, ProjectEntity.pages > 0
    )
    if label is not None:
        stmt = stmt.where(ProjectEntity.label == label)
    if contains:
        pattern = "%" + _escape_like(contains) + "%"
        stmt = stmt.where(
            or_(ProjectEntity.text.ilike(pattern, escape="\\"), ProjectEntity.normalized.ilike(pattern, escape="\\"))
        )
    if after is not None:
        stmt = stmt.where(tuple_(ProjectEntity.pages, ProjectEntity.mentions, ProjectEntity.id) < tuple_(*after))
    order = (ProjectEntity.pages.desc(), ProjectEntity.mentions.desc(), ProjectEntity.id.desc())
    return list(session.scalars(stmt.order_by(*order).limit(limit + 1)))


def entity(session: TenantSession, project_id: uuid.UUID, entity_id: uuid.UUID) -> ProjectEntity | None:
    return session.scalar(
        select(ProjectEntity).where(
            ProjectEntity.tenant_id == session.tenant_id,
            ProjectEntity.project_id == project_id,
            ProjectEntity.id == entity_id,
        )
    )


@dataclass(frozen=True)
class EntityPage:
    page_id: uuid.UUID
    url: str
    title: str | None
    mentions: int
    first_offset: int
    text: str


def entity_pages(
    session: TenantSession,
    project_id: uuid.UUID,
    entity_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[int, uuid.UUID] | None,
) -> list[EntityPage]:
    """Up to ``limit + 1`` pages mentioning the entity, most mentions first."""
    stmt = (
        select(
            PageEntity.page_id,
            CrawledPage.url,
            CrawledPage.title,
            PageEntity.mentions,
            PageEntity.first_offset,
            PageEntity.text,
        )
        .join(CrawledPage, and_(CrawledPage.tenant_id == PageEntity.tenant_id, CrawledPage.id == PageEntity.page_id))
        .where(PageEntity.project_id == project_id, PageEntity.entity_id == entity_id)
    )
    if after is not None:
        stmt = stmt.where(tuple_(PageEntity.mentions, PageEntity.page_id) < tuple_(*after))
    rows = session.execute(stmt.order_by(PageEntity.mentions.desc(), PageEntity.page_id.desc()).limit(limit + 1)).all()
    return [EntityPage(r.page_id, r.url, r.title, r.mentions, r.first_offset, r.text) for r in rows]


@dataclass(frozen=True)
class PageEntityRow:
    entity_id: uuid.UUID
    label: str
    normalized: str
    text: str
    mentions: int
    first_offset: int


def entities_of_page(
    session: TenantSession,
    project_id: uuid.UUID,
    page_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[int, uuid.UUID] | None,
) -> list[PageEntityRow]:
    """Up to ``limit + 1`` of the page's entities, most mentioned first."""
    stmt = (
        select(
            PageEntity.entity_id,
            ProjectEntity.label,
            ProjectEntity.normalized,
            PageEntity.text,
            PageEntity.mentions,
            PageEntity.first_offset,
        )
        .join(
            ProjectEntity,
            and_(ProjectEntity.project_id == PageEntity.project_id, ProjectEntity.id == PageEntity.entity_id),
        )
        .where(PageEntity.project_id == project_id, PageEntity.page_id == page_id)
    )
    if after is not None:
        stmt = stmt.where(tuple_(PageEntity.mentions, PageEntity.entity_id) < tuple_(*after))
    rows = session.execute(
        stmt.order_by(PageEntity.mentions.desc(), PageEntity.entity_id.desc()).limit(limit + 1)
    ).all()
    return [PageEntityRow(r.entity_id, r.label, r.normalized, r.text, r.mentions, r.first_offset) for r in rows]


def crawled_page(session: TenantSession, project_id: uuid.UUID, page_id: uuid.UUID) -> CrawledPage | None:
    return session.scalar(
        select(CrawledPage).where(
            CrawledPage.tenant_id == session.tenant_id, CrawledPage.project_id == project_id, CrawledPage.id == page_id
        )
    )


def page_state(session: TenantSession, page_id: uuid.UUID) -> NlpPageState | None:
    return session.scalar(
        select(NlpPageState).where(NlpPageState.tenant_id == session.tenant_id, NlpPageState.page_id == page_id)
    )
