"""Rank data calibrated on the project's Search Console property: visibility, competitors, and each keyword's
rank beside Search Console's.

The property is the one asked for, else the project's first (active ones first). Its CTR curve is fitted over
its last 90 days of web search data (the buckets and fit of ctr-opportunities); keywords are weighted by the
impressions of the same query, country (alpha-2 mapped to Search Console's alpha-3) and device (``desktop`` ->
``DESKTOP``, ``mobile`` -> ``MOBILE``; tablets have no SERP of their own) over the range. The computations are
``shared.ranks.share_of_voice`` and ``shared.ranks.agreement``.
"""

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from shared.auth import Principal
from shared.dates import utc_today
from shared.db import TenantSession
from shared.errors import NotFound
from shared.nlp import cursors
from shared.projects.data import projects
from shared.ranks import agreement, countries
from shared.ranks.api_models import (
    CompetitorOut,
    CompetitorsOut,
    CurveOut,
    DomainVisibilityOut,
    RanksVsSearchConsoleOut,
    RankVsSearchConsoleOut,
    VisibilityOut,
    VisibilityPointOut,
    WeightingOut,
)
from shared.ranks.data import reads
from shared.ranks.data import search_console as gsc
from shared.ranks.data.reads import KeywordFilters, KeywordRow, OrganicRow
from shared.ranks.ranks import date_range, keyword_ref, normal_tag
from shared.ranks.share_of_voice import (
    FALLBACK_CURVE,
    Curve,
    KeywordCheck,
    choose_curve,
    competitors,
    daily_visibility,
    keyword_check,
    visibility,
)
from shared.reports.common import decode_offset, encode_offset
from shared.reports.data import search, sources
from shared.reports.data.queries import CtrBucketsQuery, DateRange, SearchData
from shared.reports.models.search import CTR_CURVE_MAX_POSITION
from shared.tenancy.scope import tenant_scope

CURVE_DAYS = 90
VISIBILITY_DAYS = 28
MAX_VISIBILITY_DAYS = 92
AGREEMENT_DAYS = 7
DEFAULT_COMPETITORS = 5


@dataclass(frozen=True)
class Calibration:
    property_id: uuid.UUID | None
    curve: Curve
    curve_dates: DateRange | None
    weights: dict[uuid.UUID, float]
    weight_dates: DateRange | None


def search_console_key(keyword: KeywordRow) -> tuple[str, str, str] | None:
    """The keyword as Search Console's rows name it: (query, alpha-3 country, device); None: an unknown country."""
    try:
        country = countries.search_console_country(keyword.country)
    except countries.UnknownCountry:
        return None
    device = countries.search_console_device("mobile" if keyword.device == "mobile" else "desktop")
    return keyword.text.lower(), country, device


def _property(session: TenantSession, project_id: uuid.UUID, property_id: uuid.UUID | None) -> uuid.UUID | None:
    if property_id is not None:
        return projects.get_property(session, project_id, property_id).id
    return gsc.default_property(session, project_id)


def _numbers(
    session: TenantSession, property_id: uuid.UUID, dates: DateRange, keywords: Sequence[KeywordRow]
) -> dict[tuple[str, str, str], gsc.QueryNumbers]:
    queries = sorted({keyword.text.lower() for keyword in keywords})
    rows = gsc.query_numbers(session, property_id, dates.start, dates.end, queries)
    return {(row.query, row.country, row.device): row for row in rows}


def calibrate(
    session: TenantSession,
    project_id: uuid.UUID,
    property_id: uuid.UUID | None,
    keywords: Sequence[KeywordRow],
    start: dt.date,
    end: dt.date,
) -> Calibration:
    """The property's CTR curve (last 90 days) and the keywords' impressions over ``start``..``end``.

    Call it after the rank queries of the transaction: it tunes the rest of the transaction for the reports'
    aggregates (hash joins only), which would make the snapshots' index lookups full partition scans.
    """
    prop = _property(session, project_id, property_id)
    latest = None if prop is None else sources.latest_date(session, prop, gsc.SEARCH_TYPE)
    if prop is None or latest is None:
        return Calibration(prop, FALLBACK_CURVE, None, {}, None)
    sources.tune_report_transaction(session)  # the buckets aggregate 90 days of pairs, as the reports do
    curve_dates = DateRange(latest - dt.timedelta(days=CURVE_DAYS - 1), latest)
    data = SearchData(prop, gsc.SEARCH_TYPE, curve_dates)
    curve = choose_curve(search.ctr_buckets(session, CtrBucketsQuery(data, CTR_CURVE_MAX_POSITION)))
    weights: dict[uuid.UUID, float] = {}
    weight_dates = DateRange(start, min(end, latest)) if start <= latest else None
    if weight_dates is not None and keywords:
        numbers = _numbers(session, prop, weight_dates, keywords)
        for keyword in keywords:
            key = search_console_key(keyword)
            found = numbers.get(key) if key else None
            if found is not None and found.impressions > 0:
                weights[keyword.id] = float(found.impressions)
    return Calibration(prop, curve, curve_dates, weights, weight_dates)


