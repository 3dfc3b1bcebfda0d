"""/v1/topics/fit and /v1/topics/infer against S3 in moto: planted topics, determinism, storage, errors."""

import gzip
import json
import os
import subprocess
import sys
import uuid
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from nlp_support import REGION, SERVICE_DIR, THEMES, VOCABULARIES, corpus_bytes, planted_documents, theme_of

GRID = [2, 3, 4, 5, 6]
CORPUS_KEY = "nlp/corpora/org_test/project/job.jsonl.gz"
OUTPUT_PREFIX = "nlp/models/org_test/project/"


def put(bucket: str, key: str, body: bytes) -> None:
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body)


def fit(client: TestClient, bucket: str, *, prefix: str = OUTPUT_PREFIX, seed: int = 42, **extra: Any) -> Any:
    response = client.post(
        "/v1/topics/fit",
        json={
            "corpus": {"bucket": bucket, "key": CORPUS_KEY},
            "output": {"bucket": bucket, "prefix": prefix},
            "seed": seed,
            "k_grid": GRID,
        }
        | extra,
    )
    return response


@pytest.fixture(scope="module")
def planted(aws: dict[str, str]) -> str:
    """A bucket holding the planted corpus, shared by the module's tests (each writes its own prefix)."""
    bucket = f"nlp-test-planted-{uuid.uuid4().hex[:8]}"
    boto3.client("s3").create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    put(bucket, CORPUS_KEY, corpus_bytes(planted_documents()))
    return bucket


@pytest.fixture(scope="module")
def fitted(client: TestClient, planted: str) -> dict[str, Any]:
    response = fit(client, planted)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def theme_of_topic(topic: dict[str, Any]) -> str:
    """The one vocabulary every top term of ``topic`` comes from (fails if they are mixed)."""
    themes = {theme for term in topic["terms"] for theme in THEMES if term["term"] in VOCABULARIES[theme]}
    assert len(themes) == 1, f"topic {topic['topic_id']} mixes {themes}: {[t['term'] for t in topic['terms']]}"
    return themes.pop()


def without_timings(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "timings"}


def test_three_planted_vocabularies_give_three_topics_one_vocabulary_each(fitted: dict[str, Any]) -> None:
    assert fitted["k"] == 3
    assert [c["k"] for c in fitted["candidates"]] == GRID
    assert [c["k"] for c in fitted["candidates"] if c["chosen"]] == [3]
    assert fitted["why"].startswith("k=3: ")
    assert fitted["coherence_measure"] == "c_npmi"
    assert sorted(theme_of_topic(topic) for topic in fitted["topics"]) == THEMES
    for topic in fitted["topics"]:
        assert len(topic["terms"]) == 10
        weights = [term["weight"] for term in topic["terms"]]
        assert weights == sorted(weights, reverse=True)
    three = next(c for c in fitted["candidates"] if c["k"] == 3)
    assert three["stability"] >= 0.5
    assert fitted["coherence"] == pytest.approx(sum(t["coherence"] for t in fitted["topics"]) / 3, abs=1e-5)
    assert fitted["documents"] == 150
    assert fitted["dictionary_size"] == sum(len(v) for v in VOCABULARIES.values())
    assert fitted["seed"] == 42
    timings = fitted["timings"]
    assert timings["total_s"] >= timings["preprocess_s"] + timings["search_s"] + timings["fit_s"] > 0


