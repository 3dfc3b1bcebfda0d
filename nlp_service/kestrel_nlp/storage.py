"""S3: the corpus a fit reads, the model files it writes, the models inference loads.

boto3 reads its endpoint, region and credentials from the standard variables
(``AWS_ENDPOINT_URL`` for moto locally). Errors the caller can fix (a missing corpus or
bucket, a corpus that is not gzip JSON Lines) become 4xx problems naming the object; other
S3 failures become 503 (try again).

Model files are gensim's own (pickles and numpy arrays): they are read only from the
models prefix of the service's own bucket, which only the service's task role can write.
"""

import gzip
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from kestrel_nlp.problems import Problem

MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
MAX_CORPUS_DOCUMENTS = 100_000


@dataclass(frozen=True)
class CorpusDocument:
    id: str
    text: str


@dataclass(frozen=True)
class Corpus:
    raw: bytes  # the object's bytes as stored (the version hashes them)
    documents: list[CorpusDocument]


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class Storage:
    def __init__(self, client: Any | None = None) -> None:
        self.client = client or boto3.client("s3")

    def read_corpus(self, bucket: str, key: str) -> Corpus:
        where = f"s3://{bucket}/{key}"
        try:
            raw: bytes = self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            code = _code(exc)
            if code in MISSING_CODES:
                raise Problem(422, "Corpus not found", f"The corpus {where} does not exist.") from exc
            if code == "NoSuchBucket":
                raise Problem(422, "Corpus not found", f"The bucket of the corpus {where} does not exist.") from exc
            if code in ("AccessDenied", "403"):
                raise Problem(422, "Corpus unreadable", f"The service may not read the corpus {where}.") from exc
            raise Problem(503, "Service unavailable", f"S3 did not return the corpus {where}: {code}.") from exc
        except BotoCoreError as exc:
            raise Problem(503, "Service unavailable", f"S3 did not return the corpus {where}: {exc}.") from exc
        return Corpus(raw=raw, documents=parse_corpus(raw, where))

    def exists(self, bucket: str, key: str) -> bool:
        try:
            self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in MISSING_CODES or _code(exc) == "NoSuchBucket":
                return False
            raise
        return True

    def read_json(self, bucket: str, key: str) -> Any:
        return json.loads(self.client.get_object(Bucket=bucket, Key=key)["Body"].read())

    def upload_directory(self, directory: Path, bucket: str, prefix: str) -> list[str]:
        """Every file of ``directory`` under ``prefix``, meta.json last (its presence means the version is whole)."""
        files = sorted(path for path in directory.iterdir() if path.is_file())
        files.sort(key=lambda path: path.name == "meta.json")
        keys = []
        for path in files:
            key = prefix + path.name
            try:
                self.client.upload_file(str(path), bucket, key)
            except (ClientError, BotoCoreError) as exc:
                if isinstance(exc, ClientError) and _code(exc) == "NoSuchBucket":
                    raise Problem(422, "Output not writable", f"The output bucket {bucket} does not exist.") from exc
                raise Problem(503, "Service unavailable", f"S3 did not store s3://{bucket}/{key}: {exc}.") from exc
            keys.append(key)
        return keys

    def download_prefix(self, bucket: str, prefix: str, directory: Path) -> list[str]:
        names = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                name = item["Key"][len(prefix) :]
                if not name or "/" in name:
                    continue
                self.client.download_file(bucket, item["Key"], str(directory / name))
                names.append(name)
        return sorted(names)


def parse_corpus(raw: bytes, where: str) -> list[CorpusDocument]:
    """gzip JSON Lines, one ``{"id": ..., "text": ...}`` per line (plain JSON Lines are accepted too)."""
    try:
        data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        text = data.decode("utf-8")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise Problem(422, "Corpus unreadable", f"The corpus {where} is not gzip JSON Lines in UTF-8: {exc}.") from exc
    documents = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise Problem(422, "Corpus unreadable", f"Line {number} of the corpus {where} is not JSON: {exc}.") from exc
        if not (isinstance(item, dict) and isinstance(item.get("id"), str) and isinstance(item.get("text"), str)):
            raise Problem(
                422,
                "Corpus unreadable",
                f'Line {number} of the corpus {where} is not an object with string "id" and "text".',
            )
        documents.append(CorpusDocument(id=item["id"], text=item["text"]))
        if len(documents) > MAX_CORPUS_DOCUMENTS:
            raise Problem(422, "Corpus too large", f"The corpus {where} has over {MAX_CORPUS_DOCUMENTS:,} documents.")
    return documents


def gzip_json_lines(items: list[dict[str, Any]]) -> bytes:
    """Deterministic bytes: no timestamp in the gzip header."""
    body = "".join(json.dumps(item, separators=(",", ":")) + "\n" for item in items).encode()
    return gzip.compress(body, mtime=0)
