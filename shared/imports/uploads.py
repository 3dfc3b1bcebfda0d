"""Where customer uploads live in the uploads bucket, and what their keys say.

``uploads/{tenant_id}/{kind}/{job_id}.csv``: the tenant prefix scopes every
presigned URL to its tenant, and the worker reads tenant and job back from
the key of the S3 event it receives.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import unquote_plus

from pydantic import BaseModel

from shared import aws
from shared.db import TenantSession
from shared.errors import NotFound, PermanentError
from shared.jobs.data import jobs
from shared.jobs.models import JobKind
from shared.jobs.tables import Job
from shared.settings import Uploads, settings_of

UPLOAD_PREFIX = "uploads/"
KEYWORD_IMPORT = "keyword-imports"
GSC_EXPORT = "gsc-exports"
_KEY = re.compile(
    r"^uploads/(?P<tenant_id>[A-Za-z0-9_-]{1,64})/(?P<kind>[a-z][a-z-]*)/(?P<job_id>[0-9a-f-]{36})\.(?P<ext>[a-z.]+)$"
)


class UploadTarget(BaseModel):
    """Where and how the browser PUTs a file: a presigned URL with the headers it was signed for."""

    url: str
    method: Literal["PUT"] = "PUT"
    headers: dict[str, str]
    expires_at: datetime


@dataclass(frozen=True)
class UploadKey:
    tenant_id: str
    kind: str
    job_id: uuid.UUID
    extension: str = "csv"

    @property
    def object_key(self) -> str:
        return f"{UPLOAD_PREFIX}{self.tenant_id}/{self.kind}/{self.job_id}.{self.extension}"

    @classmethod
    def parse(cls, raw_key: str) -> "UploadKey":
        """Parse a key as S3 event notifications carry it (URL-encoded)."""
        key = unquote_plus(raw_key)
        match = _KEY.match(key)
        if match is None:
            raise PermanentError(f"Object key {key!r} is not a Kestrel upload (uploads/<tenant>/<kind>/<job>.<ext>).")
        try:
            job_id = uuid.UUID(match["job_id"])
        except ValueError as exc:
            raise PermanentError(f"Object key {key!r} does not name a job id.") from exc
        return cls(tenant_id=match["tenant_id"], kind=match["kind"], job_id=job_id, extension=match["ext"])


def presigned_put(key: UploadKey, content_type: str) -> UploadTarget:
    settings = settings_of(Uploads)
    url = aws.client("s3").generate_presigned_url(
        "put_object",
        Params={"Bucket": settings.uploads_bucket, "Key": key.object_key, "ContentType": content_type},
        ExpiresIn=settings.upload_url_expiry_seconds,
    )
    expires_at = datetime.now(UTC) + timedelta(seconds=settings.upload_url_expiry_seconds)
    return UploadTarget(url=url, headers={"Content-Type": content_type}, expires_at=expires_at)


@dataclass(frozen=True)
class Upload:
    """An uploaded object as its importer sees it: what its key says, where it is, and how big."""

    key: UploadKey
    bucket: str
    size: int

    def open(self) -> Any:
        """The object's body, streamed from S3."""
        return aws.client("s3").get_object(Bucket=self.bucket, Key=self.key.object_key)["Body"]


def upload_job(session: TenantSession, key: UploadKey, kind: JobKind) -> tuple[Job, uuid.UUID]:
    """The job an upload's key names, locked for its import, and its project; a key naming no such job (or a
    job of no project) cannot be imported."""
    try:
        job = jobs.get(session, key.job_id, kind=kind, for_update=True)
    except NotFound as exc:
        raise PermanentError(f"Upload {key.object_key} names job {key.job_id}, which does not exist.") from exc
    if job.project_id is None:
        raise PermanentError(f"Job {key.job_id} has no project.")
    return job, job.project_id
