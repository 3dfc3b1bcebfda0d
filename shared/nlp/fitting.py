"""The topic_model worker: one ``topic_model`` job from corpus to current model version.

Through the one job lifecycle: the job runs; the corpus (each analysable page's text the service last read)
goes to S3 as gzip JSON Lines; the service fits the model (choosing k) and stores it under the project's models
prefix; its documents' distributions are read back; the version, its topics and the pages' weights are stored,
made current and the job finished with the version, all in the transaction that completes the unit of work.
Too few pages, or a corpus the service refuses, fail the job with the reason. A job runs to completion once
(``RunOnce`` on its id); a rerun after a crash rebuilds the same corpus, and the service, deterministic for the
same corpus and seed, answers the same version, stored once.
"""

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

from shared.db import tenant_transaction
from shared.errors import NotFound, PermanentError
from shared.jobs import lifecycle
from shared.jobs.data import jobs
from shared.jobs.models import LIVE_STATUSES, JobKind, JobStatus
from shared.nlp import corpus
from shared.nlp.client import TopicFit, client
from shared.nlp.data import texts
from shared.nlp.data import topics as topic_data
from shared.nlp.data.topics import NewTopic
from shared.nlp.labels import topic_label
from shared.nlp.models import FitTopicsMessage
from shared.nlp.tables import TopicModel
from shared.observability import logger
from shared.runtime.work import RunOnce, Work
from shared.settings import NlpModels, Topics, settings_of

SEED = 42
LEASE = timedelta(minutes=16)  # longer than the function's 900 s: a live fit is never taken over


def rule_for(message: FitTopicsMessage) -> RunOnce:
    return RunOnce(message.tenant_id, f"topic_model:{message.job_id}", lease=LEASE)


def too_few(documents: int, *, min_documents: int, min_words: int) -> str:
    return (
        f"Too few pages to find topics in: {documents} analysed page{'s' if documents != 1 else ''} of a supported "
        f"language with at least {min_words} words, and a topic model needs {min_documents}. Crawl more of the "
        "site (or wait until its pages are analysed), then ask again."
    )


def fit(message: FitTopicsMessage, work: Work) -> None:
    settings, bucket = settings_of(Topics), settings_of(NlpModels).nlp_models_bucket
    tenant_id, job_id = message.tenant_id, message.job_id
    with tenant_transaction(tenant_id) as session:
        job = jobs.get(session, job_id, kind=JobKind.TOPIC_MODEL)
        if JobStatus(job.status) not in LIVE_STATUSES:
            return  # cancelled (or finished by an earlier delivery)
        if job.project_id is None:
            raise NotFound(f"Topic job {job_id} belongs to no project.")
        project_id = job.project_id
        lifecycle.start(session, job_id)
    key = corpus.corpus_key(tenant_id, project_id, job_id)
    with tenant_transaction(tenant_id) as session:
        corpus_at = topic_data.now(session)
        documents = corpus.upload_corpus(
            bucket, key, texts.corpus_texts(session, project_id, min_words=settings.topic_min_words)
        )
    counters: dict[str, object] = {"documents": documents, "corpus_key": key}
    if documents < settings.topic_min_documents:
        with work.finish() as session:
            reason = too_few(documents, min_documents=settings.topic_min_documents, min_words=settings.topic_min_words)
            lifecycle.fail(session, job_id, reason, counters=counters)
        return
    with tenant_transaction(tenant_id) as session:
        lifecycle.report_progress(session, job_id, percent=10, counters=counters | {"stage": "fitting"})
    try:
        fitted = client().fit_topics(
            corpus_bucket=bucket,
            corpus_key=key,
            output_bucket=bucket,
            output_prefix=corpus.models_prefix(tenant_id, project_id),
            seed=SEED,
        )
    except PermanentError as exc:  # the service refused the corpus: nothing a retry would change
        with work.finish() as session:
            lifecycle.fail(session, job_id, f"The NLP service could not fit topics: {exc.detail}", counters=counters)
        return
    with tenant_transaction(tenant_id) as session:
        lifecycle.report_progress(session, job_id, percent=80, counters=counters | {"stage": "storing"})
    with work.finish() as session:
        if JobStatus(jobs.get(session, job_id, for_update=True).status) not in LIVE_STATUSES:
            return  # cancelled while the service fitted: the version is not made current
        model = topic_data.model_of_version(session, project_id, fitted.version)
        new = model is None
        if model is None:
            model = topic_data.store_model(session, _model_row(project_id, job_id, fitted, corpus_at), _topics(fitted))
            weights = topic_data.store_page_weights(session, project_id, model.id, _weights(bucket, fitted))
        else:
            weights = 0
        topic_data.make_current(session, project_id, model.id)
        lifecycle.finish(
            session,
            job_id,
            lifecycle.Outcome(succeeded=fitted.documents),
            counters=counters
            | {
                "version": fitted.version,
                "model_id": str(model.id),
                "k": fitted.k,
                "coherence": fitted.coherence,
                "page_weights": weights,
                "new_version": new,
            },
        )
    logger.info(
        "Topic model fitted",
        extra={"job_id": str(job_id), "version": fitted.version, "k": fitted.k, "documents": fitted.documents},
    )


def _model_row(project_id: uuid.UUID, job_id: uuid.UUID, fitted: TopicFit, corpus_at: datetime) -> TopicModel:
    return TopicModel(
        project_id=project_id,
        job_id=job_id,
        version=fitted.version,
        k=fitted.k,
        why=fitted.why,
        candidates=[candidate.model_dump() for candidate in fitted.candidates],
        coherence=fitted.coherence,
        coherence_measure=fitted.coherence_measure,
        seed=fitted.seed,
        documents=fitted.documents,
        dictionary_size=fitted.dictionary_size,
        s3_bucket=fitted.location.bucket,
        s3_prefix=fitted.location.prefix,
        corpus_at=corpus_at,
    )


def _topics(fitted: TopicFit) -> list[NewTopic]:
    return [
        NewTopic(
            topic_id=topic.topic_id,
            label=topic_label([term.term for term in topic.terms]),
            terms=[term.model_dump() for term in topic.terms],
            coherence=topic.coherence,
        )
        for topic in fitted.topics
    ]


def _weights(bucket: str, fitted: TopicFit) -> Iterator[tuple[uuid.UUID, int, float]]:
    """(page, topic, weight) of every corpus document (the corpus holds only the project's pages)."""
    for document in corpus.distributions(fitted.location.bucket or bucket, fitted.documents_key):
        try:
            page_id = uuid.UUID(document.id)
        except ValueError as exc:
            raise PermanentError(f"The fit's documents name {document.id!r}, not a page of the corpus.") from exc
        for topic in document.topics:
            yield page_id, topic.topic_id, topic.weight
