"""A project's entities as the API offers them: the top ones, the pages mentioning one, a page's own."""

import uuid

from shared.auth import Principal
from shared.errors import NotFound
from shared.models import Page
from shared.nlp import cursors
from shared.nlp.data import entities as entity_data
from shared.nlp.models import EntityOut, EntityPageOut, PageEntitiesOut, PageEntityOut, PipelineOut
from shared.projects.data import projects
from shared.tenancy.scope import tenant_scope


def list_entities(
    principal: Principal,
    project_id: uuid.UUID,
    *,
    label: str | None,
    contains: str | None,
    limit: int,
    cursor: str | None,
) -> Page[EntityOut]:
    """On the most pages first, then the most mentioned."""
    after = None if cursor is None else cursors.decode(cursor, int, int, uuid.UUID)
    with tenant_scope(principal) as session:
        projects.get(session, project_id)
        rows = entity_data.top_entities(session, project_id, label=label, contains=contains, limit=limit, after=after)
    more, rows = len(rows) > limit, rows[:limit]
    last = rows[-1] if rows else None
    return Page[EntityOut](
        items=[EntityOut.model_validate(row) for row in rows],
        next_cursor=cursors.encode(last.pages, last.mentions, last.id) if more and last else None,
    )


def entity_pages(
    principal: Principal, project_id: uuid.UUID, entity_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page[EntityPageOut]:
    """The pages mentioning the entity, most mentions first."""
    after = None if cursor is None else cursors.decode(cursor, int, uuid.UUID)
    with tenant_scope(principal) as session:
        projects.get(session, project_id)
        if entity_data.entity(session, project_id, entity_id) is None:
            raise NotFound(f"Entity {entity_id} is on no page of project {project_id}.")
        rows = entity_data.entity_pages(session, project_id, entity_id, limit=limit, after=after)
    more, rows = len(rows) > limit, rows[:limit]
    last = rows[-1] if rows else None
    items = [
        EntityPageOut(
            id=row.page_id,
            url=row.url,
            title=row.title,
            mentions=row.mentions,
            first_offset=row.first_offset,
            text=row.text,
        )
        for row in rows
    ]
    return Page[EntityPageOut](
        items=items, next_cursor=cursors.encode(last.mentions, last.page_id) if more and last else None
    )


def page_entities(
    principal: Principal, project_id: uuid.UUID, page_id: uuid.UUID, *, limit: int, cursor: str | None
) -> PageEntitiesOut:
    """The page's entities, most mentioned first, and its language as the service read it."""
    after = None if cursor is None else cursors.decode(cursor, int, uuid.UUID)
    with tenant_scope(principal) as session:
        projects.get(session, project_id)
        page = entity_data.crawled_page(session, project_id, page_id)
        if page is None:
            raise NotFound(f"Page {page_id} is not a page of project {project_id}.")
        state = entity_data.page_state(session, page_id)
        rows = entity_data.entities_of_page(session, project_id, page_id, limit=limit, after=after)
    more, rows = len(rows) > limit, rows[:limit]
    last = rows[-1] if rows else None
    pipeline = (
        PipelineOut(name=state.pipeline_name, version=state.pipeline_version)
        if state is not None and state.pipeline_name and state.pipeline_version
        else None
    )
    return PageEntitiesOut(
        items=[
            PageEntityOut(
                id=row.entity_id,
                label=row.label,
                text=row.text,
                normalized=row.normalized,
                mentions=row.mentions,
                first_offset=row.first_offset,
            )
            for row in rows
        ],
        next_cursor=cursors.encode(last.mentions, last.entity_id) if more and last else None,
        page_id=page.id,
        url=page.url,
        analysed=state is not None and state.content_hash == page.content_hash,
        language=state.language if state else None,
        supported=state.supported if state else None,
        reason=state.reason if state else None,
        words=state.words if state else None,
        truncated=state.truncated if state else None,
        pipeline=pipeline,
        processed_at=state.processed_at if state else None,
    )
