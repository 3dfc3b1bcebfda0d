"""What the API shows of screenshots (``GET /v1/projects/{project_id}/screenshots`` and ``.../{id}``)."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.models import OutputModel


class ScreenshotOut(OutputModel):
    id: uuid.UUID
    snapshot_id: uuid.UUID | None = Field(description="The SERP snapshot it belongs to (null once deleted).")
    keyword_id: uuid.UUID | None
    kind: Literal["serp", "page"] = Field(description="`serp`: the results page; `page`: a ranking or competing page.")
    url: str = Field(description="The page's URL, or the SERP's check URL at DataForSEO.")
    variant: Literal["desktop_fold", "desktop_full", "mobile"] = Field(
        description="`desktop_fold`: 1920x1080; `desktop_full`: the whole page at 1920 wide (cut at 15,000 px); "
        "`mobile`: a 390x844 viewport at a pixel density of 2."
    )
    width: int = Field(description="The PNG's width in pixels.")
    height: int | None = Field(description="The PNG's height in pixels (null when the capture failed).")
    bytes: int | None
    status: Literal["stored", "failed"]
    error: str | None = Field(description="Why the capture failed (the page never loaded, a refused redirect...).")
    captured_at: datetime
    expires_at: datetime | None = Field(description="When the PNG is deleted from storage.")


class ScreenshotDetailOut(ScreenshotOut):
    download_url: str | None = Field(
        description="A short-lived link to the PNG (null when the capture failed). Fetch it again for a fresh one."
    )
    download_expires_at: datetime | None
