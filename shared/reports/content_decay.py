"""Content decay: pages whose last 28 days fell well below their best 28 days of the past 16 months."""

import datetime as dt
import uuid

from shared.auth import Principal
from shared.dates import utc_today
from shared.reports.common import ReportScope, Window, coverage, report_scope
from shared.reports.data import sources, trends
from shared.reports.data.trends import DecayWindows
from shared.reports.models.base import Source
from shared.reports.models.trends import ContentDecayItem, ContentDecayParams, ContentDecayReport
from shared.search_console.models import FRESH_DAYS, HISTORY_DAYS

NAME = "content-decay"
WINDOW_DAYS = 28


def last_final_day() -> dt.date:
    """The last day Search Console has final data for: the FRESH_DAYS before today are still provisional."""
    return utc_today() - dt.timedelta(days=FRESH_DAYS + 1)


def current_end(scope: ReportScope, params: ContentDecayParams) -> dt.date:
    """``end_date``, or the last final day with data (a window over provisional days would understate clicks)."""
    if params.end_date is not None:
        return params.end_date
    latest = sources.latest_date(scope.session, scope.property_id, params.search_type, raw=scope.raw)
    return min(latest, last_final_day()) if latest else last_final_day()


def decay_windows(end: dt.date) -> DecayWindows:
    start = end - dt.timedelta(days=WINDOW_DAYS - 1)
    history_start = end - dt.timedelta(days=HISTORY_DAYS - 1)
    # A week's window starts 21 days before its Monday and ends 6 days after it.
    first_peak_week = sources.week_start(history_start + dt.timedelta(days=21 + 6))
    last_peak_week = sources.week_start(end + dt.timedelta(days=1)) - dt.timedelta(weeks=1)
    return DecayWindows(
        start=start,
        end=end,
        first_peak_week=first_peak_week,
        last_peak_week=last_peak_week,
        first_current_week=sources.week_start(start + dt.timedelta(days=6)),
    )


def run(
    principal: Principal,
    project_id: uuid.UUID,
    property_id: uuid.UUID,
    params: ContentDecayParams,
    *,
    source: Source = "rollup",
) -> ContentDecayReport:
    with report_scope(principal, project_id, property_id, source) as scope:
        windows = decay_windows(current_end(scope, params))
        window = Window.of(params)
        page = trends.content_decay(
            scope.session,
            scope.property_id,
            params.search_type,
            windows,
            threshold=params.threshold,
            min_peak_clicks=params.min_peak_clicks,
            raw=scope.raw,
            offset=window.offset,
            limit=window.limit,
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
            coverage=coverage(scope, params.search_type, windows.start, windows.end),
            items=items,
            total_items=page.total,
            next_cursor=window.next_cursor(page.total),
        )
