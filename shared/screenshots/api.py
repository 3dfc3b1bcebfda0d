"""The screenshots API: a project's screenshots, and one with a short-lived link to its PNG."""

import uuid
from datetime import UTC, datetime, timedelta

from shared.auth import Principal
from shared.errors import NotFound
from shared.models import Page
from shared.pagination import decode_cursor, encode_cursor
from shared.projects.data import projects
from shared.screenshots import storage
from shared.screenshots.api_models import ScreenshotDetailOut, ScreenshotOut
from shared.screenshots.data import screenshots as data
from shared.tenancy.scope import tenant_scope


def list_screenshots(
    principal: Principal,
    project_id: uuid.UUID,
    *,
    keyword_id: uuid.UUID | None,
    snapshot_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> Page[ScreenshotOut]:
    """Newest first, optionally of one keyword or one snapshot."""
    after = decode_cursor(cursor) if cursor else None
    with tenant_scope(principal) as session:
        projects.get(session, project_id)
        rows = data.page_of(
            session, project_id, keyword_id=keyword_id, snapshot_id=snapshot_id, after=after, limit=limit + 1
        )
        items = [ScreenshotOut.model_validate(row) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return Page[ScreenshotOut](
        items=items, next_cursor=encode_cursor(last.captured_at, last.id) if last is not None else None
    )


def get_screenshot(principal: Principal, project_id: uuid.UUID, screenshot_id: uuid.UUID) -> ScreenshotDetailOut:
    with tenant_scope(principal) as session:
        projects.get(session, project_id)
        row = data.one(session, project_id, screenshot_id)
        if row is None:
            raise NotFound(f"Project {project_id} has no screenshot {screenshot_id}.")
        out = ScreenshotOut.model_validate(row)
        key = row.s3_key if row.status == "stored" else None
    url, expires_at = None, None
    if key is not None:
        url, seconds = storage.presigned_get(key)
        expires_at = datetime.now(UTC) + timedelta(seconds=seconds)
    return ScreenshotDetailOut(**out.model_dump(), download_url=url, download_expires_at=expires_at)
