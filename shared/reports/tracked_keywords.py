"""Tracked keywords: each of the project's keywords with the Search Console numbers of the same query over time.

Search Console queries are lowercase, as are tracked keywords' texts: a keyword's numbers are those of the
query equal to its text, over every page, in the keyword's own market: its country (alpha-2, which Search
Console names in alpha-3: ``GB`` is ``gbr``) and device (``desktop`` is DESKTOP, ``mobile`` is MOBILE; tablets
are a device of their own in Search Console, tracked by no keyword). A keyword tracked for the US on desktop
is compared like for like, not with every country and device summed.
"""

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass

from shared.auth import Principal
from shared.ranks.countries import search_console_country, search_console_device
from shared.reports.common import coverage, next_cursor, paging_of, ratio, report_scope, resolve_range
from shared.reports.data import trends
from shared.reports.data.queries import KeywordDay, KeywordDaysQuery, TrackedKeywordsQuery
from shared.reports.models.trends import (
    TrackedKeywordItem,
    TrackedKeywordPoint,
    TrackedKeywordsParams,
    TrackedKeywordsReport,
)
from shared.reports.performance import buckets

NAME = "tracked-keywords"


@dataclass
class _Sums:
    clicks: int = 0
    impressions: int = 0
    position_weighted: float = 0.0


def _normal_tag(tag: str | None) -> str | None:
    """As keywords store their tags: lowercase, single-spaced."""
    return " ".join(tag.lower().split()) if tag is not None else None


def _point(period: tuple[dt.date, dt.date], sums: _Sums) -> TrackedKeywordPoint:
    # Trusted values (sums of database integers and floats): skip validation, a long series has thousands.
    return TrackedKeywordPoint.model_construct(
        period_start=period[0],
        period_end=period[1],
        clicks=sums.clicks,
        impressions=sums.impressions,
        ctr=ratio(sums.clicks, sums.impressions),
        position=ratio(sums.position_weighted, sums.impressions),
    )


def _series(days: list[KeywordDay], periods: list[tuple[dt.date, dt.date]]) -> tuple[_Sums, list[TrackedKeywordPoint]]:
    """A market's days (in date order) summed in total and per period, keeping the periods with data."""
    total = _Sums()
    points: list[TrackedKeywordPoint] = []
    current: _Sums | None
    index, current = 0, None  # the period being summed, and its sums
    for *_, day, clicks, impressions, weighted in days:
        total.clicks += clicks
        total.impressions += impressions
        total.position_weighted += weighted
        if current is None or periods[index][1] < day:
            if current is not None:
                points.append(_point(periods[index], current))
            while periods[index][1] < day:
                index += 1
            current = _Sums()
        current.clicks += clicks
        current.impressions += impressions
        current.position_weighted += weighted
    if current is not None:
        points.append(_point(periods[index], current))
    return total, points


def _market(text: str, country: str, device: str) -> tuple[str, str, str]:
    """The Search Console rows a keyword is compared with: (query, country alpha-3 lower case, device)."""
    return (
        text.lower(),
        search_console_country(country),
        search_console_device("mobile" if device == "mobile" else "desktop"),
    )


def run(
    principal: Principal, project_id: uuid.UUID, property_id: uuid.UUID, params: TrackedKeywordsParams
) -> TrackedKeywordsReport:
    with report_scope(principal, project_id, property_id) as scope:
        dates = resolve_range(scope, params)
        data = scope.data(params.search_type, dates)
        paging = paging_of(params)
        keywords = trends.tracked_keywords(
            scope.session, TrackedKeywordsQuery(project_id=project_id, tag=_normal_tag(params.tag), paging=paging)
        )
        market_of = {keyword.id: _market(keyword.text, keyword.country, keyword.device) for keyword in keywords.rows}
        days_of: dict[tuple[str, str, str], list[KeywordDay]] = defaultdict(list)
        for day in trends.keyword_days(scope.session, KeywordDaysQuery(data, tuple(sorted(set(market_of.values()))))):
            days_of[(day.query, day.country, day.device)].append(day)
        periods = [(bucket.start, bucket.end) for bucket in buckets(dates, params.granularity)]
        items = []
        for keyword in keywords.rows:
            total, points = _series(days_of.get(market_of[keyword.id], []), periods)
            items.append(
                TrackedKeywordItem(
                    keyword_id=keyword.id,
                    keyword=keyword.text,
                    country=keyword.country,
                    device=keyword.device,
                    tags=keyword.tags,
                    clicks=total.clicks,
                    impressions=total.impressions,
                    ctr=ratio(total.clicks, total.impressions),
                    position=ratio(total.position_weighted, total.impressions),
                    series=points,
                )
            )
        return TrackedKeywordsReport(
            report=NAME,
            property_id=property_id,
            coverage=coverage(scope, data),
            items=items,
            total_items=keywords.total,
            next_cursor=next_cursor(paging, keywords.total),
        )
