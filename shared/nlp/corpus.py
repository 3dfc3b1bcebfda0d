"""The topic fit's files in the NLP bucket: the corpus topic_model writes, the distributions the service writes.

* ``nlp/corpora/<tenant>/<project>/<job>.jsonl.gz``: gzip JSON Lines, ``{"id": page id, "text": main text}``
  per page, in page order and with a fixed gzip header time, so the same pages give the same bytes (and the
  service, fitting deterministically, the same version).
* ``nlp/models/<tenant>/<project>/<version>/documents.jsonl.gz``: per corpus document its topics
  (``{"id", "topics": [{"topic_id", "weight"}]}``), read back line by line.
"""

import gzip
import json
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from typing import IO, Any

from pydantic import ValidationError

from shared import aws
from shared.errors import PermanentError
from shared.nlp.client import DocumentTopics

CORPORA_PREFIX = "nlp/corpora"
MODELS_PREFIX = "nlp/models"
_SPOOL_BYTES = 32 * 1024 * 1024  # a corpus bigger than this is spooled to /tmp


def corpus_key(tenant_id: str, project_id: uuid.UUID, job_id: uuid.UUID) -> str:
    return f"{CORPORA_PREFIX}/{tenant_id}/{project_id}/{job_id}.jsonl.gz"


def models_prefix(tenant_id: str, project_id: uuid.UUID) -> str:
    """Where the service stores the project's model versions (each under ``<version>/``)."""
    return f"{MODELS_PREFIX}/{tenant_id}/{project_id}/"


def write_lines(documents: Iterable[tuple[uuid.UUID, str]], out: IO[bytes]) -> int:
    """The corpus as gzip JSON Lines into ``out``; returns how many documents."""
    count = 0
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        for page_id, text in documents:
            line = json.dumps({"id": str(page_id), "text": text}, ensure_ascii=False) + "\n"
            gz.write(line.encode())
            count += 1
    return count


def upload_corpus(bucket: str, key: str, documents: Iterable[tuple[uuid.UUID, str]]) -> int:
    """Write the corpus to ``s3://bucket/key`` as it streams from the database; returns how many documents."""
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
        count = write_lines(documents, spool)
        spool.seek(0)
        aws.client("s3").upload_fileobj(spool, bucket, key, ExtraArgs={"ContentType": "application/gzip"})
    return count


def read_distributions(lines: IO[bytes]) -> Iterator[DocumentTopics]:
    """Each document's topic distribution from a ``documents.jsonl.gz`` stream; a bad line is a permanent error."""
    with gzip.GzipFile(fileobj=lines, mode="rb") as gz:
        for number, raw in enumerate(gz, 1):
            if not raw.strip():
                continue
            try:
                yield DocumentTopics.model_validate_json(raw)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(part) for part in first["loc"]) or "line"
                raise PermanentError(
                    f"Line {number} of the fit's documents file is not a distribution ({where}: {first['msg']})."
                ) from exc


def distributions(bucket: str, key: str) -> Iterator[DocumentTopics]:
    body: Any = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"]
    try:
        yield from read_distributions(body)
    finally:
        body.close()
