"""Topic models: when one is due, storing a fitted version with its topics and page weights, reading the current.

Starting a fit and checking none is live run under the project's advisory lock (``lock_fits``), so the refit
threshold and the API never start two fits of a project at once.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import psycopg
from sqlalchemy import and_, func, select, text, tuple_, update

from shared.crawl.tables import CrawledPage
from shared.db import TenantSession
from shared.jobs.models import LIVE_STATUSES, JobKind
from shared.jobs.tables import Job
from shared.nlp.tables import NlpPageState, PageTopic, Topic, TopicModel

FITS_LOCK_CLASS = 0x4E54  # "NT": starting a project's topic fit
_LOCK_PROJECT = text("SELECT pg_advisory_xact_lock(:lock_class, hashtext(CAST(:project_id AS text)))")


def lock_fits(session: TenantSession, project_id: uuid.UUID) -> None:
    session.execute(_LOCK_PROJECT, {"lock_class": FITS_LOCK_CLASS, "project_id": project_id})


def live_fit(session: TenantSession, project_id: uuid.UUID) -> Job | None:
    return session.scalar(
        select(Job)
        .where(
            Job.tenant_id == session.tenant_id,
            Job.project_id == project_id,
            Job.kind == JobKind.TOPIC_MODEL,
            Job.status.in_(LIVE_STATUSES),
        )
        .limit(1)
    )


@dataclass(frozen=True)
class Analysable:
    """The project's pages a topic model can use, and how many of them changed since a time."""

    pages: int
    changed: int


def analysable(
    session: TenantSession, project_id: uuid.UUID, *, min_words: int, changed_since: datetime | None
) -> Analysable:
    """Pages of a supported language with at least ``min_words`` words; ``changed``: analysed after
    ``changed_since`` (all of them when None: there is no model yet)."""
    changed = func.count() if changed_since is None else func.count().filter(NlpPageState.processed_at > changed_since)
    row = session.execute(
        select(func.count(), changed).where(
            NlpPageState.tenant_id == session.tenant_id,
            NlpPageState.project_id == project_id,
            NlpPageState.supported,
            NlpPageState.words >= min_words,
        )
    ).one()
    return Analysable(int(row[0]), int(row[1]))


def now(session: TenantSession) -> datetime:
    """The database's time (the one ``processed_at`` is written in)."""
    value: datetime = session.scalar(select(func.now()))  # type: ignore[assignment]
    return value


# ---------------------------------------------------------------- storing a fit


def current_model(session: TenantSession, project_id: uuid.UUID) -> TopicModel | None:
    return session.scalar(
        select(TopicModel).where(
            TopicModel.tenant_id == session.tenant_id, TopicModel.project_id == project_id, TopicModel.current
        )
    )


def model_of_version(session: TenantSession, project_id: uuid.UUID, version: str) -> TopicModel | None:
    return session.scalar(
        select(TopicModel).where(
            TopicModel.tenant_id == session.tenant_id,
            TopicModel.project_id == project_id,
            TopicModel.version == version,
        )
    )


@dataclass(frozen=True)
class NewTopic:
    topic_id: int
    label: str
    terms: list[dict[str, Any]]
    coherence: float | None


def store_model(session: TenantSession, model: TopicModel, topics: Sequence[NewTopic]) -> TopicModel:
    """A new version (not yet current) and its topics."""
    model.tenant_id = session.tenant_id
    session.add(model)
    session.flush()
    if topics:
        session.add_all(
            Topic(
                tenant_id=session.tenant_id,
                model_id=model.id,
                topic_id=topic.topic_id,
                label=topic.label,
                terms=topic.terms,
                coherence=topic.coherence,
            )
            for topic in topics
        )
        session.flush()
    return model


# COPY cannot write a table under row-level security: the rows go to a temporary table first, then one
# INSERT ... SELECT moves them (into the project's partition) under the tenant's policy.
_CREATE_STAGING = """
DROP TABLE IF EXISTS page_topics_staging;
CREATE TEMP TABLE page_topics_staging (page_id uuid NOT NULL, topic_id int4 NOT NULL, weight float8 NOT NULL)
ON COMMIT DROP
"""
_COPY_STAGING = "COPY page_topics_staging (page_id, topic_id, weight) FROM STDIN"
_MOVE_STAGED = text(
    """
    INSERT INTO page_topics (tenant_id, project_id, model_id, topic_id, page_id, weight)
    SELECT :tenant_id, :project_id, :model_id, topic_id, page_id, weight FROM page_topics_staging
    ORDER BY topic_id, page_id
    """
)


