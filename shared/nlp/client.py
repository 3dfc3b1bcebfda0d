"""The NLP service's client: entities of a batch of pages, and a topic fit over a corpus in S3.

It speaks only the part of the service's HTTP contract Kestrel uses, through its own models (fields it does not
read are ignored, so the service may add more). It keeps every request within the service's limits: at most
``MAX_DOCUMENTS`` documents and ``MAX_BODY_BYTES`` of JSON per request, each text cut to ``MAX_DOCUMENT_CHARS``
characters (the answer says which were cut). Failures are classified for the worker runtime: no answer, a
timeout, a 429 or a 5xx is a ``TransientError`` (retried here a few times for entities, then by SQS); any other
4xx is a ``PermanentError`` carrying the service's problem detail.
"""

import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from shared.errors import PermanentError, TransientError
from shared.observability import logger
from shared.settings import NlpService, settings_of

# The service's limits (nlp_service's KESTREL_NLP_MAX_DOCUMENTS, _MAX_DOCUMENT_CHARS, _MAX_BODY_BYTES defaults).
MAX_DOCUMENTS = 64
MAX_DOCUMENT_CHARS = 100_000
MAX_BODY_BYTES = 8 * 1024 * 1024
# Room left for the envelope and the escaping json.dumps estimates conservatively anyway.
_BODY_BUDGET = MAX_BODY_BYTES - 64 * 1024
_RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
MAX_BACKOFF_SECONDS = 10.0


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# ---------------------------------------------------------------- entities


@dataclass(frozen=True)
class Document:
    """A page's text to analyse; ``language`` is what the page declares (``<html lang>``), if anything."""

    id: str
    text: str
    language: str | None = None


class Pipeline(_Answer):
    name: str
    version: str


class FoundEntity(_Answer):
    text: str
    label: str
    normalized: str
    mentions: int
    first_offset: int


class DocumentEntities(_Answer):
    id: str
    language: str | None
    supported: bool
    reason: str | None = None
    words: int
    entities: list[FoundEntity]


class EntitiesAnswer(_Answer):
    pipeline: Pipeline
    documents: list[DocumentEntities]


@dataclass(frozen=True)
class Analysed:
    """What the service made of one document, and whether its text was cut to the service's limit first."""

    result: DocumentEntities
    truncated: bool


@dataclass(frozen=True)
class EntitiesResult:
    pipeline: Pipeline | None  # None when nothing was sent
    documents: dict[str, Analysed]


def within_limits(document: Document) -> tuple[Document, bool]:
    """The document as the service accepts it: its text cut to ``MAX_DOCUMENT_CHARS``; True when it was cut."""
    if len(document.text) <= MAX_DOCUMENT_CHARS:
        return document, False
    return Document(document.id, document.text[:MAX_DOCUMENT_CHARS], document.language), True


def _json_size(document: Document) -> int:
    return len(json.dumps({"id": document.id, "text": document.text, "language": document.language}).encode())


def batches(documents: Sequence[Document]) -> list[list[Document]]:
    """Requests of at most ``MAX_DOCUMENTS`` documents and about ``MAX_BODY_BYTES`` of JSON, in order."""
    out: list[list[Document]] = []
    current: list[Document] = []
    size = 0
    for document in documents:
        weight = _json_size(document) + 1
        if current and (len(current) >= MAX_DOCUMENTS or size + weight > _BODY_BUDGET):
            out.append(current)
            current, size = [], 0
        current.append(document)
        size += weight
    if current:
        out.append(current)
    return out


# ---------------------------------------------------------------- topics


class Term(_Answer):
    term: str
    weight: float


class FittedTopic(_Answer):
    topic_id: int
    terms: list[Term]
    coherence: float | None = None


class Candidate(_Answer):
    k: int
    coherence: float | None = None
    stability: float | None = None
    chosen: bool = False


class Location(_Answer):
    bucket: str
    prefix: str


class TopicFit(_Answer):
    version: str
    location: Location
    documents_key: str
    k: int
    why: str
    candidates: list[Candidate]
    coherence: float | None = None
    coherence_measure: str
    topics: list[FittedTopic]
    documents: int
    dictionary_size: int
    seed: int


class DocumentTopic(_Answer):
    topic_id: int
    weight: float


class DocumentTopics(_Answer):
    """One line of a fit's ``documents.jsonl.gz``: a corpus document's topic distribution."""

    id: str
    topics: list[DocumentTopic]


# ---------------------------------------------------------------- the HTTP client


