"""Raw HTML of crawled pages, gzip-compressed in S3 under the tenant's prefix (a lifecycle rule expires it)."""

import gzip
import hashlib
import uuid

from shared import aws
from shared.settings import RawPages, settings_of

PREFIX = "raw-html"


def key_for(tenant_id: str, project_id: uuid.UUID, job_id: uuid.UUID, url: str) -> str:
    digest = hashlib.sha256(url.encode()).hexdigest()[:40]
    return f"{PREFIX}/{tenant_id}/{project_id}/{job_id}/{digest}.html.gz"


def store(key: str, html: bytes) -> None:
    aws.client("s3").put_object(
        Bucket=settings_of(RawPages).raw_pages_bucket,
        Key=key,
        Body=gzip.compress(html, compresslevel=5, mtime=0),
        ContentType="text/html",
        ContentEncoding="gzip",
    )


def load(key: str) -> bytes:
    body = aws.client("s3").get_object(Bucket=settings_of(RawPages).raw_pages_bucket, Key=key)["Body"].read()
    return gzip.decompress(body)
