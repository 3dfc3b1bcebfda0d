"""The NLP workers' messages, and what the API shows of entities and topics."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from shared.models import OutputModel, Page

# ---------------------------------------------------------------- messages


class PageChangesMessage(BaseModel):
    """nlp_entities: take the project's unconsumed page-changed events (sent by page_crawl, and by nlp_entities
    itself when it stopped with events left)."""

    kind: Literal["page_changes"] = "page_changes"
    tenant_id: str
    project_id: uuid.UUID


class FitTopicsMessage(BaseModel):
    """topic_model: run a ``topic_model`` job (started by the refit threshold or the API)."""

    kind: Literal["fit_topics"] = "fit_topics"
    tenant_id: str
    job_id: uuid.UUID


# ---------------------------------------------------------------- entities

LABEL_DESCRIPTION = (
    "The entity's type as the pipeline labels it (en_core_web_sm: PERSON, ORG, GPE, LOC, PRODUCT, EVENT, "
    "WORK_OF_ART, FAC, NORP, LAW, LANGUAGE, DATE, TIME, MONEY, QUANTITY, PERCENT, ORDINAL, CARDINAL)."
)


class EntityOut(OutputModel):
    """An entity across the project's analysed pages."""

    id: uuid.UUID = Field(description="Stable: the same for this label and normalised form in this project.")
    label: str = Field(description=LABEL_DESCRIPTION)
    text: str = Field(description="How the pages write it (the first form seen).")
    normalized: str
    pages: int = Field(description="Pages mentioning it.")
    mentions: int = Field(description="Mentions over all those pages.")


class EntityPageOut(OutputModel):
    """A page mentioning an entity."""

    id: uuid.UUID = Field(description="The page's id (as in `/pages`).")
    url: str
    title: str | None
    mentions: int
    first_offset: int = Field(description="Character offset of the first mention in the page's main text.")
    text: str = Field(description="How this page writes the entity.")


class PageEntityOut(OutputModel):
    """An entity on one page."""

    id: uuid.UUID = Field(description="The entity's id (as in `/entities`).")
    label: str
    text: str = Field(description="How this page writes it.")
    normalized: str
    mentions: int
    first_offset: int


class PipelineOut(OutputModel):
    name: str
    version: str


class PageEntitiesOut(Page[PageEntityOut]):
    """A page's entities (most mentioned first) and what the NLP service made of the page."""

    page_id: uuid.UUID
    url: str
    analysed: bool = Field(description="False until the page's latest content has been analysed.")
    language: str | None = Field(description="The page's language as the service read it (declared or detected).")
    supported: bool | None = Field(description="Whether entities are extracted in that language (null: not analysed).")
    reason: str | None = Field(description="Why the page was not analysed (an unsupported language, no main text).")
    words: int | None
    truncated: bool | None = Field(description="The text was cut to the service's limit (100,000 characters).")
    pipeline: PipelineOut | None
    processed_at: datetime | None


# ---------------------------------------------------------------- topics


class TermOut(OutputModel):
    term: str = Field(description="A lemma, or a frequent phrase joined with `_` (`trail_running`).")
    weight: float


class TopicOut(OutputModel):
    id: int = Field(description="The topic's number in the current model version.")
    label: str = Field(description="Made of its top terms.")
    terms: list[TermOut] = Field(description="Its top terms, heaviest first.")
    coherence: float | None = Field(description="The topic's own coherence (the model's measure).")
    pages: int = Field(description="Pages with a weight of at least 0.01 in it.")


class CandidateOut(OutputModel):
    k: int
    coherence: float | None
    stability: float | None = Field(description="Agreement of fits with different seeds (0 to 1).")
    chosen: bool


class TopicModelOut(OutputModel):
    id: uuid.UUID
    version: str = Field(description="The service's version: the same corpus and seed give the same version.")
    k: int = Field(description="The number of topics.")
    why: str = Field(description="Why this k won over the other candidates.")
    candidates: list[CandidateOut]
    coherence: float | None
    coherence_measure: str
    seed: int
    documents: int = Field(description="Pages the model was fitted on.")
    dictionary_size: int
    job_id: uuid.UUID | None
    created_at: datetime


class TopicsOut(Page[TopicOut]):
    """The current topic model and its topics."""

    model: TopicModelOut


class TopicPageOut(OutputModel):
    id: uuid.UUID = Field(description="The page's id (as in `/pages`).")
    url: str
    title: str | None
    weight: float = Field(description="The topic's share of the page (0 to 1).")
