"""Queue message bodies the workers accept.

S3 event notifications are validated on the fields Kestrel uses; other fields
are allowed and ignored, so the same model reads notifications from S3 and
from emulators that send fewer fields.
"""

from typing import Literal

from pydantic import BaseModel, Field


class S3Bucket(BaseModel):
    name: str


class S3Object(BaseModel):
    key: str
    size: int = Field(default=0, ge=0)
    eTag: str | None = None
    sequencer: str | None = None


class S3Entity(BaseModel):
    bucket: S3Bucket
    object: S3Object


class S3NotificationRecord(BaseModel):
    eventSource: Literal["aws:s3"]
    eventName: str
    s3: S3Entity


class S3Notification(BaseModel):
    Records: list[S3NotificationRecord] = Field(min_length=1)


class S3TestEvent(BaseModel):
    """Sent once by S3 when a notification is configured; nothing to do."""

    Service: str
    Event: Literal["s3:TestEvent"]
    Bucket: str


UploadMessage = S3Notification | S3TestEvent
