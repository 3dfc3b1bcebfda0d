"""POST /v1/topics/fit: a corpus in S3 to a stored, versioned topic model.

Steps (each timed in the response): read the corpus; if this version is already stored,
answer from its meta.json (a retried request costs a read, not a fit); preprocess; search k;
fit the final model; store the model, its dictionary and phrases, the documents' topic
weights and meta.json under ``<output prefix><version>/``.

The version is a short sha256 of the corpus bytes, the seed, the requested grid and what
shapes the result (this code's ``CODE_VERSION``, the spaCy pipeline, gensim's version), so
the same inputs give the same version and, fits being deterministic, the same topics.
"""

import hashlib
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import gensim
from gensim.models import LdaModel

from kestrel_nlp import preprocess, topics
from kestrel_nlp.models import Candidate, FitIn, FitOut, FitTimings, S3Prefix, Term, Topic
from kestrel_nlp.pipeline import Pipelines
from kestrel_nlp.problems import Problem
from kestrel_nlp.storage import Storage, gzip_json_lines

logger = logging.getLogger("kestrel_nlp.fitting")

# Bump when a change to preprocessing or fitting changes the topics a corpus gives.
CODE_VERSION = "topics-1"
VERSION_HEX_CHARS = 16
META = "meta.json"
DOCUMENTS = "documents.jsonl.gz"
TERM_DIGITS = 6
WEIGHT_DIGITS = 4


def model_version(corpus: bytes, request: FitIn, pipelines: Pipelines) -> str:
    inputs = {
        "corpus_sha256": hashlib.sha256(corpus).hexdigest(),
        "seed": request.seed,
        "k_grid": request.k_grid,
        "default_grid": topics.DEFAULT_GRID,
        "code": CODE_VERSION,
        "pipeline": pipelines.info.model_dump(),
        "gensim": gensim.__version__,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:VERSION_HEX_CHARS]


def model_prefix(output_prefix: str, version: str) -> str:
    return f"{output_prefix.rstrip('/')}/{version}/"


def resolve_grid(requested: list[int] | None, documents: int) -> list[int]:
    if requested is None:
        return topics.default_grid(documents)
    grid = [k for k in sorted(set(requested)) if k < documents]
    if not grid:
        raise Problem(
            422,
            "Validation failed",
            f"k_grid: every k is at least the number of documents with terms ({documents}).",
            errors=[{"field": "k_grid", "message": f"every k is >= {documents} documents", "type": "too_large"}],
        )
    return grid


