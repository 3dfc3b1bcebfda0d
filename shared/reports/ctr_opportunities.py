"""CTR opportunities: rows whose CTR falls short of the property's own CTR curve, by the clicks it would bring.

The curve is the property's CTR by position over the range: the (query, page)
pairs are bucketed by rounded average position (1 to 20, the last holding 20
and beyond) and ``ln(ctr) = a + b ln(position)`` is fitted over the buckets
with clicks by least squares weighted by impressions. A row's expected CTR is
``min(1, exp(a) * position^b)`` at its own average position; SQL ranks the rows
by ``expected_ctr * impressions - clicks`` with ``a`` and ``b`` bound.
"""

import math
import uuid
from collections.abc import Sequence

from shared.auth import Principal
from shared.reports.common import coverage, measures, next_cursor, paging_of, report_scope, resolve_range
from shared.reports.data import search
from shared.reports.data.queries import CtrBucket, CtrBucketsQuery, CtrOpportunitiesQuery
from shared.reports.models.search import (
    CTR_CURVE_MAX_POSITION,
    CtrCurve,
    CtrCurvePoint,
    CtrOpportunitiesParams,
    CtrOpportunitiesReport,
    CtrOpportunityItem,
)

NAME = "ctr-opportunities"
MIN_CURVE_BUCKETS = 2  # a line needs two points


def expected_ctr(a: float, b: float, position: float) -> float:
    return min(1.0, math.exp(a) * math.pow(position, b))


def fit_curve(buckets: Sequence[CtrBucket]) -> CtrCurve | None:
    """The weighted least-squares fit of ln(ctr) on ln(position) over buckets with clicks; None under two."""
    usable = [bucket for bucket in buckets if bucket.clicks > 0]
    if len(usable) < MIN_CURVE_BUCKETS:
        return None
    sw = swx = swy = swxx = swxy = 0.0
    for position, clicks, impressions in usable:
        x, y, w = math.log(position), math.log(clicks / impressions), float(impressions)
        sw += w
        swx += w * x
        swy += w * y
        swxx += w * x * x
        swxy += w * x * y
    slope = (sw * swxy - swx * swy) / (sw * swxx - swx * swx)  # distinct positions: the denominator is positive
    intercept = (swy - slope * swx) / sw
    points = [
        CtrCurvePoint(
            position=b.position,
            impressions=b.impressions,
            clicks=b.clicks,
            observed_ctr=b.clicks / b.impressions,
            expected_ctr=expected_ctr(intercept, slope, b.position),
        )
        for b in buckets
    ]
    return CtrCurve(a=intercept, b=slope, points=points)


def run(
    principal: Principal, project_id: uuid.UUID, property_id: uuid.UUID, params: CtrOpportunitiesParams
) -> CtrOpportunitiesReport:
    """The curve, then the rows at the level asked for with the most clicks missing against it."""
    with report_scope(principal, project_id, property_id) as scope:
        dates = resolve_range(scope, params)
        paging = paging_of(params)
        data = scope.data(params.search_type, dates)
        curve = fit_curve(search.ctr_buckets(scope.session, CtrBucketsQuery(data, CTR_CURVE_MAX_POSITION)))
        items: list[CtrOpportunityItem] = []
        total = 0
        if curve is not None:
            page = search.ctr_opportunities(
                scope.session,
                CtrOpportunitiesQuery(
                    data=data,
                    level=params.level,
                    a=curve.a,
                    b=curve.b,
                    min_impressions=params.min_impressions,
                    paging=paging,
                ),
            )
            items = [
                CtrOpportunityItem(
                    query=row.query,
                    page=row.page,
                    **measures(row.clicks, row.impressions, row.position_weighted),
                    expected_ctr=row.expected_ctr,
                    extra_clicks=row.extra_clicks,
                )
                for row in page.rows
            ]
            total = page.total
        return CtrOpportunitiesReport(
            report=NAME,
            property_id=property_id,
            coverage=coverage(scope, data),
            items=items,
            total_items=total,
            next_cursor=next_cursor(paging, total),
            curve=curve,
        )