def curve_out(calibration: Calibration) -> CurveOut:
    curve, dates = calibration.curve, calibration.curve_dates
    return CurveOut(
        source=curve.source,
        a=curve.a,
        b=curve.b,
        ctr_at_1=curve.ctr(1),
        impressions=curve.impressions,
        start_date=dates.start if dates else None,
        end_date=dates.end if dates else None,
    )


def weighting_out(calibration: Calibration, keywords: int) -> WeightingOut:
    dates = calibration.weight_dates
    weighted = len(calibration.weights)
    return WeightingOut(
        source="search_console" if weighted else "uniform",
        property_id=calibration.property_id,
        start_date=dates.start if dates else None,
        end_date=dates.end if dates else None,
        keywords_weighted=weighted,
        keywords_unweighted=keywords - weighted,
    )


def keyword_checks(rows: Sequence[OrganicRow], project_domain: str) -> list[KeywordCheck]:
    return [
        keyword_check(
            row.keyword_id,
            row.check_date,
            row.position,
            zip(row.domains, row.ranks, strict=True),
            project_domain,
        )
        for row in rows
    ]


def project_visibility(
    principal: Principal,
    project_id: uuid.UUID,
    *,
    start_date: dt.date | None,
    end_date: dt.date | None,
    property_id: uuid.UUID | None,
    competitors_shown: int,
    tag: str | None,
    device: str | None,
) -> VisibilityOut:
    """Share of voice per day of the project and of the ``competitors_shown`` most visible other domains."""
    start, end = date_range(start_date, end_date, default_days=VISIBILITY_DAYS, max_days=MAX_VISIBILITY_DAYS)
    filters = KeywordFilters(normal_tag(tag), device)
    with tenant_scope(principal) as session:
        project = projects.get(session, project_id)
        keywords = reads.keywords(session, project_id, filters)
        ids = [keyword.id for keyword in keywords] if filters.any else None
        rows = reads.organic_results(session, project_id, keyword_ids=ids, dates=(start, end))
        checks = keyword_checks(rows, project.domain)
        calibration = calibrate(session, project_id, property_id, keywords, start, end)  # last: it tunes
    overall = visibility(checks, calibration.weights, calibration.curve)
    days = daily_visibility(checks, calibration.weights, calibration.curve)
    shown = sorted(overall.domains, key=lambda domain: (-overall.domains[domain], domain))[:competitors_shown]

    def series(domain: str | None) -> list[VisibilityPointOut]:
        return [
            VisibilityPointOut(
                check_date=day.check_date,
                visibility=day.visibility.project if domain is None else day.visibility.domains.get(domain, 0.0),
                keywords=day.visibility.keywords,
            )
            for day in days
        ]

    items = [DomainVisibilityOut(domain=project.domain, project=True, visibility=overall.project, series=series(None))]
    items += [
        DomainVisibilityOut(domain=domain, project=False, visibility=overall.domains[domain], series=series(domain))
        for domain in shown
    ]
    return VisibilityOut(
        start_date=start,
        end_date=end,
        curve=curve_out(calibration),
        weighting=weighting_out(calibration, len(keywords)),
        items=items,
    )


