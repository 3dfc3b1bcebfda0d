"""topic_model: fit a project's topic model (a ``topic_model`` job) through the NLP service."""

from shared.nlp import fitting
from shared.nlp.models import FitTopicsMessage
from shared.runtime.worker import Worker
from shared.settings import Database, NlpModels, NlpService, Topics

worker: Worker[FitTopicsMessage, FitTopicsMessage] = Worker(
    "topic_model",
    FitTopicsMessage,
    fitting.fit,
    idempotency=fitting.rule_for,
    settings=(Database, NlpService, NlpModels, Topics),
)
handler = worker.lambda_handler()
