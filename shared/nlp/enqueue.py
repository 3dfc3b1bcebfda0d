"""Sending the NLP workers' messages: a project's page changes to nlp_entities, a topic job to topic_model.

Its own module so that the crawler and the API send them without importing the workers' logic.
"""

import uuid

from botocore.exceptions import BotoCoreError, ClientError

from shared import aws
from shared.nlp.models import FitTopicsMessage, PageChangesMessage
from shared.observability import logger
from shared.settings import NlpEntitiesQueue, TopicQueue, settings_of


def page_changes(tenant_id: str, project_id: uuid.UUID) -> None:
    body = PageChangesMessage(tenant_id=tenant_id, project_id=project_id).model_dump_json()
    aws.client("sqs").send_message(QueueUrl=settings_of(NlpEntitiesQueue).nlp_entities_queue_url, MessageBody=body)


def relay_page_changes(tenant_id: str, project_id: uuid.UUID) -> bool:
    """page_crawl's relay, after a batch that wrote page-changed events committed (and when a crawl ends).

    A failed send is only logged, never fails the crawl: the events wait in the outbox, and the crawl's end
    (or its next batch with changes) sends again; nlp_entities takes every unconsumed event of the project.
    """
    try:
        page_changes(tenant_id, project_id)
    except (ClientError, BotoCoreError):
        logger.warning(
            "Page changes not relayed to nlp_entities; the next relay of the project takes them",
            exc_info=True,
            extra={"tenant_id": tenant_id, "project_id": str(project_id)},
        )
        return False
    return True


def fit_topics(tenant_id: str, job_id: uuid.UUID) -> None:
    body = FitTopicsMessage(tenant_id=tenant_id, job_id=job_id).model_dump_json()
    aws.client("sqs").send_message(QueueUrl=settings_of(TopicQueue).topic_model_queue_url, MessageBody=body)
