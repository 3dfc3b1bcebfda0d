"""What the crawl's seeding reads: the pages Search Console knows for the project's properties."""

import uuid

from sqlalchemy import text

from shared.db import TenantSession


def search_console_pages(session: TenantSession, project_id: uuid.UUID, *, limit: int) -> list[str]:
    """The project's pages with Search Console impressions, most clicked first (from the weekly page rollup)."""
    rows = session.execute(
        text(
            """
            SELECT w.page FROM gsc_page_weekly w
            JOIN properties p ON p.id = w.property_id
            WHERE p.project_id = :project_id
            GROUP BY w.page
            ORDER BY sum(w.clicks) DESC, w.page
            LIMIT :limit
            """
        ),
        {"project_id": project_id, "limit": limit},
    ).scalars()
    return list(rows)
