"""The screenshots bucket: PNGs under ``screenshots/<tenant>/``, expired by the bucket's lifecycle rule."""

import uuid

from shared import aws
from shared.settings import ScreenshotStore, settings_of

PREFIX = "screenshots"


def key_for(tenant_id: str, project_id: uuid.UUID, snapshot_id: uuid.UUID, name: str) -> str:
    """Where one capture of a snapshot goes: the same key on a redelivery, so a retry overwrites, never adds."""
    return f"{PREFIX}/{tenant_id}/{project_id}/{snapshot_id}/{name}.png"


def put(key: str, png: bytes) -> None:
    aws.client("s3").put_object(
        Bucket=settings_of(ScreenshotStore).screenshots_bucket, Key=key, Body=png, ContentType="image/png"
    )


def presigned_get(key: str) -> tuple[str, int]:
    """A short-lived GET of one screenshot, and its lifetime in seconds."""
    settings = settings_of(ScreenshotStore)
    expires = settings.screenshot_url_expiry_seconds
    url = aws.client("s3").generate_presigned_url(
        "get_object",
        Params={"Bucket": settings.screenshots_bucket, "Key": key, "ResponseContentType": "image/png"},
        ExpiresIn=expires,
    )
    return url, expires
