"""Projects and their Search Console properties."""

import uuid

from shared.auth import Principal
from shared.models import Page
from shared.projects.data import projects
from shared.projects.models import ProjectIn, ProjectOut, ProjectPatch, PropertyIn, PropertyOut, PropertyPatch
from shared.search_console import credentials
from shared.tenancy.scope import tenant_scope


def create_project(principal: Principal, data: ProjectIn) -> ProjectOut:
    with tenant_scope(principal) as session:
        project = projects.create(
            session, name=data.name, domain=data.domain, brand_terms=data.brand_terms, rank_depth=data.rank_depth
        )
        return ProjectOut.model_validate(project)


def get_project(principal: Principal, project_id: uuid.UUID) -> ProjectOut:
    with tenant_scope(principal) as session:
        return ProjectOut.model_validate(projects.get(session, project_id))


def list_projects(principal: Principal, *, limit: int, cursor: str | None) -> Page[ProjectOut]:
    with tenant_scope(principal) as session:
        rows, next_cursor = projects.list_page(session, limit=limit, cursor=cursor)
        return Page[ProjectOut](items=[ProjectOut.model_validate(row) for row in rows], next_cursor=next_cursor)


def update_project(principal: Principal, project_id: uuid.UUID, patch: ProjectPatch) -> ProjectOut:
    changes = patch.model_dump(exclude_unset=True, exclude_none=True)
    with tenant_scope(principal) as session:
        return ProjectOut.model_validate(projects.update(session, project_id, changes))


def delete_project(principal: Principal, project_id: uuid.UUID) -> None:
    with tenant_scope(principal) as session:
        secrets = projects.credential_secrets(session, project_id)
        projects.delete_(session, project_id)
    # After the commit: a failed delete leaves an orphaned secret, never a property without its credential.
    for name in secrets:
        credentials.delete(name)


def create_property(principal: Principal, project_id: uuid.UUID, data: PropertyIn) -> PropertyOut:
    with tenant_scope(principal) as session:
        prop = projects.create_property(session, project_id, site_url=data.site_url, status=data.status)
        return PropertyOut.model_validate(prop)


def get_property(principal: Principal, project_id: uuid.UUID, property_id: uuid.UUID) -> PropertyOut:
    with tenant_scope(principal) as session:
        return PropertyOut.model_validate(projects.get_property(session, project_id, property_id))


def list_properties(
    principal: Principal, project_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page[PropertyOut]:
    with tenant_scope(principal) as session:
        rows, next_cursor = projects.list_properties(session, project_id, limit=limit, cursor=cursor)
        return Page[PropertyOut](items=[PropertyOut.model_validate(row) for row in rows], next_cursor=next_cursor)


def update_property(
    principal: Principal, project_id: uuid.UUID, property_id: uuid.UUID, patch: PropertyPatch
) -> PropertyOut:
    with tenant_scope(principal) as session:
        prop = projects.update_property(session, project_id, property_id, patch.model_dump(exclude_unset=True))
        return PropertyOut.model_validate(prop)


def delete_property(principal: Principal, project_id: uuid.UUID, property_id: uuid.UUID) -> None:
    with tenant_scope(principal) as session:
        secret = projects.delete_property(session, project_id, property_id)
    if secret:
        credentials.delete(secret)
