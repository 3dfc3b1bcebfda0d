"""serp_screenshot's messages.

``ScreenshotSnapshot`` is what rank_check sends after storing a SERP snapshot: screenshot that SERP (from
DataForSEO's HTML of the task) and the pages it ranks.
"""

import uuid
from typing import Literal

from pydantic import BaseModel


class ScreenshotSnapshot(BaseModel):
    """Screenshot a stored SERP snapshot (``serp_snapshots``) and its ranking and competing pages."""

    kind: Literal["snapshot"] = "snapshot"
    tenant_id: str
    project_id: uuid.UUID
    snapshot_id: uuid.UUID
