"""A project's topics as the API offers them: the current model's topics, a topic's pages, a refit on request."""

import uuid

from shared.auth import Principal
from shared.db import TenantSession
from shared.errors import NotFound
from shared.jobs.models import JobOut
from shared.models import Page
from shared.nlp import cursors, enqueue, refit
from shared.nlp.data import topics as topic_data
from shared.nlp.models import CandidateOut, TermOut, TopicModelOut, TopicOut, TopicPageOut, TopicsOut
from shared.nlp.tables import TopicModel
from shared.projects.data import projects
from shared.settings import Topics, settings_of
from shared.tenancy.scope import tenant_scope


def _current(session: TenantSession, project_id: uuid.UUID) -> TopicModel:
    projects.get(session, project_id)
    model = topic_data.current_model(session, project_id)
    if model is None:
        settings = settings_of(Topics)
        raise NotFound(
            f"Project {project_id} has no topic model yet. One is fitted once a crawl's pages are analysed and at "
            f"least {settings.topic_min_documents} of them are in a supported language with "
            f"{settings.topic_min_words} words or more; start one now with POST .../topics/refit."
        )
    return model


def model_out(model: TopicModel) -> TopicModelOut:
    return TopicModelOut(
        id=model.id,
        version=model.version,
        k=model.k,
        why=model.why,
        candidates=[CandidateOut.model_validate(candidate) for candidate in model.candidates],
        coherence=model.coherence,
        coherence_measure=model.coherence_measure,
        seed=model.seed,
        documents=model.documents,
        dictionary_size=model.dictionary_size,
        job_id=model.job_id,
        created_at=model.created_at,
    )


def current_topics(principal: Principal, project_id: uuid.UUID, *, limit: int, cursor: str | None) -> TopicsOut:
    """The current version's topics in topic order, with their top terms and how many pages weigh in each."""
    after = None if cursor is None else cursors.decode(cursor, int)[0]
    with tenant_scope(principal) as session:
        model = _current(session, project_id)
        rows = topic_data.topics_of(session, model.id, limit=limit, after=after)
        more, rows = len(rows) > limit, rows[:limit]
        pages = topic_data.pages_per_topic(session, project_id, model.id, [row.topic_id for row in rows])
    items = [
        TopicOut(
            id=row.topic_id,
            label=row.label,
            terms=[TermOut.model_validate(term) for term in row.terms],
            coherence=row.coherence,
            pages=pages.get(row.topic_id, 0),
        )
        for row in rows
    ]
    return TopicsOut(
        items=items,
        next_cursor=cursors.encode(rows[-1].topic_id) if more and rows else None,
        model=model_out(model),
    )


def topic_pages(
    principal: Principal, project_id: uuid.UUID, topic_id: int, *, limit: int, cursor: str | None
) -> Page[TopicPageOut]:
    """The pages of a topic of the current version, heaviest first."""
    after = None if cursor is None else cursors.decode(cursor, float, uuid.UUID)
    with tenant_scope(principal) as session:
        model = _current(session, project_id)
        if topic_data.topic(session, model.id, topic_id) is None:
            raise NotFound(f"The current topic model of project {project_id} has no topic {topic_id} (k = {model.k}).")
        rows = topic_data.topic_pages(session, project_id, model.id, topic_id, limit=limit, after=after)
    more, rows = len(rows) > limit, rows[:limit]
    last = rows[-1] if rows else None
    return Page[TopicPageOut](
        items=[TopicPageOut(id=r.page_id, url=r.url, title=r.title, weight=r.weight) for r in rows],
        next_cursor=cursors.encode(last.weight, last.page_id) if more and last else None,
    )


def request_refit(principal: Principal, project_id: uuid.UUID) -> JobOut:
    """A ``topic_model`` job for the project (409 while one is live), sent to topic_model once committed."""
    with tenant_scope(principal) as session:
        projects.get(session, project_id)
        job = refit.request(session, project_id, created_by=principal.subject)
    enqueue.fit_topics(principal.tenant_id, job.id)
    return job
