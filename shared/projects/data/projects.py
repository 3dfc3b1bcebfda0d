import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from shared.db import TenantSession, is_unique_violation
from shared.errors import Conflict, NotFound
from shared.pagination import keyset_page
from shared.projects.tables import Project, Property


def create(session: TenantSession, *, name: str, domain: str, brand_terms: list[str], rank_depth: int) -> Project:
    project = Project(
        tenant_id=session.tenant_id, name=name, domain=domain, brand_terms=brand_terms, rank_depth=rank_depth
    )
    session.add(project)
    try:
        session.flush()
    except IntegrityError as exc:
        if is_unique_violation(exc):
            raise Conflict(f"A project for {domain} already exists.") from exc
        raise
    session.refresh(project)
    return project


def get(session: TenantSession, project_id: uuid.UUID) -> Project:
    project = session.scalar(select(Project).where(Project.tenant_id == session.tenant_id, Project.id == project_id))
    if project is None:
        raise NotFound(f"Project {project_id} does not exist.")
    return project


def list_page(session: TenantSession, *, limit: int, cursor: str | None) -> tuple[list[Project], str | None]:
    stmt = select(Project).where(Project.tenant_id == session.tenant_id)
    return keyset_page(session, stmt, Project, limit=limit, cursor=cursor)


def update(session: TenantSession, project_id: uuid.UUID, changes: dict[str, Any]) -> Project:
    project = get(session, project_id)
    for field, value in changes.items():
        setattr(project, field, value)
    try:
        session.flush()
    except IntegrityError as exc:
        if is_unique_violation(exc):
            raise Conflict(f"A project for {changes.get('domain')} already exists.") from exc
        raise
    session.refresh(project)
    return project


def delete_(session: TenantSession, project_id: uuid.UUID) -> None:
    deleted = session.execute(
        delete(Project).where(Project.tenant_id == session.tenant_id, Project.id == project_id).returning(Project.id)
    ).first()
    if deleted is None:
        raise NotFound(f"Project {project_id} does not exist.")


# Properties belong to a project; they live here because they are always reached through one.


def create_property(session: TenantSession, project_id: uuid.UUID, *, site_url: str, status: str) -> Property:
    get(session, project_id)
    prop = Property(tenant_id=session.tenant_id, project_id=project_id, site_url=site_url, status=status)
    session.add(prop)
    try:
        session.flush()
    except IntegrityError as exc:
        if is_unique_violation(exc):
            raise Conflict(f"The project already has the property {site_url}.") from exc
        raise
    session.refresh(prop)
    return prop


def get_property(session: TenantSession, project_id: uuid.UUID, property_id: uuid.UUID) -> Property:
    prop = session.scalar(
        select(Property).where(
            Property.tenant_id == session.tenant_id, Property.project_id == project_id, Property.id == property_id
        )
    )
    if prop is None:
        raise NotFound(f"Property {property_id} does not exist in project {project_id}.")
    return prop


def list_properties(
    session: TenantSession, project_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[Property], str | None]:
    get(session, project_id)
    stmt = select(Property).where(Property.tenant_id == session.tenant_id, Property.project_id == project_id)
    return keyset_page(session, stmt, Property, limit=limit, cursor=cursor)


def update_property(
    session: TenantSession, project_id: uuid.UUID, property_id: uuid.UUID, changes: dict[str, Any]
) -> Property:
    prop = get_property(session, project_id, property_id)
    for field, value in changes.items():
        setattr(prop, field, value)
    session.flush()
    session.refresh(prop)
    return prop


def delete_property(session: TenantSession, project_id: uuid.UUID, property_id: uuid.UUID) -> str | None:
    """Delete the property; returns the name of its credential's secret, which the caller deletes after commit."""
    deleted = session.execute(
        delete(Property)
        .where(Property.tenant_id == session.tenant_id, Property.project_id == project_id, Property.id == property_id)
        .returning(Property.credential_secret)
    ).first()
    if deleted is None:
        raise NotFound(f"Property {property_id} does not exist in project {project_id}.")
    secret: str | None = deleted.credential_secret
    return secret


def credential_secrets(session: TenantSession, project_id: uuid.UUID) -> list[str]:
    """The credential secrets of a project's connected properties."""
    return list(
        session.scalars(
            select(Property.credential_secret).where(
                Property.tenant_id == session.tenant_id,
                Property.project_id == project_id,
                Property.credential_secret.is_not(None),
            )
        )
    )
