"""The NLP service over HTTP against the same work done in-process: entities, an LDA fit, memory, start-up.

The service runs as `kestrel up` runs it (kestrel_local.nlp_service: ``python -m
kestrel_nlp``, one uvicorn worker), with S3 in moto. The texts are the demo site's
(kestrel_local.demo_site at scale 15: over 2,000 pages), rendered and reduced to the main
text the crawler extracts (shared.crawl.extract), English pages only.

- **Entities**: at least 50,000 words of those pages through ``POST /v1/entities`` in
  batches within the service's limits, against spaCy's ``nlp.pipe`` in this process on the
  same texts with the same pipes (tok2vec + ner). Rounds alternate the two; medians.
  ``vs_inprocess`` is the service's words per second over the in-process rate.
- **Topics**: one fit of 2,000 documents (the corpus as gzip JSON Lines in moto S3) through
  ``POST /v1/topics/fit``, against the same ``LdaModel`` call made here on the same
  bag-of-words corpus (preprocessed here by the same code) with the parameters the service
  stored in meta.json. ``lda_fit_s`` is the service's final fit (``timings.fit_s``),
  ``vs_gensim`` the direct call's seconds over it; the k search and the preprocessing are
  reported separately from the response's timings. The direct model's topics must equal the
  service's: the same call, not a similar one.
- **Memory**: the service's VmRSS (and peak) from /proc after the runs.
- **Start-up**: seconds from starting the process to ``/ready`` answering 200.

The last line is machine-readable.

    make bench-nlp
"""

import argparse
import gzip
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from kestrel_local.config import PROJECT_ROOT
from kestrel_local.moto_server import free_port, start_moto
from kestrel_local.nlp_service import NLP_SERVICE_DIR, NlpServiceProcess

REGION = "eu-west-1"
DOMAIN = "bench-outdoor.example.com"
SCALE = 15  # over 2,000 pages
ENTITY_WORDS = 60_000  # at least 50,000 words through /v1/entities
BATCH_DOCUMENTS = 32  # within the service's 64 documents and 8 MiB
FIT_DOCUMENTS = 2_000
REPEATS = 3
SEED = 42


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def demo_texts() -> list[tuple[str, str]]:
    """(path, main text) of the demo site's English HTML pages, in catalogue order."""
    from kestrel_local.demo_site.catalogue import site_catalogue
    from kestrel_local.demo_site.render import render
    from shared.crawl.extract import extract_page

    catalogue = site_catalogue(DOMAIN, scale=SCALE)
    out = []
    for path, page in catalogue.pages.items():
        if page.content_type != "text/html" or page.lang != "en":
            continue
        facts = extract_page(
            render(catalogue, page),
            url=catalogue.url(path),
            header_charset=None,
            link_header=None,
            x_robots_tag=None,
            is_internal=lambda link: DOMAIN in link,
        )
        if facts.main_text:
            out.append((path, facts.main_text))
    return out


