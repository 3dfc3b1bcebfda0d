"""The NLP tables: what the service found in each page (entities, language), per project aggregates, topic models.

``nlp_page_states`` says which content of a page was analysed (its hash), in what language and by which
pipeline. ``page_entities`` holds each page's entities (about a hundred a page: a million rows for a
10,000-page project), hash-partitioned by project into 64 like ``gsc_rows``, so a project's reads and writes
touch one partition; ``project_entities`` sums them per project (pages, mentions), kept in the same
transaction as the pages' rows. ``topic_models`` keeps every fitted version of a project's topic model (one
``current``), ``topics`` their topics, and ``page_topics`` each page's topic weights in a version, also
hash-partitioned by project.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.crawl import tables as _crawl  # noqa: F401  (registers the tables referenced here)
from shared.orm import Base, created_at_column, updated_at_column, uuid_pk
from shared.projects import tables as _projects  # noqa: F401

NLP_PARTITIONS = 64
"""``page_entities`` and ``page_topics`` are hash-partitioned on ``project_id`` into ``<table>_p00`` .. ``_p63``."""


def _project_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", "project_id"], ["projects.tenant_id", "projects.id"], ondelete="CASCADE")


class NlpPageState(Base):
    """What the NLP service last made of a page: the content (hash) it read, its language, the pipeline."""

    __tablename__ = "nlp_page_states"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    page_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    content_hash: Mapped[str] = mapped_column(Text, nullable=False)
    language: Mapped[str | None] = mapped_column(Text)
    supported: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)  # why not analysed (unsupported language, no text)
    pipeline_name: Mapped[str | None] = mapped_column(Text)
    pipeline_version: Mapped[str | None] = mapped_column(Text)
    words: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    entities: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    truncated: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    processed_at: Mapped[datetime] = created_at_column()
    __table_args__ = (
        _project_fk(),
        ForeignKeyConstraint(
            ["tenant_id", "page_id"], ["crawled_pages.tenant_id", "crawled_pages.id"], ondelete="CASCADE"
        ),
        Index(None, "project_id", "processed_at"),
    )


class ProjectEntity(Base):
    """One entity (label and normalised form) across a project's pages: on how many, how often.

    Its id is derived from (project, label, normalised form), so it stays the same when the entity leaves
    every page (its row is deleted) and comes back.
    """

    __tablename__ = "project_entities"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    label: Mapped[str] = mapped_column(Text, nullable=False)
    normalized: Mapped[str] = mapped_column(Text, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)  # how it is written (its first surface form)
    pages: Mapped[int] = mapped_column(Integer, nullable=False)
    mentions: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = updated_at_column()
    __table_args__ = (
        _project_fk(),
        UniqueConstraint("project_id", "label", "normalized"),
        Index(None, "project_id", "pages", "mentions", "id"),
        CheckConstraint("pages >= 0 AND mentions >= 0", name="counts"),
    )


class PageEntity(Base):
    """An entity on one page: its mentions there, where it first appears, how the page writes it."""

    __tablename__ = "page_entities"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    page_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    entity_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    mentions: Mapped[int] = mapped_column(Integer, nullable=False)
    first_offset: Mapped[int] = mapped_column(Integer, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    __table_args__ = (
        PrimaryKeyConstraint("project_id", "page_id", "entity_id"),
        _project_fk(),
        Index(None, "project_id", "entity_id", "mentions", "page_id"),
        {"postgresql_partition_by": "HASH (project_id)"},
    )


class TopicModel(Base):
    """One fitted version of a project's topic model: how many topics and why, how good, from what corpus."""

    __tablename__ = "topic_models"
    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    job_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))  # the topic_model job that fitted it
    version: Mapped[str] = mapped_column(Text, nullable=False)  # the service's: the same corpus and seed, the same
    k: Mapped[int] = mapped_column(Integer, nullable=False)
    why: Mapped[str] = mapped_column(Text, nullable=False)
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    coherence: Mapped[float | None] = mapped_column(Double)
    coherence_measure: Mapped[str] = mapped_column(Text, nullable=False)
    seed: Mapped[int] = mapped_column(Integer, nullable=False)
    documents: Mapped[int] = mapped_column(Integer, nullable=False)
    dictionary_size: Mapped[int] = mapped_column(Integer, nullable=False)
    s3_bucket: Mapped[str] = mapped_column(Text, nullable=False)
    s3_prefix: Mapped[str] = mapped_column(Text, nullable=False)
    corpus_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)  # when its texts were read
    current: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    created_at: Mapped[datetime] = created_at_column()
    __table_args__ = (
        _project_fk(),
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("project_id", "version"),
        Index("ix_topic_models_current", "project_id", unique=True, postgresql_where=text("current")),
    )


class Topic(Base):
    """A topic of a model version: its top terms with their weights, its coherence, a label from its terms."""

    __tablename__ = "topics"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    model_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    topic_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(Text, nullable=False)
    terms: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)  # [{"term", "weight"}], best first
    coherence: Mapped[float | None] = mapped_column(Double)
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "model_id"], ["topic_models.tenant_id", "topic_models.id"], ondelete="CASCADE"
        ),
    )


class PageTopic(Base):
    """A page's weight in one topic of one model version (weights of at least 0.01, as the service gives them)."""

    __tablename__ = "page_topics"
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    model_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    topic_id: Mapped[int] = mapped_column(Integer, nullable=False)
    page_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    weight: Mapped[float] = mapped_column(Double, nullable=False)
    __table_args__ = (
        PrimaryKeyConstraint("project_id", "model_id", "topic_id", "page_id"),
        _project_fk(),  # not the model's: a cascade by model id alone could not prune the partitions
        Index(None, "project_id", "model_id", "topic_id", "weight", "page_id"),
        {"postgresql_partition_by": "HASH (project_id)"},
    )
