"""When a project's topic model is fitted (again): the refit threshold after page changes, or a user's request.

Either way the fit is a ``topic_model`` job, started under the project's fit lock so that at most one is live,
and sent to topic_model's queue after its transaction committed (the worker must find the job).
"""

import uuid
from dataclasses import dataclass

from shared.crawl.data.schedule import live_crawl
from shared.db import TenantSession, tenant_transaction
from shared.errors import Conflict
from shared.jobs.data import jobs
from shared.jobs.models import JobKind, JobOut
from shared.nlp import enqueue
from shared.nlp.data import events
from shared.nlp.data import topics as topic_data
from shared.observability import logger
from shared.settings import Topics, settings_of

THRESHOLD_STARTER = "refit-threshold"


@dataclass(frozen=True)
class RefitCheck:
    """What the threshold is decided on."""

    analysable: int  # pages of a supported language with enough words
    changed: int  # of them, analysed since the current model's corpus was read (all: no model yet)
    pending_events: int  # page changes still to analyse
    crawl_running: bool
    fit_running: bool


def refit_due(check: RefitCheck, *, threshold: float, min_documents: int) -> bool:
    """A fit when the share of analysable pages changed since the last fit reaches ``threshold`` and there are
    enough pages; never while a fit runs, and not before the project's changes are all analysed (a crawl still
    running, events left): one fit per crawl, over all of it, rather than one per batch."""
    if check.fit_running or check.crawl_running or check.pending_events:
        return False
    if check.analysable < min_documents:
        return False
    return check.changed / check.analysable >= threshold


def _start(session: TenantSession, project_id: uuid.UUID, *, trigger: str, created_by: str) -> uuid.UUID:
    job = jobs.create(
        session, kind=JobKind.TOPIC_MODEL, project_id=project_id, input={"trigger": trigger}, created_by=created_by
    )
    return job.id


def start_if_due(tenant_id: str, project_id: uuid.UUID) -> uuid.UUID | None:
    """nlp_entities, after its work: start a fit if the threshold says so; the job's id, or None."""
    settings = settings_of(Topics)
    with tenant_transaction(tenant_id) as session:
        topic_data.lock_fits(session, project_id)
        current = topic_data.current_model(session, project_id)
        counts = topic_data.analysable(
            session,
            project_id,
            min_words=settings.topic_min_words,
            changed_since=None if current is None else current.corpus_at,
        )
        check = RefitCheck(
            analysable=counts.pages,
            changed=counts.changed,
            pending_events=events.pending(session, project_id),
            crawl_running=live_crawl(session, project_id) is not None,
            fit_running=topic_data.live_fit(session, project_id) is not None,
        )
        if not refit_due(check, threshold=settings.topic_refit_threshold, min_documents=settings.topic_min_documents):
            return None
        job_id = _start(session, project_id, trigger="threshold", created_by=THRESHOLD_STARTER)
    logger.info(
        "Topic refit started",
        extra={"project_id": str(project_id), "job_id": str(job_id), "changed": check.changed, "of": check.analysable},
    )
    enqueue.fit_topics(tenant_id, job_id)
    return job_id


def request(session: TenantSession, project_id: uuid.UUID, *, created_by: str) -> JobOut:
    """A user's refit (in the caller's transaction; send it with ``enqueue.fit_topics`` after the commit)."""
    topic_data.lock_fits(session, project_id)
    running = topic_data.live_fit(session, project_id)
    if running is not None:
        raise Conflict(f"Topic fit {running.id} of this project is still running; wait for it to finish.")
    job_id = _start(session, project_id, trigger="requested", created_by=created_by)
    return JobOut.model_validate(jobs.get(session, job_id))
