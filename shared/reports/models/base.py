"""Reports over Search Console data: the query parameters every report shares, the envelope, each report's rows.

Measures follow Search Console: CTR = clicks / impressions and position is the
impression-weighted average position; both are null where there were no
impressions.
"""

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from shared.models import OutputModel
from shared.search_console.models import SearchType

MAX_RANGE_DAYS = 500  # Search Console keeps 16 months
DEFAULT_RANGE_DAYS = 28
MAX_LIMIT = 5000
DEFAULT_LIMIT = 50


class ReportParams(BaseModel):
    """Query parameters every report takes."""

    start_date: dt.date | None = Field(
        default=None, description="First day (inclusive). Default: 27 days before `end_date`."
    )
    end_date: dt.date | None = Field(
        default=None, description="Last day (inclusive). Default: the property's latest day with data."
    )
    search_type: SearchType = Field(default="web", description="Search Console search type.")
    limit: int | None = Field(
        default=None,
        ge=1,
        le=MAX_LIMIT,
        description=f"Rows per page (default {DEFAULT_LIMIT}; for CSV, {MAX_LIMIT}).",
    )
    cursor: str | None = Field(default=None, description="`next_cursor` from the previous page.")
    format: Literal["json", "csv"] | None = Field(
        default=None, description="`csv` for a CSV download (as does `Accept: text/csv`)."
    )

    @model_validator(mode="after")
    def _range(self) -> "ReportParams":
        if self.start_date and self.end_date:
            if self.start_date > self.end_date:
                raise ValueError("start_date must not be after end_date")
            if (self.end_date - self.start_date).days + 1 > MAX_RANGE_DAYS:
                raise ValueError(f"the range must not exceed {MAX_RANGE_DAYS} days")
        return self


class Coverage(OutputModel):
    """The dates a report asked for and the data it actually found."""

    start: dt.date = Field(description="First day of the range.")
    end: dt.date = Field(description="Last day of the range.")
    first_date: dt.date | None = Field(description="First day in the range with data (null: none).")
    last_date: dt.date | None = Field(description="Last day in the range with data.")
    provisional_from: dt.date | None = Field(
        description="Days from this one on are still provisional: Search Console may revise them (null: none are)."
    )
    provisional: bool = Field(description="Whether the data found includes provisional days.")
    rollup_pending_days: int = Field(
        description="Days in the range loaded but not yet in the report aggregates (the rollup is catching up)."
    )


class Report[T](OutputModel):
    """A page of a report: what it covers, its rows, and where the next page starts."""

    report: str
    property_id: uuid.UUID
    coverage: Coverage
    comparison: Coverage | None = Field(default=None, description="The comparison period, for reports that have one.")
    items: list[T]
    total_items: int = Field(description="Rows in the whole report, across pages.")
    next_cursor: str | None


# Performance over time


class PerformanceParams(ReportParams):
    granularity: Literal["day", "week", "month"] = Field(
        default="day", description="Bucket size; weeks are ISO weeks (Monday to Sunday)."
    )
    compare: Literal["none", "previous_period", "previous_year"] = Field(
        default="none",
        description=(
            "`previous_period`: the same number of days just before; `previous_year`: the same dates a year earlier."
        ),
    )
    country: str | None = Field(default=None, pattern="^[a-z]{3}$", description="Only this country (ISO alpha-3).")
    device: Literal["DESKTOP", "MOBILE", "TABLET"] | None = Field(default=None, description="Only this device.")


class Measures(OutputModel):
    clicks: int
    impressions: int
    ctr: float | None
    position: float | None


class PerformancePoint(OutputModel):
    """One bucket; the comparison columns hold the matching bucket of the comparison period."""

    period_start: dt.date | None
    period_end: dt.date | None
    clicks: int | None
    impressions: int | None
    ctr: float | None
    position: float | None
    compare_period_start: dt.date | None = None
    compare_period_end: dt.date | None = None
    compare_clicks: int | None = None
    compare_impressions: int | None = None
    compare_ctr: float | None = None
    compare_position: float | None = None


class PerformanceReport(Report[PerformancePoint]):
    totals: Measures
    compare_totals: Measures | None = None