def test_the_model_and_the_documents_topics_are_stored_under_the_version(fitted: dict[str, Any], planted: str) -> None:
    prefix = f"{OUTPUT_PREFIX}{fitted['version']}/"
    assert fitted["location"] == {"bucket": planted, "prefix": prefix}
    assert fitted["documents_key"] == f"{prefix}documents.jsonl.gz"
    s3 = boto3.client("s3")
    names = {item["Key"][len(prefix) :] for item in s3.list_objects_v2(Bucket=planted, Prefix=prefix)["Contents"]}
    assert {"model", "model.state", "dictionary", "phrases", "meta.json", "documents.jsonl.gz"} <= names
    meta = json.loads(s3.get_object(Bucket=planted, Key=f"{prefix}meta.json")["Body"].read())
    assert meta["response"] == without_timings(fitted)
    assert meta["lda"]["num_topics"] == 3
    lines = gzip.decompress(s3.get_object(Bucket=planted, Key=fitted["documents_key"])["Body"].read()).splitlines()
    documents = [json.loads(line) for line in lines]
    assert [d["id"] for d in documents] == [d["id"] for d in planted_documents()]
    theme_by_topic = {topic["topic_id"]: theme_of_topic(topic) for topic in fitted["topics"]}
    for document in documents:
        weights = [t["weight"] for t in document["topics"]]
        assert weights == sorted(weights, reverse=True)
        assert all(w >= 0.01 for w in weights)
        assert sum(weights) == pytest.approx(1, abs=0.03)
        assert theme_by_topic[document["topics"][0]["topic_id"]] == theme_of(document["id"])


def test_the_same_corpus_and_seed_give_the_same_version_and_topics(
    client: TestClient, fitted: dict[str, Any], planted: str
) -> None:
    again = fit(client, planted, prefix="nlp/models/org_test/elsewhere/").json()
    assert again["timings"]["fit_s"] > 0  # really fitted again: nothing stored under that prefix
    assert again["version"] == fitted["version"]
    assert {k: v for k, v in without_timings(again).items() if k not in ("location", "documents_key")} == {
        k: v for k, v in without_timings(fitted).items() if k not in ("location", "documents_key")
    }
    other_seed = fit(client, planted, prefix="nlp/models/org_test/elsewhere/", seed=7).json()
    assert other_seed["version"] != fitted["version"]


