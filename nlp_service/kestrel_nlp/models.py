"""The HTTP contract: request and response bodies (see /work/nlp-plan.md and nlp_service/README.md).

Limits that depend on settings (documents per batch, characters per document) are
checked by the routes, not here, so that the status and the message can say which
limit was passed.
"""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

NonEmpty = Annotated[str, StringConstraints(min_length=1)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PipelineInfo(BaseModel):
    name: str
    version: str
    spacy: str


# ---------------------------------------------------------------- service


class Health(BaseModel):
    status: str = "ok"


class Ready(BaseModel):
    status: str = "ready"
    pipeline: PipelineInfo


class VersionInfo(BaseModel):
    service: str = "kestrel-nlp"
    version: str
    pipeline: PipelineInfo
    gensim: str


# ---------------------------------------------------------------- entities


class EntitiesDocumentIn(Body):
    id: NonEmpty
    text: str
    # A BCP 47 tag as the page declares it (`<html lang>`, Content-Language); null when it declares none.
    language: str | None = None


class EntitiesIn(Body):
    documents: list[EntitiesDocumentIn] = Field(min_length=1)


class Entity(BaseModel):
    text: str  # the first surface form
    label: str
    normalized: str
    mentions: int
    first_offset: int  # character offset of the first mention in the document's text


class EntitiesDocumentOut(BaseModel):
    id: str
    language: str | None
    supported: bool
    reason: str | None
    words: int
    entities: list[Entity]


class EntitiesOut(BaseModel):
    pipeline: PipelineInfo
    documents: list[EntitiesDocumentOut]


# ---------------------------------------------------------------- topics


class S3Object(Body):
    bucket: NonEmpty
    key: NonEmpty


class S3Prefix(Body):
    bucket: NonEmpty
    prefix: NonEmpty


class FitIn(Body):
    corpus: S3Object
    output: S3Prefix
    seed: int = Field(default=42, ge=0, le=2**31 - 1)
    # The numbers of topics to try; null for the service's default grid (bounded by the corpus size).
    k_grid: list[Annotated[int, Field(ge=2, le=100)]] | None = Field(default=None, min_length=1, max_length=8)


class Candidate(BaseModel):
    k: int
    coherence: float
    stability: float
    chosen: bool


class Term(BaseModel):
    term: str
    weight: float


class Topic(BaseModel):
    topic_id: int
    terms: list[Term]
    coherence: float


class FitTimings(BaseModel):
    read_s: float
    preprocess_s: float
    search_s: float
    fit_s: float
    store_s: float
    total_s: float


class FitOut(BaseModel):
    version: str
    location: S3Prefix
    documents_key: str
    k: int
    why: str
    candidates: list[Candidate]
    coherence: float
    coherence_measure: str
    topics: list[Topic]
    documents: int
    dictionary_size: int
    seed: int
    timings: FitTimings


class InferDocumentIn(Body):
    id: NonEmpty
    text: str


class InferIn(Body):
    model: S3Prefix
    documents: list[InferDocumentIn] = Field(min_length=1)


class TopicWeight(BaseModel):
    topic_id: int
    weight: float


class InferDocumentOut(BaseModel):
    id: str
    topics: list[TopicWeight]


class InferOut(BaseModel):
    version: str
    documents: list[InferDocumentOut]
