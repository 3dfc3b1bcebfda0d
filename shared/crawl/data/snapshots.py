"""Writing what a batch saw: each URL's page identity, its snapshot, its links, and the outbox of changed pages."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from shared.crawl.tables import CrawledPage, PageChangedEvent, PageLink, PageSnapshot
from shared.crawl.visit import Visit
from shared.db import TenantSession

# A multi-row INSERT wants the same columns in every row: pages without facts (errors, redirects, PDFs) have these.
_NO_FACTS: dict[str, object] = {
    "canonical": None,
    "canonical_source": None,
    "meta_robots": None,
    "x_robots_tag": None,
    "title": None,
    "meta_description": None,
    "h1s": [],
    "outline": [],
    "lang": None,
    "hreflang": [],
    "jsonld_types": [],
    "open_graph": {},
    "main_text": None,
    "word_count": None,
    "content_hash": None,
    "images_without_alt": [],
}


EMITTED = ("new", "changed")
"""The changes that put a page in the outbox for the NLP worker."""


@dataclass(frozen=True)
class Recorded:
    url: str
    page_id: uuid.UUID
    snapshot_id: uuid.UUID
    change: str | None


def record(
    session: TenantSession,
    *,
    project_id: uuid.UUID,
    job_id: uuid.UUID,
    visits: Sequence[Visit],
    html_keys: Mapping[str, str],
) -> list[Recorded]:
    """One snapshot per visited URL (a redelivered batch's second write of a URL is ignored)."""
    if not visits:
        return []
    urls = [v.claimed.url for v in visits]
    previous = {
        row.url: row.content_hash
        for row in session.execute(
            select(CrawledPage.url, CrawledPage.content_hash).where(
                CrawledPage.project_id == project_id, CrawledPage.url.in_(urls)
            )
        )
    }
    page_rows = []
    for v in visits:
        facts = v.facts
        page_rows.append(
            {
                "tenant_id": session.tenant_id,
                "project_id": project_id,
                "url": v.claimed.url,
                "title": facts.title if facts else None,
                "h1": facts.h1s[0] if facts and facts.h1s else None,
                "content_hash": facts.content_hash if facts else None,
                "last_job_id": job_id,
            }
        )
    statement = insert(CrawledPage).values(page_rows)
    page_ids = dict(
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[CrawledPage.project_id, CrawledPage.url],
                set_={
                    "title": statement.excluded.title,
                    "h1": statement.excluded.h1,
                    "content_hash": func.coalesce(statement.excluded.content_hash, CrawledPage.content_hash),
                    "last_job_id": statement.excluded.last_job_id,
                    "crawled_at": func.now(),
                },
            ).returning(CrawledPage.url, CrawledPage.id)
        ).all()
    )
    snapshot_rows = []
    changes: dict[str, str | None] = {}
    for v in visits:
        url = v.claimed.url
        facts, result = v.facts, v.result
        change = None
        if facts is not None:
            before = previous.get(url)
            change = "new" if before is None else "unchanged" if before == facts.content_hash else "changed"
        changes[url] = change
        row = {
            "tenant_id": session.tenant_id,
            "project_id": project_id,
            "job_id": job_id,
            "page_id": page_ids[url],
            "url": url,
            "final_url": result.final_url if result else url,
            "redirects": [{"url": hop.url, "status": hop.status} for hop in result.redirects] if result else [],
            "status": result.status if result else None,
            "content_type": result.content_type if result else None,
            "bytes": len(result.body) if result else 0,
            "charset": (facts.charset if facts else result.charset) if result else None,
            "response_ms": result.response_ms if result and result.status is not None else None,
            "truncated": result.truncated if result else False,
            "blocked": v.outcome == "blocked",
            "error_code": result.error.code if result and result.error else None,
            "error_message": result.error.message if result and result.error else None,
            "indexable": v.verdict.indexable,
            "indexability_reason": v.verdict.reason,
            "in_sitemap": v.claimed.in_sitemap,
            "in_search_console": v.claimed.in_search_console,
            "depth": v.claimed.depth,
            "change": change,
            "html_key": html_keys.get(url),
        }
        row |= _NO_FACTS
        if facts is not None:
            row |= {
                "canonical": facts.canonical,
                "canonical_source": facts.canonical_source,
                "meta_robots": facts.meta_robots,
                "x_robots_tag": facts.x_robots_tag,
                "title": facts.title,
                "meta_description": facts.meta_description,
                "h1s": list(facts.h1s),
                "outline": [list(item) for item in facts.outline],
                "lang": facts.lang,
                "hreflang": [list(item) for item in facts.hreflang],
                "jsonld_types": list(facts.jsonld_types),
                "open_graph": dict(facts.open_graph),
                "main_text": facts.main_text,
                "word_count": facts.word_count,
                "content_hash": facts.content_hash,
                "images_without_alt": list(facts.images_without_alt),
            }
        elif result is not None:
            row["x_robots_tag"] = result.headers.get("x-robots-tag")
        snapshot_rows.append(row)
    snapshot_ids = dict(
        session.execute(
            insert(PageSnapshot)
            .values(snapshot_rows)
            .on_conflict_do_nothing(index_elements=[PageSnapshot.job_id, PageSnapshot.url])
            .returning(PageSnapshot.url, PageSnapshot.id)
        ).all()
    )
    link_rows = [
        {
            "tenant_id": session.tenant_id,
            "snapshot_id": snapshot_ids[v.claimed.url],
            "position": position,
            "job_id": job_id,
            "target_url": link.url,
            "anchor_text": link.text,
            "rel": list(link.rel),
            "internal": link.internal,
        }
        for v in visits
        if v.facts is not None and v.claimed.url in snapshot_ids
        for position, link in enumerate(v.facts.links)
    ]
    if link_rows:
        session.execute(insert(PageLink), link_rows)
    events = [
        {
            "tenant_id": session.tenant_id,
            "project_id": project_id,
            "page_id": page_ids[v.claimed.url],
            "snapshot_id": snapshot_ids[v.claimed.url],
            "url": v.claimed.url,
            "content_hash": v.facts.content_hash,
            "change": changes[v.claimed.url],
        }
        for v in visits
        if v.facts is not None and v.claimed.url in snapshot_ids and changes[v.claimed.url] in EMITTED
    ]
    if events:
        session.execute(insert(PageChangedEvent), events)
    return [Recorded(url, page_ids[url], snapshot_ids[url], changes[url]) for url in urls if url in snapshot_ids]
