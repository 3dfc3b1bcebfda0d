"""nlp_entities: a project's changed pages through the NLP service into entities; then the topic refit threshold."""

from shared.nlp import extraction
from shared.nlp.models import PageChangesMessage
from shared.runtime.worker import Worker
from shared.settings import Database, NlpEntitiesQueue, NlpService, TopicQueue, Topics

worker: Worker[PageChangesMessage, PageChangesMessage] = Worker(
    "nlp_entities",
    PageChangesMessage,
    extraction.handle,
    idempotency=extraction.IDEMPOTENCY,
    settings=(Database, NlpService, NlpEntitiesQueue, TopicQueue, Topics),
)
handler = worker.lambda_handler()
