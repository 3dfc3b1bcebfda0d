"""The texts the NLP service reads: each page's latest main text (from the crawl's snapshots)."""

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on

from shared.crawl.tables import CrawledPage, PageSnapshot
from shared.db import TenantSession
from shared.nlp.tables import NlpPageState


@dataclass(frozen=True)
class PageText:
    page_id: uuid.UUID
    content_hash: str
    text: str | None
    lang: str | None  # what the page declares (<html lang>)


def latest_texts(session: TenantSession, page_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, PageText]:
    """Each page's latest snapshot that had on-page facts (a page that failed since keeps its last content)."""
    if not page_ids:
        return {}
    rows = session.execute(
        select(PageSnapshot.page_id, PageSnapshot.content_hash, PageSnapshot.main_text, PageSnapshot.lang)
        .where(
            PageSnapshot.tenant_id == session.tenant_id,
            PageSnapshot.page_id.in_(list(page_ids)),
            PageSnapshot.content_hash.is_not(None),
        )
        .order_by(PageSnapshot.page_id, PageSnapshot.created_at.desc())
        .ext(distinct_on(PageSnapshot.page_id))
    ).all()
    return {row.page_id: PageText(row.page_id, row.content_hash, row.main_text, row.lang) for row in rows}


def current_hashes(session: TenantSession, page_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str | None]:
    """Each page's latest content hash as the crawl recorded it (``crawled_pages``)."""
    if not page_ids:
        return {}
    rows = session.execute(
        select(CrawledPage.id, CrawledPage.content_hash).where(
            CrawledPage.tenant_id == session.tenant_id, CrawledPage.id.in_(list(page_ids))
        )
    ).all()
    return {row.id: row.content_hash for row in rows}


def corpus_texts(
    session: TenantSession, project_id: uuid.UUID, *, min_words: int, batch: int = 500
) -> Iterator[tuple[uuid.UUID, str]]:
    """The topic corpus: the text the service last analysed of each page of a supported language with at least
    ``min_words`` words, in page id order (the same pages give the same corpus bytes), streamed."""
    stmt = (
        select(PageSnapshot.page_id, PageSnapshot.main_text)
        .join(
            NlpPageState,
            (NlpPageState.page_id == PageSnapshot.page_id) & (NlpPageState.content_hash == PageSnapshot.content_hash),
        )
        .where(
            NlpPageState.tenant_id == session.tenant_id,
            NlpPageState.project_id == project_id,
            NlpPageState.supported,
            NlpPageState.words >= min_words,
            PageSnapshot.main_text.is_not(None),
        )
        .order_by(PageSnapshot.page_id, PageSnapshot.created_at.desc())
        .ext(distinct_on(PageSnapshot.page_id))
        .execution_options(yield_per=batch)
    )
    for row in session.execute(stmt):
        if row.main_text:
            yield row.page_id, row.main_text