def memory_mb(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


# ---------------------------------------------------------------- entities


def entities_over_http(client: httpx.Client, url: str, texts: list[str]) -> tuple[float, int, int]:
    """Seconds, words and entities for ``texts`` through the service, one batch after another."""
    began = time.perf_counter()
    words = entities = 0
    for start in range(0, len(texts), BATCH_DOCUMENTS):
        batch = texts[start : start + BATCH_DOCUMENTS]
        response = client.post(
            f"{url}/v1/entities",
            json={"documents": [{"id": str(start + n), "text": text} for n, text in enumerate(batch)]},
        )
        response.raise_for_status()
        for document in response.json()["documents"]:
            words += document["words"]
            entities += sum(entity["mentions"] for entity in document["entities"])
    return time.perf_counter() - began, words, entities


def entities_in_process(nlp: Any, texts: list[str]) -> tuple[float, int]:
    from kestrel_nlp.entities import PIPE_BATCH_SIZE

    began = time.perf_counter()
    mentions = sum(len(doc.ents) for doc in nlp.pipe(texts, batch_size=PIPE_BATCH_SIZE))
    return time.perf_counter() - began, mentions


# ---------------------------------------------------------------- topics


def fit_over_http(client: httpx.Client, url: str, bucket: str, key: str, round_number: int) -> dict[str, Any]:
    began = time.perf_counter()
    response = client.post(
        f"{url}/v1/topics/fit",
        json={
            "corpus": {"bucket": bucket, "key": key},
            # A new prefix each round: a version already stored would be answered from its meta.json.
            "output": {"bucket": bucket, "prefix": f"nlp/models/org_bench/round-{round_number}/"},
            "seed": SEED,
        },
        timeout=1_800,
    )
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    body["wall_s"] = time.perf_counter() - began
    return body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=REPEATS, help="rounds of each measurement (medians quoted)")
    args = parser.parse_args()

    say("rendering the demo site and extracting main texts ...")
    pages = demo_texts()
    texts = [text for _, text in pages]
    entity_texts: list[str] = []
    for text in texts:
        if sum(len(t.split()) for t in entity_texts) >= ENTITY_WORDS:
            break
        entity_texts.append(text)
    fit_texts = texts[:FIT_DOCUMENTS]
    say(
        f"{len(pages):,} English pages; entities over {len(entity_texts)} pages"
        f" ({sum(len(t.split()) for t in entity_texts):,} words); a fit over {len(fit_texts):,} pages"
    )
    if len(fit_texts) < FIT_DOCUMENTS:
        say(f"the demo site has only {len(fit_texts)} English pages with text")
        return 1

    moto = start_moto()
    run = uuid.uuid4().hex[:6]
    bucket = f"kestrel-bench-nlp-{run}"
    environment = {
        "AWS_ENDPOINT_URL": moto.endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "KESTREL_NLP_LOG_LEVEL": "WARNING",
    }
    log_path = PROJECT_ROOT / ".state" / "bench-nlp" / f"service-{run}.log"
    service = NlpServiceProcess(host="127.0.0.1", port=free_port(), environment=environment, log_path=log_path)
    try:
        os.environ.update(environment)
        import boto3

        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        key = f"nlp/corpora/org_bench/project/{run}.jsonl.gz"
        corpus = "".join(json.dumps({"id": f"page-{n:05d}", "text": t}) + "\n" for n, t in enumerate(fit_texts))
        s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(corpus.encode(), mtime=0))

        service.start(timeout=120)
        assert service.ready_seconds is not None
        assert service.process is not None
        say(f"service ready in {service.ready_seconds:.2f} s (pid {service.process.pid}; log {log_path})")

        sys.path.insert(0, str(NLP_SERVICE_DIR))
        import spacy

        from kestrel_nlp.pipeline import NER_EXCLUDE, load_pipelines
        from kestrel_nlp.settings import Settings

        model = Settings().spacy_model
        nlp = spacy.load(model, exclude=NER_EXCLUDE)
        say(f"in-process pipeline: {model}, pipes {nlp.pipe_names}")

        service_rounds: list[float] = []
        local_rounds: list[float] = []
        with httpx.Client(timeout=600) as client:
            entities_over_http(client, service.url, entity_texts[:BATCH_DOCUMENTS])  # warm both sides
            entities_in_process(nlp, entity_texts[:BATCH_DOCUMENTS])
            for round_number in range(args.repeats):
                seconds, words, mentions = entities_over_http(client, service.url, entity_texts)
                local_seconds, local_mentions = entities_in_process(nlp, entity_texts)
                if local_mentions != mentions:
                    say(f"entity mentions differ: service {mentions}, in-process {local_mentions}")
                    return 1
                service_rounds.append(seconds)
                local_rounds.append(local_seconds)
                say(
                    f"entities {round_number + 1}: service {words / seconds:,.0f} words/s ({seconds:.2f} s),"
                    f" in-process {words / local_seconds:,.0f} words/s ({local_seconds:.2f} s);"
                    f" {mentions:,} mentions both"
                )
            entity_words_per_s = words / statistics.median(service_rounds)
            vs_inprocess = statistics.median(local_rounds) / statistics.median(service_rounds)

            fits = []
            for round_number in range(args.repeats):
                body = fit_over_http(client, service.url, bucket, key, round_number)
                fits.append(body)
                t = body["timings"]
                say(
                    f"fit {round_number + 1}: version {body['version']}, k={body['k']};"
                    f" request {body['wall_s']:.1f} s ="
                    f" read {t['read_s']:.2f} + preprocess {t['preprocess_s']:.1f} + k search {t['search_s']:.1f}"
                    f" + final fit {t['fit_s']:.2f} + store {t['store_s']:.2f}"
                )
        if len({(f["version"], json.dumps(f["topics"])) for f in fits}) != 1:
            say("the fits differ between rounds: not deterministic")
            return 1
        rss = memory_mb(service.process.pid)
        say(f"service memory after the runs: VmRSS {rss['VmRSS']:.0f} MB, peak (VmHWM) {rss['VmHWM']:.0f} MB")

        say(f"k search: {fits[0]['why']}")
        from gensim.models import LdaModel

        from kestrel_nlp import preprocess, topics

        began = time.perf_counter()
        prepared = preprocess.prepare(load_pipelines(model), fit_texts)
        say(f"preprocessed the same corpus here in {time.perf_counter() - began:.1f} s")
        meta = json.loads(s3.get_object(Bucket=bucket, Key=f"{fits[0]['location']['prefix']}meta.json")["Body"].read())
        bows = [bow for bow in prepared.bows if bow]
        if (
            len(prepared.dictionary) != fits[0]["dictionary_size"]
            or len(bows) != meta["corpus"]["documents_with_terms"]
        ):
            say("the local preprocessing does not match the service's")
            return 1
        LdaModel(corpus=bows, id2word=prepared.dictionary, **meta["lda"])  # warm, as the search warms the service
        direct_rounds = []
        for round_number in range(args.repeats):
            began = time.perf_counter()
            direct = LdaModel(corpus=bows, id2word=prepared.dictionary, **meta["lda"])
            direct_rounds.append(time.perf_counter() - began)
            say(f"direct LdaModel {round_number + 1}: {direct_rounds[-1]:.2f} s ({meta['lda']})")
        direct_terms = [[prepared.dictionary[i] for i in ids] for ids in topics.top_term_ids(direct)]
        service_terms = [[term["term"] for term in topic["terms"]] for topic in fits[0]["topics"]]
        if direct_terms != service_terms:
            say("the direct model's topics differ from the service's: not the same call")
            return 1
        lda_fit_s = statistics.median(f["timings"]["fit_s"] for f in fits)
        vs_gensim = statistics.median(direct_rounds) / lda_fit_s
        say(
            f"medians over {args.repeats} rounds: service fit {lda_fit_s:.2f} s,"
            f" direct {statistics.median(direct_rounds):.2f} s;"
            f" k search {statistics.median(f['timings']['search_s'] for f in fits):.1f} s, preprocessing"
            f" {statistics.median(f['timings']['preprocess_s'] for f in fits):.1f} s, whole request"
            f" {statistics.median(f['wall_s'] for f in fits):.1f} s"
        )
    finally:
        service.stop()
        moto.stop()
    print(
        f"bench-nlp entity_words_per_s={entity_words_per_s:.0f} vs_inprocess={vs_inprocess:.2f}"
        f" lda_fit_s={lda_fit_s:.2f} vs_gensim={vs_gensim:.2f} service_rss_mb={rss['VmRSS']:.0f}"
        f" ready_s={service.ready_seconds:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