def _problem_detail(response: httpx.Response) -> str:
    """The problem details' ``detail`` (with the fields it names), or the body's start."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return response.text.strip()[:500] or response.reason_phrase or f"HTTP {response.status_code}"
    detail = str(body.get("detail") or body.get("title") or f"HTTP {response.status_code}")
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        named = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in errors[:5] if isinstance(e, dict))
        if named:
            detail = f"{detail} ({named})"
    return detail


class NlpClient:
    """One per execution environment (``client()``): its connections are reused across invocations."""

    def __init__(self, settings: NlpService, *, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self._http = httpx.Client(
            base_url=settings.nlp_service_url.rstrip("/"),
            timeout=httpx.Timeout(settings.nlp_timeout_seconds, connect=10.0),
            transport=transport,
            headers={"User-Agent": "kestrel-lambda"},
        )

    def _post(self, path: str, body: dict[str, Any], *, timeout: float | None = None) -> dict[str, Any]:
        """One request; its failure classified. A 2xx body that is not JSON is the service's bug: permanent."""
        try:
            response = self._http.post(path, json=body, timeout=timeout or httpx.USE_CLIENT_DEFAULT)
        except httpx.TransportError as exc:  # refused, reset, DNS, timeouts (TimeoutException is one)
            raise TransientError(f"The NLP service did not answer {path}: {type(exc).__name__}: {exc}") from exc
        if response.status_code in _RETRYABLE_STATUS or response.status_code >= 500:
            raise TransientError(
                f"The NLP service answered {path} with {response.status_code}: {_problem_detail(response)}"
            )
        if response.status_code >= 400:
            raise PermanentError(
                f"The NLP service refused {path} ({response.status_code}): {_problem_detail(response)}",
                status=response.status_code,
            )
        try:
            answer: dict[str, Any] = response.json()
        except ValueError as exc:
            raise PermanentError(f"The NLP service's answer to {path} is not JSON.") from exc
        return answer

    def _post_retrying(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Transient failures retried with exponential back-off and jitter, then handed to SQS."""
        attempts = max(1, self.settings.nlp_max_attempts)
        for attempt in range(1, attempts + 1):
            try:
                return self._post(path, body)
            except TransientError:
                if attempt == attempts:
                    raise
                delay = min(MAX_BACKOFF_SECONDS, self.settings.nlp_backoff_seconds * 2 ** (attempt - 1))
                delay *= 0.5 + random.random() / 2  # noqa: S311 (jitter, not security)
                logger.warning("NLP service unavailable; retrying", extra={"path": path, "attempt": attempt})
                time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def entities(self, documents: Sequence[Document]) -> EntitiesResult:
        """Each document's entities, language and word count, in as many requests as the limits need."""
        prepared = [within_limits(document) for document in documents]
        truncated = {document.id for document, cut in prepared if cut}
        pipeline: Pipeline | None = None
        found: dict[str, Analysed] = {}
        for batch in batches([document for document, _ in prepared]):
            body = {"documents": [{"id": d.id, "text": d.text, "language": d.language} for d in batch]}
            try:
                answer = EntitiesAnswer.model_validate(self._post_retrying("/v1/entities", body))
            except ValidationError as exc:
                raise PermanentError(f"The NLP service's entities answer is not as expected: {exc}") from exc
            pipeline = answer.pipeline
            for result in answer.documents:
                found[result.id] = Analysed(result, result.id in truncated)
            missing = [d.id for d in batch if d.id not in found]
            if missing:
                raise PermanentError(f"The NLP service's answer left out {len(missing)} documents ({missing[0]}...).")
        return EntitiesResult(pipeline, found)

    def fit_topics(
        self,
        *,
        corpus_bucket: str,
        corpus_key: str,
        output_bucket: str,
        output_prefix: str,
        seed: int,
        k_grid: Sequence[int] | None = None,
    ) -> TopicFit:
        """A topic model of the corpus, stored by the service under ``output_prefix``. Not retried here: a fit
        takes minutes, and a retry is SQS's (the fit is deterministic, so a rerun stores the same version)."""
        body = {
            "corpus": {"bucket": corpus_bucket, "key": corpus_key},
            "output": {"bucket": output_bucket, "prefix": output_prefix},
            "seed": seed,
            "k_grid": list(k_grid) if k_grid is not None else None,
        }
        answer = self._post("/v1/topics/fit", body, timeout=self.settings.nlp_fit_timeout_seconds)
        try:
            return TopicFit.model_validate(answer)
        except ValidationError as exc:
            raise PermanentError(f"The NLP service's topic fit answer is not as expected: {exc}") from exc


def client() -> NlpClient:
    """The execution environment's client, made anew when the settings are read anew."""
    settings = settings_of(NlpService)
    cached = _clients.get("current")
    if cached is None or cached.settings is not settings:
        cached = _clients["current"] = NlpClient(settings)
    return cached


_clients: dict[str, NlpClient] = {}
