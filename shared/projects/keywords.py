"""Tracked keywords: adding them one by one, in bulk, or from an import file."""

import uuid
from collections.abc import Sequence

from shared.auth import Principal
from shared.db import TenantSession
from shared.errors import Conflict
from shared.models import Page
from shared.projects.data import keywords, projects
from shared.projects.models import KeywordBulkOut, KeywordDuplicate, KeywordIn, KeywordOut, KeywordPatch
from shared.projects.tables import Keyword
from shared.tenancy.scope import tenant_scope


def add_distinct(
    session: TenantSession, project_id: uuid.UUID, batch: Sequence[KeywordIn]
) -> tuple[list[Keyword], list[int]]:
    """Insert a batch of keywords (distinct within the batch); return the new rows and the indexes already tracked."""
    created = keywords.insert_new(session, project_id, batch)
    new_identities = {(row.text, row.locale, row.country, row.device) for row in created}
    already = [index for index, kw in enumerate(batch) if kw.identity() not in new_identities]
    return created, already


def add_keywords(principal: Principal, project_id: uuid.UUID, items: Sequence[KeywordIn]) -> KeywordBulkOut:
    duplicates: list[KeywordDuplicate] = []
    distinct: list[KeywordIn] = []
    positions: list[int] = []
    seen: set[tuple[str, str, str, str]] = set()
    for index, item in enumerate(items):
        if item.identity() in seen:
            duplicates.append(KeywordDuplicate(index=index, text=item.text, reason="repeated in request"))
            continue
        seen.add(item.identity())
        distinct.append(item)
        positions.append(index)
    with tenant_scope(principal) as session:
        projects.get(session, project_id)
        created, already = add_distinct(session, project_id, distinct)
        duplicates += [
            KeywordDuplicate(index=positions[i], text=distinct[i].text, reason="already tracked") for i in already
        ]
        return KeywordBulkOut(
            created=[KeywordOut.model_validate(row) for row in created],
            duplicates=sorted(duplicates, key=lambda dup: dup.index),
        )


def add_keyword(principal: Principal, project_id: uuid.UUID, item: KeywordIn) -> KeywordOut:
    result = add_keywords(principal, project_id, [item])
    if not result.created:
        raise Conflict(f"The project already tracks '{item.text}' ({item.locale}, {item.country}, {item.device}).")
    return result.created[0]


def get_keyword(principal: Principal, project_id: uuid.UUID, keyword_id: uuid.UUID) -> KeywordOut:
    with tenant_scope(principal) as session:
        return KeywordOut.model_validate(keywords.get(session, project_id, keyword_id))


def list_keywords(
    principal: Principal,
    project_id: uuid.UUID,
    *,
    tag: str | None,
    text_contains: str | None,
    limit: int,
    cursor: str | None,
) -> Page[KeywordOut]:
    with tenant_scope(principal) as session:
        projects.get(session, project_id)
        rows, next_cursor = keywords.list_page(
            session, project_id, tag=tag, text_contains=text_contains, limit=limit, cursor=cursor
        )
        return Page[KeywordOut](items=[KeywordOut.model_validate(row) for row in rows], next_cursor=next_cursor)


def update_keyword(
    principal: Principal, project_id: uuid.UUID, keyword_id: uuid.UUID, patch: KeywordPatch
) -> KeywordOut:
    with tenant_scope(principal) as session:
        row = keywords.update(session, project_id, keyword_id, patch.model_dump(exclude_unset=True))
        return KeywordOut.model_validate(row)


def delete_keyword(principal: Principal, project_id: uuid.UUID, keyword_id: uuid.UUID) -> None:
    with tenant_scope(principal) as session:
        keywords.delete_(session, project_id, keyword_id)