def store_page_weights(
    session: TenantSession,
    project_id: uuid.UUID,
    model_id: uuid.UUID,
    weights: Iterable[tuple[uuid.UUID, int, float]],
) -> int:
    """The version's (page, topic, weight) rows, COPYed as they stream, then stored; returns how many."""
    count = 0
    connection = cast(psycopg.Connection[Any], session.connection().connection.driver_connection)
    with connection.cursor() as cursor:
        cursor.execute(_CREATE_STAGING)
        with cursor.copy(_COPY_STAGING) as copy:
            copy.set_types(["uuid", "int4", "float8"])
            for page_id, topic_id, weight in weights:
                copy.write_row((page_id, topic_id, weight))
                count += 1
    session.execute(_MOVE_STAGED, {"tenant_id": session.tenant_id, "project_id": project_id, "model_id": model_id})
    return count


def make_current(session: TenantSession, project_id: uuid.UUID, model_id: uuid.UUID) -> None:
    session.execute(
        update(TopicModel)
        .where(
            TopicModel.tenant_id == session.tenant_id,
            TopicModel.project_id == project_id,
            TopicModel.current,
            TopicModel.id != model_id,
        )
        .values(current=False)
    )
    session.execute(update(TopicModel).where(TopicModel.id == model_id).values(current=True))


# ---------------------------------------------------------------- reads for the API


def topics_of(session: TenantSession, model_id: uuid.UUID, *, limit: int, after: int | None) -> list[Topic]:
    """Up to ``limit + 1`` of the version's topics, in topic order."""
    stmt = select(Topic).where(Topic.tenant_id == session.tenant_id, Topic.model_id == model_id)
    if after is not None:
        stmt = stmt.where(Topic.topic_id > after)
    return list(session.scalars(stmt.order_by(Topic.topic_id).limit(limit + 1)))


def topic(session: TenantSession, model_id: uuid.UUID, topic_id: int) -> Topic | None:
    return session.scalar(
        select(Topic).where(
            Topic.tenant_id == session.tenant_id, Topic.model_id == model_id, Topic.topic_id == topic_id
        )
    )


def pages_per_topic(
    session: TenantSession, project_id: uuid.UUID, model_id: uuid.UUID, topic_ids: Sequence[int]
) -> dict[int, int]:
    if not topic_ids:
        return {}
    rows = session.execute(
        select(PageTopic.topic_id, func.count())
        .where(
            PageTopic.project_id == project_id,
            PageTopic.model_id == model_id,
            PageTopic.topic_id.in_(list(topic_ids)),
        )
        .group_by(PageTopic.topic_id)
    ).all()
    return {int(topic_id): int(count) for topic_id, count in rows}


@dataclass(frozen=True)
class TopicPage:
    page_id: uuid.UUID
    url: str
    title: str | None
    weight: float


def topic_pages(
    session: TenantSession,
    project_id: uuid.UUID,
    model_id: uuid.UUID,
    topic_id: int,
    *,
    limit: int,
    after: tuple[float, uuid.UUID] | None,
) -> list[TopicPage]:
    """Up to ``limit + 1`` pages of the topic, heaviest first."""
    stmt = (
        select(PageTopic.page_id, CrawledPage.url, CrawledPage.title, PageTopic.weight)
        .join(CrawledPage, and_(CrawledPage.tenant_id == PageTopic.tenant_id, CrawledPage.id == PageTopic.page_id))
        .where(PageTopic.project_id == project_id, PageTopic.model_id == model_id, PageTopic.topic_id == topic_id)
    )
    if after is not None:
        stmt = stmt.where(tuple_(PageTopic.weight, PageTopic.page_id) < tuple_(*after))
    rows = session.execute(stmt.order_by(PageTopic.weight.desc(), PageTopic.page_id.desc()).limit(limit + 1)).all()
    return [TopicPage(r.page_id, r.url, r.title, r.weight) for r in rows]
