"""What the daily rank check reads across tenants: the projects with active keywords (identifiers only,
through ``kestrel_rank_projects()``, a SECURITY DEFINER function like the crawl's and the sync's)."""

import uuid
from dataclasses import dataclass

from sqlalchemy import text

from shared.db import SystemSession


@dataclass(frozen=True)
class RankProject:
    tenant_id: str
    project_id: uuid.UUID


def rank_projects(session: SystemSession) -> list[RankProject]:
    rows = session.execute(text("SELECT tenant_id, project_id FROM kestrel_rank_projects()")).all()
    return [RankProject(row.tenant_id, row.project_id) for row in rows]
