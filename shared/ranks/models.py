"""rank_check's messages, and what the API takes to start an on-demand check.

One queue, four kinds of message (discriminated by ``kind``):

* ``schedule``: EventBridge, daily: one ``post`` per project with active keywords.
* ``post``: a project's check of a day: its tasks created (one per active keyword and day), posted to
  DataForSEO's standard queue 100 a call within the tenant's budget, then ``collect`` sent with a delay.
* ``collect``: the day's posted tasks that DataForSEO lists as ready are read and stored; sent again with a
  delay while some are not ready (``attempt`` counts them, each runs once).
* ``live``: an on-demand check of some keywords (``POST .../rank-checks``) through ``live/advanced``.
"""

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from shared.models import InputModel

# ---------------------------------------------------------------- messages


class ScheduleRanksMessage(BaseModel):
    """The daily schedule (EventBridge): check every project that has active keywords, once a day."""

    kind: Literal["schedule"]


class PostRanksMessage(BaseModel):
    """Post a project's daily check (its ``rank_check`` job is found or created by the day)."""

    kind: Literal["post"] = "post"
    tenant_id: str
    project_id: uuid.UUID
    check_date: dt.date


class CollectRanksMessage(BaseModel):
    """Collect what is ready of a ``rank_check`` job's posted tasks (the ``attempt``-th time)."""

    kind: Literal["collect"] = "collect"
    tenant_id: str
    job_id: uuid.UUID
    attempt: int = Field(default=1, ge=1)


class LiveRanksMessage(BaseModel):
    """Run an on-demand ``rank_check`` job (its tasks were created by the API) through ``live/advanced``."""

    kind: Literal["live"] = "live"
    tenant_id: str
    job_id: uuid.UUID


RankCheckMessage = Annotated[
    ScheduleRanksMessage | PostRanksMessage | CollectRanksMessage | LiveRanksMessage, Field(discriminator="kind")
]


# ---------------------------------------------------------------- the API


class RankCheckIn(InputModel):
    """An on-demand check of the project's keywords, now."""

    keyword_ids: list[uuid.UUID] | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description=(
            "The keywords to check (default: every active keyword of the project). At most "
            "`KESTREL_RANK_LIVE_MAX_KEYWORDS` (20 unless configured) a request."
        ),
    )
