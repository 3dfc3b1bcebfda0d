"""What the API shows of rank data: ranks, a keyword's history, visibility, competitors, rank against Search
Console, ranking-URL changes. (The rank_check worker's messages are ``shared.ranks.models``.)"""

import datetime as dt
import uuid
from typing import Literal

from pydantic import Field

from shared.models import OutputModel, Page
from shared.ranks.agreement import DISAGREEMENT_POSITIONS, DISAGREEMENT_SHARE, STATUS_DESCRIPTION, Status
from shared.ranks.share_of_voice import FALLBACK_B, MIN_CURVE_IMPRESSIONS, CurveSource

POSITION = "The project's best organic position (`rank_group`); null when it was not within the depth checked."
Movement = Literal["new", "up", "down", "same", "entered", "dropped", "unranked", "unchecked"]
MOVEMENT_DESCRIPTION = (
    "Against the previous check: `up`, `down`, `same`; `entered` (ranks now, did not before), `dropped` (ranked "
    "before, not now), `unranked` (in neither); `new` (first check); `unchecked` (never checked)."
)


class KeywordRef(OutputModel):
    keyword_id: uuid.UUID
    keyword: str
    locale: str
    country: str = Field(description="ISO 3166-1 alpha-2, as the keyword is tracked.")
    device: str


class RankOut(KeywordRef):
    """A tracked keyword's latest check."""

    tags: list[str]
    active: bool = Field(description="Checked every day (paused keywords keep their history).")
    check_date: dt.date | None = Field(description="The latest check's day; null: never checked.")
    position: int | None = Field(description=POSITION)
    url: str | None = Field(description="The project's ranking URL.")
    previous_date: dt.date | None
    previous_position: int | None
    change: int | None = Field(description="Positions gained since the previous check (negative: lost).")
    movement: Movement = Field(description=MOVEMENT_DESCRIPTION)
    best_position: int | None = Field(description="The best position of all its checks.")
    depth: int | None = Field(description="Results checked (10 to 100).")
    features_present: list[str] = Field(description="SERP features on the page (featured_snippet, video, ...).")
    features_owned: list[str] = Field(description="Those of them that show the project's site.")


class RankPointOut(OutputModel):
    """One day's check of a keyword."""

    check_date: dt.date
    position: int | None = Field(description=POSITION)
    rank_absolute: int | None = Field(description="Its place among every element of the page, features included.")
    url: str | None
    depth: int
    se_results_count: int | None = Field(description="Results Google reported for the query.")
    features_present: list[str]
    features_owned: list[str]


class KeywordRanksOut(KeywordRef):
    """A keyword's checks over a range, oldest first."""

    start_date: dt.date
    end_date: dt.date
    best_position: int | None = Field(description="The best position over the range.")
    items: list[RankPointOut]


class CurveOut(OutputModel):
    """The expected CTR by position visibility uses: ``min(1, exp(a) * position^b)``."""

    source: CurveSource = Field(
        description=(
            "`property`: fitted on the property's own Search Console data (the curve ctr-opportunities fits, over "
            "its last 90 days); `fallback`: a generic curve (28% at position 1, about 2.5% at 10: "
            f"`0.28 * position^{FALLBACK_B}`) when the property has under {MIN_CURVE_IMPRESSIONS:,} impressions, "
            "fewer than two positions with clicks, or a CTR that does not fall with position."
        )
    )
    a: float
    b: float
    ctr_at_1: float
    impressions: int = Field(description="The impressions the fit was made from (0 for the fallback).")
    start_date: dt.date | None = Field(description="The property's days the fit read (null: none).")
    end_date: dt.date | None


class WeightingOut(OutputModel):
    """How keywords were weighted."""

    source: Literal["search_console", "uniform"] = Field(
        description=(
            "`search_console`: each keyword by the impressions Search Console recorded for the same query, country "
            "and device over the range (a keyword without any weighs 1); `uniform`: every keyword weighs 1 (no "
            "property, or none of the keywords has impressions)."
        )
    )
    property_id: uuid.UUID | None
    start_date: dt.date | None = Field(description="The days of Search Console data read.")
    end_date: dt.date | None
    keywords_weighted: int = Field(description="Keywords weighted by their impressions.")
    keywords_unweighted: int = Field(description="Keywords without impressions, weighing 1.")


class VisibilityPointOut(OutputModel):
    check_date: dt.date
    visibility: float = Field(description="0 to 1 over the keywords checked that day.")
    keywords: int = Field(description="Keywords checked that day.")


class DomainVisibilityOut(OutputModel):
    domain: str
    project: bool = Field(description="The project's own site (first in the list).")
    visibility: float = Field(description="0 to 1 over every check of the range.")
    series: list[VisibilityPointOut]


class VisibilityOut(OutputModel):
    """Share of voice per day: the project and the competitors with the most visibility over the range."""

    start_date: dt.date
    end_date: dt.date
    curve: CurveOut
    weighting: WeightingOut
    items: list[DomainVisibilityOut]


class CompetitorOut(OutputModel):
    domain: str = Field(description="Host without a leading `www.`.")
    keywords: int = Field(description="The project's keywords it ranks in the top 10 of.")
    shared_keywords: int = Field(description="Of those, the ones where the project is in the top 10 too.")
    outranks: int = Field(description="Of those, the ones where it ranks above the project.")
    average_position: float = Field(description="Its best position on those keywords, averaged.")
    visibility: float = Field(description="Its share of voice over every latest check (as `/visibility`).")


class CompetitorsOut(Page[CompetitorOut]):
    """Domains in the top 10 of the project's keywords on their latest check, most visible first."""

    project_visibility: float
    keywords_checked: int
    curve: CurveOut
    weighting: WeightingOut


class RankVsSearchConsoleOut(KeywordRef):
    search_console_country: str = Field(description="The keyword's country as Search Console names it (alpha-3).")
    search_console_device: str
    checks: int = Field(description="Checks in the window.")
    position: int | None = Field(description="The latest check's position in the window.")
    average_position: float | None = Field(description="The checks' positions averaged, where found.")
    impressions: int = Field(description="Search Console's impressions for the query, country and device.")
    clicks: int
    search_console_position: float | None = Field(description="Search Console's average position, by impressions.")
    difference: float | None = Field(description="`average_position - search_console_position`.")
    threshold: float | None = Field(
        description=(
            f"The difference flagged: over max({DISAGREEMENT_POSITIONS:g}, {DISAGREEMENT_SHARE:g} x Search "
            "Console's position)."
        )
    )
    status: Status = Field(description=STATUS_DESCRIPTION)
    flagged: bool = Field(
        description="`disagree`, or `search_console_only` with Search Console's position within the depth checked."
    )


class RanksVsSearchConsoleOut(Page[RankVsSearchConsoleOut]):
    property_id: uuid.UUID
    start_date: dt.date = Field(description="The window: the 7 days ending on the property's latest data.")
    end_date: dt.date


class UrlChangeOut(KeywordRef):
    previous_date: dt.date
    check_date: dt.date
    previous_url: str
    url: str
    previous_position: int | None
    position: int | None
    changes: int = Field(description="The keyword's URL changes in the range (more than one: flapping).")


class UrlChangesOut(Page[UrlChangeOut]):
    """Ranking-URL swaps between two of the project's pages, latest first."""

    start_date: dt.date
    end_date: dt.date