def list_competitors(
    principal: Principal,
    project_id: uuid.UUID,
    *,
    property_id: uuid.UUID | None,
    tag: str | None,
    device: str | None,
    limit: int,
    cursor: str | None,
) -> CompetitorsOut:
    """The domains in the top 10 of the project's keywords on their latest check, most visible first.

    The keywords are weighted by their impressions over the 28 days ending on the latest check.
    """
    offset = decode_offset(cursor)
    filters = KeywordFilters(normal_tag(tag), device)
    with tenant_scope(principal) as session:
        project = projects.get(session, project_id)
        keywords = reads.keywords(session, project_id, filters)
        ids = [keyword.id for keyword in keywords] if filters.any else None
        rows = reads.organic_results(session, project_id, keyword_ids=ids, dates=None)
        checks = keyword_checks(rows, project.domain)
        latest = max((check.check_date for check in checks), default=utc_today())
        start = latest - dt.timedelta(days=VISIBILITY_DAYS - 1)
        calibration = calibrate(session, project_id, property_id, keywords, start, latest)
    found = competitors(checks, calibration.weights, calibration.curve)
    page = found[offset : offset + limit]
    return CompetitorsOut(
        items=[
            CompetitorOut(
                domain=c.domain,
                keywords=c.keywords,
                shared_keywords=c.shared,
                outranks=c.outranks,
                average_position=c.average_position,
                visibility=c.visibility,
            )
            for c in page
        ],
        next_cursor=encode_offset(offset + limit) if offset + limit < len(found) else None,
        project_visibility=visibility(checks, calibration.weights, calibration.curve).project,
        keywords_checked=len(checks),
        curve=curve_out(calibration),
        weighting=weighting_out(calibration, len(keywords)),
    )


def ranks_vs_search_console(
    principal: Principal,
    project_id: uuid.UUID,
    *,
    property_id: uuid.UUID | None,
    tag: str | None,
    device: str | None,
    flagged_only: bool,
    limit: int,
    cursor: str | None,
) -> RanksVsSearchConsoleOut:
    """Per keyword, the checks' position beside Search Console's over the 7 days ending on its latest data."""
    after = None if cursor is None else cursors.decode(cursor, str, uuid.UUID)
    filters = KeywordFilters(normal_tag(tag), device)
    with tenant_scope(principal) as session:
        projects.get(session, project_id)
        prop = _property(session, project_id, property_id)
        if prop is None:
            raise NotFound(f"Project {project_id} has no Search Console property to compare with.")
        latest = sources.latest_date(session, prop, gsc.SEARCH_TYPE) or utc_today() - dt.timedelta(days=1)
        window = DateRange(latest - dt.timedelta(days=AGREEMENT_DAYS - 1), latest)
        items: list[RankVsSearchConsoleOut] = []
        more = False
        # With flagged_only, pages of keywords are read until one holds enough flagged ones.
        while len(items) < limit:
            keywords = reads.keywords(session, project_id, filters, after=after, limit=limit + 1)
            more, keywords = len(keywords) > limit, keywords[:limit]
            if not keywords:
                break
            checks = reads.checks(session, project_id, window.start, window.end, keyword_ids=[k.id for k in keywords])
            numbers = _numbers(session, prop, window, keywords)
            checks_of: dict[uuid.UUID, list[reads.CheckRow]] = defaultdict(list)
            for check in checks:
                checks_of[check.keyword_id].append(check)
            for keyword in keywords:
                item = _compared(keyword, checks_of[keyword.id], numbers)
                after = (keyword.text, keyword.id)
                if not flagged_only or item.flagged:
                    items.append(item)
                if len(items) == limit:
                    more = more or keyword is not keywords[-1]
                    break
            if not more:
                break
    return RanksVsSearchConsoleOut(
        items=items,
        next_cursor=cursors.encode(after[0], after[1]) if more and after else None,
        property_id=prop,
        start_date=window.start,
        end_date=window.end,
    )


def _compared(
    keyword: KeywordRow, checks: list[reads.CheckRow], numbers: dict[tuple[str, str, str], gsc.QueryNumbers]
) -> RankVsSearchConsoleOut:
    key = search_console_key(keyword)
    found = numbers.get(key) if key else None
    impressions = found.impressions if found else 0
    gsc_position = found.position_weighted / impressions if found and impressions else None
    positions = [check.position for check in checks if check.position is not None]
    average = sum(positions) / len(positions) if positions else None
    depth = max((check.depth for check in checks), default=None)
    result = agreement.compare(average, len(checks), gsc_position, depth)
    return RankVsSearchConsoleOut(
        **keyword_ref(keyword),
        search_console_country=key[1] if key else "",
        search_console_device=key[2] if key else "",
        checks=len(checks),
        position=checks[-1].position if checks else None,
        average_position=average,
        impressions=impressions,
        clicks=found.clicks if found else 0,
        search_console_position=gsc_position,
        difference=result.difference,
        threshold=result.threshold,
        status=result.status,
        flagged=result.flagged,
    )
