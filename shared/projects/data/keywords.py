import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from shared.db import TenantSession
from shared.errors import NotFound
from shared.pagination import keyset_page
from shared.projects.models import KeywordIn
from shared.projects.tables import Keyword

Identity = tuple[str, str, str, str]


def insert_new(session: TenantSession, project_id: uuid.UUID, keywords: Sequence[KeywordIn]) -> list[Keyword]:
    """Insert the keywords the project does not track yet; return the inserted rows.

    Keywords already tracked are left as they are (ON CONFLICT DO NOTHING), which
    is what makes a repeated import add nothing. Callers pass distinct keywords.
    """
    if not keywords:
        return []
    rows = [{"tenant_id": session.tenant_id, "project_id": project_id, **kw.model_dump(mode="json")} for kw in keywords]
    stmt = (
        insert(Keyword)
        .values(rows)
        .on_conflict_do_nothing(
            index_elements=[Keyword.project_id, Keyword.text, Keyword.locale, Keyword.country, Keyword.device]
        )
        .returning(Keyword)
    )
    return list(session.scalars(stmt))


def get(session: TenantSession, project_id: uuid.UUID, keyword_id: uuid.UUID) -> Keyword:
    keyword = session.scalar(
        select(Keyword).where(
            Keyword.tenant_id == session.tenant_id, Keyword.project_id == project_id, Keyword.id == keyword_id
        )
    )
    if keyword is None:
        raise NotFound(f"Keyword {keyword_id} does not exist in project {project_id}.")
    return keyword


def list_page(
    session: TenantSession,
    project_id: uuid.UUID,
    *,
    tag: str | None,
    text_contains: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Keyword], str | None]:
    stmt = select(Keyword).where(Keyword.tenant_id == session.tenant_id, Keyword.project_id == project_id)
    if tag:
        stmt = stmt.where(Keyword.tags.contains([tag.lower()]))
    if text_contains:
        escaped = text_contains.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Keyword.text.like(f"%{escaped}%", escape="\\"))
    return keyset_page(session, stmt, Keyword, limit=limit, cursor=cursor)


def update(session: TenantSession, project_id: uuid.UUID, keyword_id: uuid.UUID, changes: dict[str, Any]) -> Keyword:
    keyword = get(session, project_id, keyword_id)
    for field, value in changes.items():
        setattr(keyword, field, value)
    session.flush()
    session.refresh(keyword)
    return keyword


def delete_(session: TenantSession, project_id: uuid.UUID, keyword_id: uuid.UUID) -> None:
    deleted = session.execute(
        delete(Keyword)
        .where(Keyword.tenant_id == session.tenant_id, Keyword.project_id == project_id, Keyword.id == keyword_id)
        .returning(Keyword.id)
    ).first()
    if deleted is None:
        raise NotFound(f"Keyword {keyword_id} does not exist in project {project_id}.")