def fit(pipelines: Pipelines, storage: Storage, request: FitIn) -> FitOut:
    began = time.perf_counter()
    corpus = storage.read_corpus(request.corpus.bucket, request.corpus.key)
    read_s = time.perf_counter() - began
    version = model_version(corpus.raw, request, pipelines)
    location = S3Prefix(bucket=request.output.bucket, prefix=model_prefix(request.output.prefix, version))
    if storage.exists(location.bucket, location.prefix + META):
        logger.info("Model version already stored; answering from its meta.json", extra={"version": version})
        meta = storage.read_json(location.bucket, location.prefix + META)
        total = time.perf_counter() - began
        timings = FitTimings(read_s=read_s, preprocess_s=0, search_s=0, fit_s=0, store_s=0, total_s=total)
        return FitOut.model_validate({**meta["response"], "timings": timings})

    step = time.perf_counter()
    prepared = preprocess.prepare(pipelines, [document.text for document in corpus.documents])
    preprocess_s = time.perf_counter() - step
    kept = [index for index, bow in enumerate(prepared.bows) if bow]
    if len(kept) < topics.MIN_DOCUMENTS:
        raise Problem(
            422,
            "Corpus too small",
            f"{len(kept)} of the corpus's {len(corpus.documents)} documents have terms left after preprocessing"
            f" (stop words, numbers and terms in fewer than {preprocess.NO_BELOW} or more than"
            f" {preprocess.NO_ABOVE:.0%} of the documents removed); a topic model needs at least"
            f" {topics.MIN_DOCUMENTS}.",
        )
    bows = [prepared.bows[index] for index in kept]
    tokens = [prepared.tokens[index] for index in kept]
    grid = resolve_grid(request.k_grid, len(bows))

    step = time.perf_counter()
    choice, coherence = topics.choose_k(bows, prepared.dictionary, tokens, grid, request.seed)
    search_s = time.perf_counter() - step

    step = time.perf_counter()
    parameters = topics.FINAL.parameters(len(bows), choice.k, choice.seed)
    model = LdaModel(corpus=bows, id2word=prepared.dictionary, **parameters)
    fit_s = time.perf_counter() - step

    step = time.perf_counter()
    top_ids = topics.top_term_ids(model)
    per_topic = coherence.per_topic(top_ids)
    weights = model.get_topics()
    topic_list = [
        Topic(
            topic_id=topic_id,
            terms=[
                Term(term=prepared.dictionary[i], weight=round(float(weights[topic_id][i]), TERM_DIGITS)) for i in ids
            ],
            coherence=round(per_topic[topic_id], TERM_DIGITS),
        )
        for topic_id, ids in enumerate(top_ids)
    ]
    distributions = topics.document_topics(model, prepared.bows, choice.seed)
    response: dict[str, Any] = {
        "version": version,
        "location": location.model_dump(),
        "documents_key": location.prefix + DOCUMENTS,
        "k": choice.k,
        "why": choice.why,
        "candidates": [
            Candidate(
                k=c.k,
                coherence=round(c.coherence, TERM_DIGITS),
                stability=round(c.stability, 4),
                chosen=c.k == choice.k,
            ).model_dump()
            for c in choice.candidates
        ],
        "coherence": round(sum(per_topic) / len(per_topic), TERM_DIGITS),
        "coherence_measure": topics.COHERENCE_MEASURE,
        "topics": [topic.model_dump() for topic in topic_list],
        "documents": len(corpus.documents),
        "dictionary_size": len(prepared.dictionary),
        "seed": request.seed,
    }
    meta = {
        "response": response,
        "fit_seed": choice.seed,
        "grid": grid,
        "code_version": CODE_VERSION,
        "pipeline": pipelines.info.model_dump(),
        "gensim": gensim.__version__,
        "corpus": {
            "bucket": request.corpus.bucket,
            "key": request.corpus.key,
            "sha256": hashlib.sha256(corpus.raw).hexdigest(),
            "documents": len(corpus.documents),
            "documents_with_terms": len(bows),
        },
        "lda": parameters,
        "search_lda": topics.SEARCH.parameters(len(bows), 0, request.seed) | {"num_topics": None, "random_state": None},
        "preprocessing": {
            "phrase_min_count": preprocess.PHRASE_MIN_COUNT,
            "phrase_threshold": preprocess.PHRASE_THRESHOLD,
            "no_below": preprocess.NO_BELOW,
            "no_above": preprocess.NO_ABOVE,
            "keep_n": preprocess.KEEP_N,
        },
    }
    documents = [
        {"id": document.id, "topics": [{"topic_id": t, "weight": round(w, WEIGHT_DIGITS)} for t, w in weights_of]}
        for document, weights_of in zip(corpus.documents, distributions, strict=True)
    ]
    with tempfile.TemporaryDirectory(prefix="kestrel-nlp-fit-") as directory:
        path = Path(directory)
        model.save(str(path / "model"))
        prepared.dictionary.save(str(path / "dictionary"))
        prepared.phrases.save(str(path / "phrases"))
        (path / DOCUMENTS).write_bytes(gzip_json_lines(documents))
        (path / META).write_text(json.dumps(meta, indent=2, sort_keys=True))
        storage.upload_directory(path, location.bucket, location.prefix)
    store_s = time.perf_counter() - step

    timings = FitTimings(
        read_s=read_s,
        preprocess_s=preprocess_s,
        search_s=search_s,
        fit_s=fit_s,
        store_s=store_s,
        total_s=time.perf_counter() - began,
    )
    logger.info(
        "Topic model fitted",
        extra={"version": version, "k": choice.k, "documents": len(corpus.documents), "timings": timings.model_dump()},
    )
    return FitOut.model_validate({**response, "timings": timings})
