"""Sending a crawl's messages to page_crawl's queue: its start, or its next batches.

Its own module so that the API (which starts crawls) does not import the crawler
itself (fetching, parsing: trafilatura and lxml cost a cold start).
"""

import uuid

from shared import aws
from shared.crawl.models import CrawlBatchMessage, StartCrawlMessage
from shared.settings import CrawlQueue, settings_of


def send(tenant_id: str, job_id: uuid.UUID, *, start: bool = False, batches: int = 1) -> None:
    """The crawl's start message, or ``batches`` batch messages."""
    message = StartCrawlMessage if start else CrawlBatchMessage
    body = message(tenant_id=tenant_id, job_id=job_id).model_dump_json()
    aws.send_message_batches(settings_of(CrawlQueue).page_crawl_queue_url, [body] * (1 if start else batches))
