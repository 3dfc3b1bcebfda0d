"""The integration suite's platform: a real PostgreSQL 16, a real AWS API emulator over HTTP, a local Sentry.

Every test here runs against it (the autouse ``platform``); each run gets its own database. PostgreSQL
and moto are started as tests/support/services.py describes; the NLP service, for the tests that ask for
it (``nlp_service``), as tests/support/nlp.py does.
"""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from kestrel_local.moto_server import MotoServer
from kestrel_local.postgres import LocalDatabase, drop_database, provision
from kestrel_local.sentry import SentryIngest
from tests.support.api import ApiClient
from tests.support.nlp import nlp_service
from tests.support.services import REGION, admin_url, aws_emulator, moto
from tests.support.tenants import new_tenant

__all__ = ["admin_url", "aws_emulator", "moto", "nlp_service"]  # fixtures of tests/support/ this suite uses

UPLOADS_BUCKET = "kestrel-test-uploads"
CHUNKS_BUCKET = "kestrel-test-chunks"
GSC_SYNC_QUEUE = "kestrel-test-gsc-sync"
GSC_INGEST_QUEUE = "kestrel-test-gsc-ingest"
ROLLUP_QUEUE = "kestrel-test-rollup"
PAGE_CRAWL_QUEUE = "kestrel-test-page-crawl"
NLP_ENTITIES_QUEUE = "kestrel-test-nlp-entities"
TOPIC_MODEL_QUEUE = "kestrel-test-topic-model"
NLP_MODELS_BUCKET = "kestrel-test-nlp-models"
SCREENSHOTS_BUCKET = "kestrel-test-screenshots"
RANK_CHECK_QUEUE = "kestrel-test-rank-check"  # api_content's live checks (test_rank_check.py uses its own queues)
ACCOUNT_ID = "123456789012"  # moto's default account


@pytest.fixture(scope="session")
def database(admin_url: str) -> Iterator[LocalDatabase]:
    name = f"kestrel_test_{uuid.uuid4().hex[:8]}"
    db = provision(admin_url, name)
    yield db
    drop_database(admin_url, name)


@pytest.fixture(scope="session")
def sentry() -> Iterator[SentryIngest]:
    ingest = SentryIngest().start()
    yield ingest
    ingest.stop()


@pytest.fixture(scope="session", autouse=True)
def platform(
    database: LocalDatabase, moto: MotoServer, aws_emulator: MotoServer, sentry: SentryIngest
) -> Iterator[LocalDatabase]:
    """Configure the process as a Lambda would be configured, pointing at the local services."""
    env = {
        "KESTREL_STAGE": "test",
        "KESTREL_DATABASE_URL": database.app_url,
        "KESTREL_MIGRATION_DATABASE_URL": database.owner_url,
        "KESTREL_UPLOADS_BUCKET": UPLOADS_BUCKET,
        "KESTREL_CHUNKS_BUCKET": CHUNKS_BUCKET,
        "KESTREL_GSC_SYNC_QUEUE_URL": f"{moto.endpoint}/{ACCOUNT_ID}/{GSC_SYNC_QUEUE}",
        "KESTREL_GSC_INGEST_QUEUE_URL": f"{moto.endpoint}/{ACCOUNT_ID}/{GSC_INGEST_QUEUE}",
        "KESTREL_ROLLUP_QUEUE_URL": f"{moto.endpoint}/{ACCOUNT_ID}/{ROLLUP_QUEUE}",
        # the crawl tests create their own queue and bucket (test_page_crawl.py); these name api_content's
        "KESTREL_PAGE_CRAWL_QUEUE_URL": f"{moto.endpoint}/{ACCOUNT_ID}/{PAGE_CRAWL_QUEUE}",
        "KESTREL_RAW_PAGES_BUCKET": "kestrel-test-raw-pages",
        "KESTREL_CRAWL_USER_AGENT": "KestrelBot/1.0 (+https://test.kestrel.example/bot)",
        # page_crawl relays page changes here, api_content sends refits here (test_nlp.py uses its own queues)
        "KESTREL_NLP_ENTITIES_QUEUE_URL": f"{moto.endpoint}/{ACCOUNT_ID}/{NLP_ENTITIES_QUEUE}",
        "KESTREL_TOPIC_MODEL_QUEUE_URL": f"{moto.endpoint}/{ACCOUNT_ID}/{TOPIC_MODEL_QUEUE}",
        "KESTREL_NLP_MODELS_BUCKET": NLP_MODELS_BUCKET,
        # api_content presigns screenshots' GETs (test_serp_screenshot.py's worker stores them here too)
        "KESTREL_SCREENSHOTS_BUCKET": SCREENSHOTS_BUCKET,
        "KESTREL_SCREENSHOT_RETENTION_DAYS": "30",
        "KESTREL_RANK_CHECK_QUEUE_URL": f"{moto.endpoint}/{ACCOUNT_ID}/{RANK_CHECK_QUEUE}",
        # no service here: test_nlp.py starts the real one (tests/support/nlp.py) and points this at it
        "KESTREL_NLP_SERVICE_URL": "http://127.0.0.1:9",
        "KESTREL_GSC_SECRET_PREFIX": "kestrel/test/gsc/",
        "KESTREL_DB_LOCK_TIMEOUT_MS": "1000",
        "KESTREL_SENTRY_DSN": sentry.dsn,
        "KESTREL_AUTH_ISSUER": "https://auth.test.kestrel.example/",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_SERVICE_NAME": "kestrel",
        "POWERTOOLS_METRICS_NAMESPACE": "Kestrel/test",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        from shared.runtime.cache import reset_cached_runtime

        reset_cached_runtime()
        from shared.migrate import migrate_to_head

        migrate_to_head()
        _create_queues_and_buckets()
        yield database
        reset_cached_runtime()


def _create_queues_and_buckets() -> None:
    """The chunks, NLP and screenshots buckets, and the queues the functions send to (sync, ingest, rollup, crawl,
    NLP, ranks)."""
    import boto3

    for bucket in (CHUNKS_BUCKET, NLP_MODELS_BUCKET, SCREENSHOTS_BUCKET):
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
    sqs = boto3.client("sqs", region_name=REGION)
    for name in (
        GSC_SYNC_QUEUE,
        GSC_INGEST_QUEUE,
        ROLLUP_QUEUE,
        PAGE_CRAWL_QUEUE,
        NLP_ENTITIES_QUEUE,
        TOPIC_MODEL_QUEUE,
        RANK_CHECK_QUEUE,
    ):
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "30"})


@pytest.fixture(scope="session")
def projects_handler(platform: LocalDatabase) -> Any:
    from functions.api_projects.handler import handler

    return handler


@pytest.fixture(scope="session")
def reports_handler(platform: LocalDatabase) -> Any:
    from functions.api_reports.handler import handler

    return handler


@pytest.fixture
def api(platform: LocalDatabase, projects_handler: Any) -> ApiClient:
    """The projects API as a freshly provisioned tenant's user calls it."""
    return ApiClient(projects_handler, "api_projects", new_tenant(platform.owner_url))


@pytest.fixture
def project(api: ApiClient) -> dict[str, Any]:
    reply = api.post("/v1/projects", {"name": "Acme", "domain": "https://www.Acme.com/blog", "brand_terms": ["Acme"]})
    assert reply.status == 201, reply.raw
    project: dict[str, Any] = reply.json
    return project
