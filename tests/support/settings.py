"""Function settings that name no real resource, for suites that import handlers without calling services.

A handler checks its settings at cold start (its module's import); tests that only read a handler's
routes, or run pure code, give it a database on a closed port and queues and buckets that do not exist.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from shared.settings import forget_settings

UNREACHABLE_SETTINGS = {
    "KESTREL_STAGE": "test",
    "KESTREL_DATABASE_URL": "postgresql://unit@127.0.0.1:9/none",
    "KESTREL_AUTH_ISSUER": "https://auth.unit.kestrel.example/",
    "KESTREL_UPLOADS_BUCKET": "unit-no-uploads",
    "KESTREL_CHUNKS_BUCKET": "unit-no-chunks",
    "KESTREL_GSC_SYNC_QUEUE_URL": "http://127.0.0.1:9/000000000000/unit-no-sync",
    "KESTREL_GSC_INGEST_QUEUE_URL": "http://127.0.0.1:9/000000000000/unit-no-ingest",
    "KESTREL_ROLLUP_QUEUE_URL": "http://127.0.0.1:9/000000000000/unit-no-rollup",
    "KESTREL_DLQ_URL": "http://127.0.0.1:9/000000000000/unit-no-dlq",
    "KESTREL_PAGE_CRAWL_QUEUE_URL": "http://127.0.0.1:9/000000000000/unit-no-page-crawl",
    "KESTREL_RAW_PAGES_BUCKET": "unit-no-raw-pages",
    "KESTREL_CRAWL_USER_AGENT": "KestrelBot/1.0 (+https://unit.kestrel.example/bot)",
    "KESTREL_GSC_SECRET_PREFIX": "kestrel/unit/gsc/",
    "KESTREL_NLP_SERVICE_URL": "http://127.0.0.1:9",
    "KESTREL_NLP_MODELS_BUCKET": "unit-no-nlp-models",
    "KESTREL_NLP_ENTITIES_QUEUE_URL": "http://127.0.0.1:9/000000000000/unit-no-nlp-entities",
    "KESTREL_TOPIC_MODEL_QUEUE_URL": "http://127.0.0.1:9/000000000000/unit-no-topic-model",
    "KESTREL_DATAFORSEO_API_BASE_URL": "http://127.0.0.1:9",
    "KESTREL_DATAFORSEO_SECRET_NAME": "kestrel/unit/dataforseo",
    "KESTREL_RANK_CHECK_QUEUE_URL": "http://127.0.0.1:9/000000000000/unit-no-rank-check",
    "KESTREL_SERP_SCREENSHOT_QUEUE_URL": "http://127.0.0.1:9/000000000000/unit-no-serp-screenshot",
    "KESTREL_SCREENSHOTS_BUCKET": "unit-no-screenshots",
    "KESTREL_SCREENSHOT_RETENTION_DAYS": "30",
    "KESTREL_CHROMIUM_PATH": "/nonexistent/chromium",
}


@contextmanager
def unreachable_settings() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in UNREACHABLE_SETTINGS.items():
            patch.setenv(name, value)
        forget_settings()
        yield
    forget_settings()
