"""Finishing a crawl: inlinks, the site audit's findings, and the job's final status, in one transaction."""

import uuid
from collections import defaultdict
from collections.abc import Sequence

from shared.crawl import job as crawl_job
from shared.crawl.audit import AuditLink, audit
from shared.crawl.data import audit as audit_data
from shared.crawl.data import frontier
from shared.crawl.models import CrawlProgress
from shared.db import TenantSession, tenant_transaction
from shared.jobs import lifecycle
from shared.nlp import enqueue as nlp_enqueue
from shared.observability import logger


def progress_of(session: TenantSession, job_id: uuid.UUID, *, finished: bool = False) -> CrawlProgress:
    """Counted from the frontier; a finished crawl is at 100 percent, a running one below it."""
    counts = frontier.counts(session, job_id)
    discovered = sum(counts.values())
    done = counts["fetched"] + counts["failed"] + counts["blocked"]
    return CrawlProgress(
        discovered=discovered,
        fetched=counts["fetched"],
        failed=counts["failed"],
        blocked=counts["blocked"],
        queued=counts["queued"] + counts["claimed"],
        percent=100 if finished else 0 if discovered == 0 else min(99, done * 100 // discovered),
    )


def count_inlinks(links: Sequence[AuditLink]) -> dict[str, int]:
    """Each target's inlinks: the distinct other pages linking to it."""
    sources: dict[str, set[str]] = defaultdict(set)
    for link in links:
        if link.source_url != link.target_url:
            sources[link.target_url].add(link.source_url)
    return {target: len(linking) for target, linking in sources.items()}


def finish_crawl(tenant_id: str, job_id: uuid.UUID) -> bool:
    """Audit and finish the crawl unless it already finished (or was cancelled); True when this call did."""
    with tenant_transaction(tenant_id) as session:
        crawl = crawl_job.load(session, job_id, for_update=True)  # one finisher, whichever batch ends last
        # URLs still queued or held (a batch settled them after the caller looked): not the end yet
        if not crawl.live or frontier.has_claimable(session, job_id) or frontier.has_live_claims(session, job_id):
            return False
        audit_data.settle_depths(session, job_id)
        links = audit_data.internal_links(session, job_id)
        inlinks = count_inlinks(links)
        audit_data.store_inlinks(session, job_id, inlinks)
        pages = audit_data.audit_pages(session, job_id, inlinks)
        findings = audit(pages, links)
        audit_data.store_findings(session, job_id, findings)
        progress = progress_of(session, job_id)
        status = lifecycle.finish(
            session,
            job_id,
            lifecycle.Outcome(succeeded=progress.fetched, failed=progress.failed),
            counters=progress.model_dump(exclude={"percent"}) | {"issues": len(findings)},
        )
    # Whatever a batch's relay lost: nlp_entities takes every unconsumed event of the project, then sees the crawl
    # has ended (the topic refit waits for it).
    nlp_enqueue.relay_page_changes(tenant_id, crawl.project_id)
    logger.info(
        "Crawl finished",
        extra={"job_id": str(job_id), "status": status, "pages": len(pages), "issues": len(findings)},
    )
    return True
