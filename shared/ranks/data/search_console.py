"""SQL of what the rank routes read from Search Console: the project's property, a query's numbers by
country and device.

The rollup's aggregates are over countries and devices, so a query's numbers for one country and device come
from ``gsc_rows`` (its primary key leads with property, date and search type, then query). The CTR buckets
are the reports' own (``shared.reports.data.search.ctr_buckets``).
"""

import datetime as dt
import uuid
from typing import NamedTuple

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, TEXT

from shared.db import TenantSession
from shared.search_console.models import SearchType

SEARCH_TYPE: SearchType = "web"  # rank checks are Google's web results

_DEFAULT_PROPERTY = text(
    "SELECT id FROM properties WHERE project_id = :project_id ORDER BY status = 'active' DESC, created_at, id LIMIT 1"
)


def default_property(session: TenantSession, project_id: uuid.UUID) -> uuid.UUID | None:
    """The project's first property (active ones first), or None when it has none."""
    found: uuid.UUID | None = session.execute(_DEFAULT_PROPERTY, {"project_id": project_id}).scalar_one_or_none()
    return found


class QueryNumbers(NamedTuple):
    query: str
    country: str  # alpha-3, lower case
    device: str  # DESKTOP, MOBILE, TABLET
    clicks: int
    impressions: int
    position_weighted: float


_QUERY_NUMBERS = text(
    "SELECT query, country, device, CAST(sum(clicks) AS bigint) AS clicks,"
    " CAST(sum(impressions) AS bigint) AS impressions, sum(position * impressions) AS position_weighted"
    " FROM gsc_rows WHERE property_id = :property_id AND search_type = :search_type"
    " AND date BETWEEN :start AND :end AND query = ANY(:queries)"
    " GROUP BY query, country, device"
).bindparams(bindparam("queries", type_=ARRAY(TEXT)))


def query_numbers(
    session: TenantSession, property_id: uuid.UUID, start: dt.date, end: dt.date, queries: list[str]
) -> list[QueryNumbers]:
    """The web search numbers of each of ``queries`` per country and device over the days."""
    if not queries:
        return []
    rows = session.execute(
        _QUERY_NUMBERS,
        {"property_id": property_id, "search_type": SEARCH_TYPE, "start": start, "end": end, "queries": queries},
    )
    return [
        QueryNumbers(
            row.query, row.country, row.device, int(row.clicks), int(row.impressions), float(row.position_weighted)
        )
        for row in rows
    ]