def test_a_fit_in_another_process_gives_the_same_model(
    fitted: dict[str, Any], planted: str, aws: dict[str, str]
) -> None:
    script = f"""
import json, sys
sys.path.insert(0, {str(SERVICE_DIR)!r})
from kestrel_nlp.fitting import fit
from kestrel_nlp.models import FitIn
from kestrel_nlp.pipeline import load_pipelines
from kestrel_nlp.settings import Settings
from kestrel_nlp.storage import Storage
request = FitIn.model_validate({{
    "corpus": {{"bucket": {planted!r}, "key": {CORPUS_KEY!r}}},
    "output": {{"bucket": {planted!r}, "prefix": "nlp/models/org_test/other-process/"}},
    "seed": 42, "k_grid": {GRID!r},
}})
print(fit(load_pipelines(Settings().spacy_model), Storage(), request).model_dump_json())
"""
    environment = {**os.environ, **aws, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    other = json.loads(done.stdout.strip().splitlines()[-1])
    assert other["version"] == fitted["version"]
    assert other["topics"] == fitted["topics"]
    assert other["candidates"] == fitted["candidates"]


def test_a_repeated_fit_is_answered_from_the_stored_version(
    client: TestClient, fitted: dict[str, Any], planted: str
) -> None:
    again = fit(client, planted).json()
    assert without_timings(again) == without_timings(fitted)
    assert again["timings"]["preprocess_s"] == again["timings"]["fit_s"] == 0


def test_infer_gives_each_document_its_topic_distribution(client: TestClient, fitted: dict[str, Any]) -> None:
    theme_by_topic = {topic["topic_id"]: theme_of_topic(topic) for topic in fitted["topics"]}
    documents = [
        {"id": "bread", "text": "The baker put the dough and the loaf in the oven with butter and sugar."},
        {"id": "sky", "text": "Through the telescope the astronomer saw a comet, a nebula and a distant galaxy."},
        {"id": "boat", "text": "The skipper checked the keel, the rudder and the mooring before the regatta."},
        {"id": "none", "text": "Nothing here is in the model's vocabulary at all."},
    ]
    response = client.post("/v1/topics/infer", json={"model": fitted["location"], "documents": documents})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == fitted["version"]
    by_id = {d["id"]: d["topics"] for d in body["documents"]}
    assert [d["id"] for d in body["documents"]] == ["bread", "sky", "boat", "none"]
    for document_id, theme in (("bread", "baking"), ("sky", "astronomy"), ("boat", "sailing")):
        topics = by_id[document_id]
        assert theme_by_topic[topics[0]["topic_id"]] == theme
        assert topics[0]["weight"] > 0.6
        assert sum(t["weight"] for t in topics) == pytest.approx(1, abs=0.03)
    assert by_id["none"] == []
    alone = client.post("/v1/topics/infer", json={"model": fitted["location"], "documents": documents[1:2]}).json()
    assert alone["documents"][0]["topics"] == by_id["sky"]  # a document's topics do not depend on its batch


def test_infer_with_an_unknown_model_is_404(client: TestClient, bucket: str) -> None:
    response = client.post(
        "/v1/topics/infer",
        json={"model": {"bucket": bucket, "prefix": "nlp/models/t/p/0000/"}, "documents": [{"id": "1", "text": "x"}]},
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == f"No topic model at s3://{bucket}/nlp/models/t/p/0000/ (no meta.json there)."


@pytest.mark.parametrize(
    ("body", "title", "detail"),
    [
        (None, "Corpus not found", "The corpus s3://{bucket}/" + CORPUS_KEY + " does not exist."),
        (b"not gzip, not json", "Corpus unreadable", "Line 1 of the corpus s3://{bucket}/" + CORPUS_KEY),
        (gzip.compress(b'{"id": "1"}\n'), "Corpus unreadable", "Line 1 of the corpus s3://{bucket}/" + CORPUS_KEY),
        (
            corpus_bytes([{"id": str(n), "text": "the and of a"} for n in range(20)]),
            "Corpus too small",
            "0 of the corpus's 20 documents have terms left after preprocessing",
        ),
    ],
)
def test_a_corpus_that_cannot_be_used_is_422_with_the_reason(
    client: TestClient, bucket: str, body: bytes | None, title: str, detail: str
) -> None:
    if body is not None:
        put(bucket, CORPUS_KEY, body)
    response = fit(client, bucket)
    assert response.status_code == 422
    problem = response.json()
    assert problem["title"] == title
    assert problem["detail"].startswith(detail.format(bucket=bucket))


def test_a_corpus_in_a_missing_bucket_is_422(client: TestClient, aws: dict[str, str]) -> None:
    response = fit(client, "nlp-test-no-such-bucket")
    assert response.status_code == 422
    assert response.json()["detail"] == (
        f"The bucket of the corpus s3://nlp-test-no-such-bucket/{CORPUS_KEY} does not exist."
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"k_grid": [1, 3]}, "k_grid[0]"),
        ({"k_grid": []}, "k_grid"),
        ({"seed": -1}, "seed"),
        ({"corpus": {"bucket": "b"}}, "corpus.key"),
    ],
)
def test_a_malformed_fit_request_is_422_naming_the_field(
    client: TestClient, bucket: str, change: dict[str, Any], field: str
) -> None:
    request = {"corpus": {"bucket": bucket, "key": CORPUS_KEY}, "output": {"bucket": bucket, "prefix": "p/"}} | change
    response = client.post("/v1/topics/fit", json=request)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]


def test_infer_keeps_the_batch_limits(make_client: Any, bucket: str) -> None:
    client = make_client(max_documents=2, max_document_chars=50)
    model = {"bucket": bucket, "prefix": "nlp/models/t/p/0000/"}
    many = client.post(
        "/v1/topics/infer", json={"model": model, "documents": [{"id": str(n), "text": "x"} for n in range(3)]}
    )
    assert many.status_code == 413
    long = client.post("/v1/topics/infer", json={"model": model, "documents": [{"id": "1", "text": "x" * 51}]})
    assert long.status_code == 422
    assert long.json()["errors"][0]["field"] == "documents[0].text"
