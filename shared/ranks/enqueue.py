"""Sending rank_check's messages (a project's post, a job's collect, a live check) and serp_screenshot's.

Its own module so that the API sends a live check without importing the worker's logic.
"""

import datetime as dt
import uuid
from collections.abc import Sequence

from shared import aws
from shared.ranks.models import CollectRanksMessage, LiveRanksMessage, PostRanksMessage
from shared.screenshots.models import ScreenshotSnapshot
from shared.settings import RankCheckQueue, ScreenshotQueue, settings_of


def _queue() -> str:
    return settings_of(RankCheckQueue).rank_check_queue_url


def posts(projects: Sequence[tuple[str, uuid.UUID]], check_date: dt.date) -> None:
    bodies = [
        PostRanksMessage(tenant_id=tenant_id, project_id=project_id, check_date=check_date).model_dump_json()
        for tenant_id, project_id in projects
    ]
    aws.send_message_batches(_queue(), bodies)


def collect(tenant_id: str, job_id: uuid.UUID, *, attempt: int, delay_seconds: int) -> None:
    body = CollectRanksMessage(tenant_id=tenant_id, job_id=job_id, attempt=attempt).model_dump_json()
    aws.client("sqs").send_message(QueueUrl=_queue(), MessageBody=body, DelaySeconds=delay_seconds)


def live(tenant_id: str, job_id: uuid.UUID) -> None:
    body = LiveRanksMessage(tenant_id=tenant_id, job_id=job_id).model_dump_json()
    aws.client("sqs").send_message(QueueUrl=_queue(), MessageBody=body)


def screenshots(tenant_id: str, project_id: uuid.UUID, snapshot_ids: Sequence[uuid.UUID]) -> None:
    bodies = [
        ScreenshotSnapshot(tenant_id=tenant_id, project_id=project_id, snapshot_id=snapshot_id).model_dump_json()
        for snapshot_id in snapshot_ids
    ]
    aws.send_message_batches(settings_of(ScreenshotQueue).serp_screenshot_queue_url, bodies)
