"""A property with known Search Console rows, loaded the real way (chunk, gsc_ingest, rollup), for report tests."""

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from shared.auth import Principal
from shared.db import tenant_transaction
from shared.jobs.data import jobs
from shared.jobs.models import JobKind
from shared.projects import projects
from shared.projects.models import ProjectIn, PropertyIn
from shared.reports.data.sources import reading_raw_rows
from shared.search_console import chunks as gsc_chunks
from shared.search_console.ingest import load_chunk
from shared.search_console.models import LoadChunkMessage
from tests.support.http_events import ALL_PERMISSIONS
from tests.support.tenants import new_tenant

CHUNKS_BUCKET = "kestrel-test-chunks"  # tests/integration/conftest.py creates it


@dataclass(frozen=True)
class ReportSite:
    tenant_id: str
    project_id: uuid.UUID
    property_id: uuid.UUID

    @property
    def principal(self) -> Principal:
        return Principal(subject="auth0|reports", tenant_id=self.tenant_id, permissions=frozenset(ALL_PERMISSIONS))

    @property
    def path(self) -> str:
        return f"/v1/projects/{self.project_id}/properties/{self.property_id}/reports"


def new_report_site(owner_url: str, *, brand_terms: list[str] | None = None) -> ReportSite:
    tenant_id = new_tenant(owner_url)
    principal = Principal(subject="auth0|reports", tenant_id=tenant_id, permissions=frozenset())
    domain = f"{tenant_id.replace('_', '-')}.example.com"
    project = projects.create_project(principal, ProjectIn(name="Site", domain=domain, brand_terms=brand_terms or []))
    prop = projects.create_property(principal, project.id, PropertyIn(site_url=f"https://{domain}/"))
    return ReportSite(tenant_id, project.id, prop.id)


def row(
    day: dt.date | str,
    query: str,
    page: str,
    clicks: int,
    impressions: int,
    position: float,
    *,
    country: str = "usa",
    device: str = "DESKTOP",
    search_type: str = "web",
) -> dict[str, Any]:
    """One Search Analytics row as a chunk holds it."""
    return {
        "date": str(day),
        "search_type": search_type,
        "query": query,
        "page": page,
        "country": country,
        "device": device,
        "clicks": clicks,
        "impressions": impressions,
        "ctr": clicks / impressions if impressions else 0.0,
        "position": position,
    }


def load_rows(site: ReportSite, rows: list[dict[str, Any]], *, rollup: bool = True) -> None:
    """Load ``rows`` through gsc_ingest as one export chunk (re-loading a row revises it), then roll up."""
    with tenant_transaction(site.tenant_id) as session:
        job = jobs.create(
            session, kind=JobKind.GSC_EXPORT_IMPORT, project_id=site.project_id, input={}, created_by=None
        )
        job_id = job.id
    key = gsc_chunks.chunk_key(site.tenant_id, site.property_id, job_id, uuid.uuid4().hex)
    count = gsc_chunks.write_chunk(CHUNKS_BUCKET, key, rows)
    load_chunk(
        LoadChunkMessage(
            tenant_id=site.tenant_id,
            job_id=job_id,
            property_id=site.property_id,
            bucket=CHUNKS_BUCKET,
            key=key,
            rows=count,
        )
    )
    if rollup:
        roll_up(site)


def roll_up(site: ReportSite) -> None:
    from shared.reports.rollup import rollup_property

    rollup_property(site.tenant_id, site.property_id)


def raw_report[P, R](run: Callable[[Principal, uuid.UUID, uuid.UUID, P], R], site: ReportSite, params: P) -> R:
    """The report computed straight from ``gsc_rows``, without the rollup's aggregates: what they must agree with."""
    with reading_raw_rows():
        return run(site.principal, site.project_id, site.property_id, params)


def expected_measures(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Clicks, impressions, CTR and impression-weighted position of chunk rows, summed here in Python."""
    rows = list(rows)
    clicks = sum(r["clicks"] for r in rows)
    impressions = sum(r["impressions"] for r in rows)
    weighted = sum(r["position"] * r["impressions"] for r in rows)
    return {
        "clicks": clicks,
        "impressions": impressions,
        "ctr": clicks / impressions if impressions else None,
        "position": weighted / impressions if impressions else None,
    }
