"""Reports of change over time: winners and losers between two periods, content decay, tracked keywords."""

import datetime as dt
import uuid
from typing import Literal

from pydantic import Field

from shared.models import OutputModel
from shared.reports.models.base import Report, ReportParams

# Winners and losers


class WinnersLosersParams(ReportParams):
    dimension: Literal["query", "page"] = Field(default="query", description="Compare queries or pages.")
    compare_start_date: dt.date | None = Field(
        default=None,
        description="First day of the comparison period (with `compare_end_date`). "
        "Default: the period of the same length just before `start_date`.",
    )
    compare_end_date: dt.date | None = Field(
        default=None, description="Last day of the comparison period (with `compare_start_date`)."
    )
    metric: Literal["clicks", "impressions"] = Field(default="clicks", description="The metric whose change ranks.")
    direction: Literal["winners", "losers"] = Field(
        default="winners", description="`winners`: the metric went up (largest rise first); `losers`: it went down."
    )
    change: Literal["absolute", "relative"] = Field(
        default="absolute", description="Rank by the change itself or by the change relative to the comparison period."
    )
    min_previous: int = Field(
        default=10,
        ge=1,
        description="For relative changes: leave out keys whose metric in the comparison period is below this "
        "(tiny baselines give huge ratios; a change from 0 has no ratio).",
    )


class WinnerLoserItem(OutputModel):
    """A query or page with its numbers in both periods; position is null without impressions."""

    key: str
    clicks: int
    previous_clicks: int
    impressions: int
    previous_impressions: int
    position: float | None
    previous_position: float | None
    change: int = Field(description="The metric now minus in the comparison period.")
    change_relative: float | None = Field(description="`change` / the comparison period's metric (null when 0).")


class WinnersLosersReport(Report[WinnerLoserItem]):
    pass


# Content decay


class ContentDecayParams(ReportParams):
    start_date: dt.date | None = Field(default=None, description="Ignored: the current window is 28 days.")
    end_date: dt.date | None = Field(
        default=None,
        description="Last day of the current 28 days. Default: the property's latest day with data, but not one of "
        "the last days Search Console still revises (its reporting lag).",
    )
    threshold: float = Field(
        default=0.5, gt=0, lt=1, description="A page decays when its current clicks are below this share of its peak."
    )
    min_peak_clicks: int = Field(default=20, ge=1, description="Only pages whose peak 28 days had this many clicks.")


class ContentDecayItem(OutputModel):
    page: str
    clicks: int = Field(description="Clicks of the current 28 days.")
    peak_clicks: int = Field(
        description="Clicks of the page's best 28 days (ending on a Sunday) in the 16 months up to the current end; "
        "`peak_start` and `peak_end` name the first such window if several tie."
    )
    peak_start: dt.date
    peak_end: dt.date
    ratio: float = Field(description="clicks / peak_clicks.")
    clicks_lost: int = Field(description="peak_clicks - clicks.")


class ContentDecayReport(Report[ContentDecayItem]):
    pass


# Tracked keywords


class TrackedKeywordsParams(ReportParams):
    granularity: Literal["day", "week"] = Field(
        default="week", description="Series bucket size; weeks are ISO weeks (Monday to Sunday)."
    )
    tag: str | None = Field(default=None, min_length=1, max_length=50, description="Only keywords with this tag.")


class TrackedKeywordPoint(OutputModel):
    period_start: dt.date
    period_end: dt.date
    clicks: int
    impressions: int
    ctr: float | None
    position: float | None


class TrackedKeywordItem(OutputModel):
    """A tracked keyword with the Search Console numbers of the query equal to its text."""

    keyword_id: uuid.UUID
    keyword: str
    country: str
    device: str
    tags: list[str]
    clicks: int
    impressions: int
    ctr: float | None
    position: float | None
    series: list[TrackedKeywordPoint] = Field(description="Buckets with data, in date order.")


class TrackedKeywordsReport(Report[TrackedKeywordItem]):
    pass
