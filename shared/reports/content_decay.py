"""Content decay: pages whose last 28 days fell well below their best 28 days of the past 16 months.

A *span* here is 28 days: the current one ends on the last final day (or ``end_date``); each week's ends on
its Sunday, and the best of those in the history is the page's peak.
"""

import datetime as dt
import uuid

from shared.auth import Principal
from shared.dates import utc_today, week_start
from shared.reports.common import ReportScope, coverage, next_cursor, paging_of, report_scope
from shared.reports.data import sources, trends
from shared.reports.data.queries import ContentDecayQuery, DateRange, DecaySpans
from shared.reports.models.trends import ContentDecayItem, ContentDecayParams, ContentDecayReport
from shared.search_console.models import FRESH_DAYS, HISTORY_DAYS

NAME = "content-decay"
SPAN_DAYS = 28


def last_final_day() -> dt.date:
    """The last day Search Console has final data for: the FRESH_DAYS before today are still provisional."""
    return utc_today() - dt.timedelta(days=FRESH_DAYS + 1)


def current_end(scope: ReportScope, params: ContentDecayParams) -> dt.date:
    """``end_date``, or the last final day with data (a span over provisional days would understate clicks)."""
    if params.end_date is not None:
        return params.end_date
    latest = sources.latest_date(scope.session, scope.property_id, params.search_type)
    return min(latest, last_final_day()) if latest else last_final_day()


def decay_spans(end: dt.date) -> DecaySpans:
    start = end - dt.timedelta(days=SPAN_DAYS - 1)
    history_start = end - dt.timedelta(days=HISTORY_DAYS - 1)
    # A week's span starts 21 days before its Monday and ends 6 days after it.
    return DecaySpans(
        current=DateRange(start, end),
        first_peak_week=week_start(history_start + dt.timedelta(days=21 + 6)),
        last_peak_week=week_start(end + dt.timedelta(days=1)) - dt.timedelta(weeks=1),
        first_current_week=week_start(start + dt.timedelta(days=6)),
    )


def run(
    principal: Principal, project_id: uuid.UUID, property_id: uuid.UUID, params: ContentDecayParams
) -> ContentDecayReport:
    with report_scope(principal, project_id, property_id) as scope:
        spans = decay_spans(current_end(scope, params))
        paging = paging_of(params)
        page = trends.content_decay(
            scope.session,
            ContentDecayQuery(
                property_id=scope.property_id,
                search_type=params.search_type,
                spans=spans,
                threshold=params.threshold,
                min_peak_clicks=params.min_peak_clicks,
                paging=paging,
            ),
        )
        items = [
            ContentDecayItem(
                page=row.page,
                clicks=row.clicks,
                peak_clicks=row.peak_clicks,
                peak_start=row.peak_start,
                peak_end=row.peak_end,
                ratio=row.clicks / row.peak_clicks,
                clicks_lost=row.clicks_lost,
            )
            for row in page.rows
        ]
        return ContentDecayReport(
            report=NAME,
            property_id=property_id,
            coverage=coverage(scope, scope.data(params.search_type, spans.current)),
            items=items,
            total_items=page.total,
            next_cursor=next_cursor(paging, page.total),
        )
