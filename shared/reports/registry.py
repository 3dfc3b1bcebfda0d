"""The reports over Search Console data, one module each; ``REPORTS`` names them for the API and the benchmark.

Every report is ``run(principal, project_id, property_id, params) -> Report[...]``; inside
``shared.reports.data.sources.reading_raw_rows()`` it computes the same report straight from ``gsc_rows``
(the benchmark's baseline, and the tests' cross-check of the rollup).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from shared.reports import (
    breakdown,
    cannibalization,
    content_decay,
    ctr_opportunities,
    performance,
    striking_distance,
    tracked_keywords,
    winners_losers,
)
from shared.reports.models.base import PerformanceParams, Report
from shared.reports.models.search import (
    BreakdownParams,
    CannibalizationParams,
    CtrOpportunitiesParams,
    StrikingDistanceParams,
)
from shared.reports.models.trends import ContentDecayParams, TrackedKeywordsParams, WinnersLosersParams


@dataclass(frozen=True)
class ReportSpec:
    name: str  # also the route's last segment: /v1/projects/{id}/properties/{id}/reports/<name>
    params: type[BaseModel]
    run: Callable[..., Report[Any]]


REPORTS: dict[str, ReportSpec] = {
    spec.name: spec
    for spec in (
        ReportSpec(performance.NAME, PerformanceParams, performance.run),
        ReportSpec(breakdown.NAME, BreakdownParams, breakdown.run),
        ReportSpec(striking_distance.NAME, StrikingDistanceParams, striking_distance.run),
        ReportSpec(ctr_opportunities.NAME, CtrOpportunitiesParams, ctr_opportunities.run),
        ReportSpec(cannibalization.NAME, CannibalizationParams, cannibalization.run),
        # report specs: one line per report, in the order of the issue
        ReportSpec(winners_losers.NAME, WinnersLosersParams, winners_losers.run),
        ReportSpec(content_decay.NAME, ContentDecayParams, content_decay.run),
        ReportSpec(tracked_keywords.NAME, TrackedKeywordsParams, tracked_keywords.run),
    )
}
