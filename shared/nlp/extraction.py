"""The nlp_entities worker: a project's changed pages through the NLP service into entities and aggregates.

A message names a project; the work is its unconsumed page-changed events, a batch at a time. Each batch is
one transaction: claim the oldest events (row locks, skipping those another invocation holds), read each page's
latest main text, skip a page whose content hash was already analysed, send the rest to the service, then,
under the project's entity lock, replace the pages' entity rows, move the aggregates, write the pages' states
(an unsupported language recorded with the service's reason) and mark the events consumed. A failure rolls
all of it back (the events wait for the retry); a redelivery finds the events consumed or the hashes analysed,
and changes nothing. Work is bounded per invocation: with events left it sends its project's message again.
After its batches it checks the topic refit threshold.
"""

import time
import uuid
from dataclasses import dataclass

from shared.db import TenantSession, tenant_transaction
from shared.nlp import aggregate, enqueue, refit
from shared.nlp.client import Document, EntitiesResult, client
from shared.nlp.data import entities as entity_data
from shared.nlp.data import events, texts
from shared.nlp.data.entities import PageAnalysis
from shared.nlp.data.texts import PageText
from shared.nlp.models import PageChangesMessage
from shared.observability import logger
from shared.runtime.work import ByConstruction, Work

EVENTS_PER_BATCH = 64  # one request to the service (its limit), when the pages are not too long
TIME_BUDGET_SECONDS = 90.0  # well inside the function's 180 s: the batch started last runs to its end
NO_TEXT = "The page has no main text to analyse."

IDEMPOTENCY = ByConstruction(
    "events are claimed with row locks and marked consumed in the transaction that stores their pages' entities; "
    "a page whose content hash was analysed is not analysed again"
)


@dataclass(frozen=True)
class BatchResult:
    events: int  # claimed and consumed
    analysed: int  # pages sent to the service
    skipped: int  # pages whose content was analysed already


def analysis_of(project_id: uuid.UUID, page: PageText, answer: EntitiesResult | None) -> PageAnalysis:
    """What to store of a page from the service's answer (or of a page without text, which is not sent)."""
    result = None if answer is None else answer.documents.get(str(page.page_id))
    if answer is None or result is None:
        return PageAnalysis(page.page_id, page.content_hash, page.lang, False, NO_TEXT, None, None, 0, False, ())
    doc, pipeline = result.result, answer.pipeline
    return PageAnalysis(
        page_id=page.page_id,
        content_hash=page.content_hash,
        language=doc.language,
        supported=doc.supported,
        reason=doc.reason,
        pipeline_name=pipeline.name if pipeline else None,
        pipeline_version=pipeline.version if pipeline else None,
        words=doc.words,
        truncated=result.truncated,
        entities=aggregate.page_rows(project_id, doc.entities) if doc.supported else (),
    )


def _to_analyse(session: TenantSession, pages: dict[uuid.UUID, PageText]) -> list[PageText]:
    """The pages whose latest content is not the one analysed."""
    done = entity_data.processed_hashes(session, list(pages))
    return [page for page_id, page in pages.items() if done.get(page_id) != page.content_hash]


def run_batch(tenant_id: str, project_id: uuid.UUID) -> BatchResult:
    """One batch of the project's events, in one transaction; ``events == 0``: none left to claim."""
    with tenant_transaction(tenant_id) as session:
        claimed = events.claim(session, project_id, limit=EVENTS_PER_BATCH)
        if not claimed:
            return BatchResult(0, 0, 0)
        pages = texts.latest_texts(session, list(dict.fromkeys(event.page_id for event in claimed)))
        wanted = _to_analyse(session, pages)
        documents = [Document(str(p.page_id), p.text, p.lang) for p in wanted if p.text and p.text.strip()]
        answer = client().entities(documents) if documents else None  # the claims are held meanwhile
        entity_data.lock_project(session, project_id)
        # Another invocation may have stored some of these pages while the service answered (an event of the
        # same page it claimed), and a crawl may have recorded newer content: store only what is still news.
        still_wanted = {p.page_id for p in _to_analyse(session, {p.page_id: p for p in wanted})}
        latest = texts.current_hashes(session, list(still_wanted))
        analyses = [
            analysis_of(project_id, page, answer)
            for page in wanted
            if page.page_id in still_wanted and latest.get(page.page_id) in (None, page.content_hash)
        ]
        entity_data.store(session, project_id, analyses)
        events.mark_consumed(session, [event.id for event in claimed])
    return BatchResult(len(claimed), len(documents), len(pages) - len(wanted))


def process_project(tenant_id: str, project_id: uuid.UUID) -> bool:
    """Batches until no event is left to claim or the time budget is spent; True when events were left."""
    deadline = time.monotonic() + TIME_BUDGET_SECONDS
    totals = BatchResult(0, 0, 0)
    while True:
        result = run_batch(tenant_id, project_id)
        totals = BatchResult(
            totals.events + result.events, totals.analysed + result.analysed, totals.skipped + result.skipped
        )
        if result.events == 0:
            left = False
            break
        if time.monotonic() >= deadline:
            left = True
            break
    logger.info(
        "Page changes analysed",
        extra={
            "project_id": str(project_id),
            "events": totals.events,
            "analysed": totals.analysed,
            "skipped": totals.skipped,
            "events_left": left,
        },
    )
    return left


def handle(message: PageChangesMessage, work: Work) -> None:
    if process_project(message.tenant_id, message.project_id):
        enqueue.page_changes(message.tenant_id, message.project_id)  # the rest in the next invocation
        return
    refit.start_if_due(message.tenant_id, message.project_id)
