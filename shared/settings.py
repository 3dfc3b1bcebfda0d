"""Typed runtime configuration: small models read from the environment, checked at cold start.

This is the only module that looks at ``KESTREL_*`` environment variables. In AWS
the values come from serverless.yml (each function's environment); locally the
local stack sets them from the same template, and the tests set them to their own
resources. Nothing here defaults to a local value: a deployed function missing a
setting fails its cold start with a message naming the variable
(``require_settings``, called by the HTTP and worker runtimes with the models the
function declares). boto3 reads its own standard variables (AWS_REGION,
AWS_ENDPOINT_URL, credentials) itself.

Each model is one concern; code reads the one it needs with ``settings_of(Model)``.
"""

from decimal import Decimal
from functools import cache
from typing import Literal, Self, cast

from pydantic import BaseModel, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.errors import ConfigurationError

ENV_PREFIX = "KESTREL_"


class SettingsModel(BaseSettings):
    """One concern's settings, read from ``KESTREL_<FIELD>`` variables."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)


class Platform(SettingsModel):
    """What every function is: its stage, and where its errors go."""

    stage: Literal["dev", "prod", "local", "test"]
    # Sentry: either a DSN directly (local) or the name of a secret holding it; neither turns Sentry off.
    sentry_dsn: SecretStr | None = None
    sentry_dsn_secret_name: str | None = None


class Database(SettingsModel):
    """The application's database. Locally a URL; in AWS the RDS Proxy endpoint plus a Secrets Manager secret
    holding {"username", "password"} for the application role."""

    database_url: SecretStr | None = None
    db_host: str | None = None
    db_port: int = 5432
    db_name: str = "kestrel"
    db_secret_arn: str | None = None
    db_sslmode: Literal["disable", "prefer", "require", "verify-full"] = "require"
    # Per-transaction guards: a stuck lock or query fails fast (and is retried as a transient error)
    # instead of holding a Lambda until its timeout.
    db_lock_timeout_ms: int = 5_000
    db_statement_timeout_ms: int = 60_000

    @model_validator(mode="after")
    def _one_way_to_connect(self) -> Self:
        if self.database_url is None and (self.db_host is None or self.db_secret_arn is None):
            raise ValueError(f"set {ENV_PREFIX}DATABASE_URL, or {ENV_PREFIX}DB_HOST and {ENV_PREFIX}DB_SECRET_ARN")
        return self


class MigrationDatabase(SettingsModel):
    """The schema owner's credentials: only migrations use them (never the request path)."""

    migration_database_url: SecretStr | None = None
    db_owner_secret_arn: str | None = None

    @model_validator(mode="after")
    def _one_way_to_connect(self) -> Self:
        if self.migration_database_url is None and self.db_owner_secret_arn is None:
            raise ValueError(f"set {ENV_PREFIX}MIGRATION_DATABASE_URL or {ENV_PREFIX}DB_OWNER_SECRET_ARN")
        return self


class Api(SettingsModel):
    """The HTTP API: the JWT issuer (the Auth0 tenant URL), shown in the OpenAPI document."""

    auth_issuer: str


class WorkerQueues(SettingsModel):
    """A worker's own dead-letter queue, where permanent failures are quarantined with their reason."""

    dlq_url: str


class Uploads(SettingsModel):
    """Customer uploads: presigned PUTs into the uploads bucket (read back by file_import)."""

    uploads_bucket: str
    upload_url_expiry_seconds: int = 900


class Chunks(SettingsModel):
    """Row chunks between gsc_sync (and file imports) and gsc_ingest: gzip NDJSON, expired by a lifecycle rule."""

    chunks_bucket: str


class SyncQueue(SettingsModel):
    """gsc_sync's queue, for the functions that start syncs."""

    gsc_sync_queue_url: str


class IngestQueue(SettingsModel):
    """gsc_ingest's queue, for the functions that write chunks."""

    gsc_ingest_queue_url: str


class RollupQueue(SettingsModel):
    """rollup's queue. A load asks for its property's rollup ``rollup_delay_seconds`` later, so that the loads
    of a sync's chunks share one rollup instead of each rebuilding the same days (SQS allows up to 900 s)."""

    rollup_queue_url: str
    rollup_delay_seconds: int = Field(default=10, ge=0, le=900)


class SearchConsoleCredentials(SettingsModel):
    """Where properties' credentials live: the secret ``{gsc_secret_prefix}{tenant_id}/{property_id}``."""

    gsc_secret_prefix: str
    # The KMS key new credential secrets are encrypted with (None: Secrets Manager's default key).
    secrets_kms_key_id: str | None = None


class SearchConsoleApi(SettingsModel):
    """The Google Search Console API. Locally these point at kestrel_local's stand-in server; a service
    account key file carries its own token_uri, which wins over ``gsc_token_uri``."""

    gsc_api_base_url: str = "https://searchconsole.googleapis.com/webmasters/v3"
    gsc_token_uri: str = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL, not a password)
    # In-invocation retries of 429 / 5xx before the message goes back to SQS (which retries again).
    gsc_max_attempts: int = 4
    gsc_backoff_seconds: float = 1.0
    gsc_timeout_seconds: float = 60.0


class CrawlQueue(SettingsModel):
    """page_crawl's queue: for the API that starts crawls, and the crawl's own next batches."""

    page_crawl_queue_url: str


class RawPages(SettingsModel):
    """The bucket keeping crawled pages' raw HTML (gzip, under the tenant's prefix, expired by a lifecycle rule)."""

    raw_pages_bucket: str


class RankCheckQueue(SettingsModel):
    """rank_check's queue: for the API's live checks and rank_check itself (a project's post, its collects)."""

    rank_check_queue_url: str


class ScreenshotQueue(SettingsModel):
    """serp_screenshot's queue: rank_check sends it each SERP snapshot it stored."""

    serp_screenshot_queue_url: str


class RankChecks(SettingsModel):
    """What rank checks may cost and how they are collected.

    Prices are DataForSEO's per SERP of 10 results (standard queue, live); each further page of 10 costs
    ``rank_extra_page_factor`` of the base. A tenant without a ``rank_budgets`` row has
    ``rank_monthly_budget_usd`` a month and ``rank_live_checks_per_day`` on-demand keyword checks a day.
    Standard tasks are collected ``rank_collect_delay_seconds`` after posting and then again until done;
    a task not ready after ``rank_task_max_age_days`` (DataForSEO's ``tasks_ready`` lists three days) fails.
    """

    rank_monthly_budget_usd: Decimal = Field(default=Decimal("50"), ge=0)
    rank_live_checks_per_day: int = Field(default=100, ge=0)
    rank_standard_price_usd: Decimal = Field(default=Decimal("0.0006"), ge=0)
    rank_live_price_usd: Decimal = Field(default=Decimal("0.002"), ge=0)
    rank_extra_page_factor: Decimal = Field(default=Decimal("0.75"), ge=0)
    rank_collect_delay_seconds: int = Field(default=300, ge=0, le=900)
    rank_collect_batch: int = Field(default=200, ge=1, le=1000)
    rank_task_max_age_days: int = Field(default=3, ge=1)
    rank_live_max_keywords: int = Field(default=20, ge=1, le=100)
    rank_live_parallel: int = Field(default=4, ge=1, le=16)


class HostLimit(BaseModel):
    """How hard one host may be crawled, platform-wide: requests in flight at once, and started per second."""

    concurrency: int = Field(ge=1, le=64)
    requests_per_second: float = Field(gt=0, le=1000)


class Crawling(SettingsModel):
    """How the crawler fetches: who it says it is, how politely, and how it reaches hosts.

    ``crawl_pinned_hosts`` maps a host name to the address (``ip`` or ``ip:port``) to connect to instead of
    resolving it: the local stack reaches its demo site this way, with ``crawl_ca_file`` trusting the demo
    site's own certificate authority. Every other host is still resolved and checked (``shared.crawl.ssrf``).
    """

    crawl_user_agent: str
    crawl_host_limit: HostLimit = HostLimit(concurrency=2, requests_per_second=2.0)
    # Hosts allowed another limit (JSON: {"host": {"concurrency": 8, "requests_per_second": 50}}).
    crawl_host_limits: dict[str, HostLimit] = Field(default_factory=dict)
    crawl_pinned_hosts: dict[str, str] = Field(default_factory=dict)
    crawl_ca_file: str | None = None
    crawl_max_page_bytes: int = Field(default=2 * 1024 * 1024, ge=64 * 1024)
    crawl_timeout_seconds: float = Field(default=15.0, gt=0)
    crawl_batch_size: int = Field(default=20, ge=1, le=200)
    # Batches of one crawl in flight at once (each its own invocation; the host limit still applies).
    crawl_parallel_batches: int = Field(default=2, ge=1, le=20)

    def limit_for(self, host: str) -> HostLimit:
        return self.crawl_host_limits.get(host, self.crawl_host_limit)


class NlpService(SettingsModel):
    """The NLP service (``nlp_service/``: spaCy entities, gensim topics) behind its internal load balancer.

    Entity batches are small and quick; a topic fit searches several k and may take minutes, so it has its own
    timeout, within topic_model's function timeout (900 s).
    """

    nlp_service_url: str
    nlp_timeout_seconds: float = Field(default=60.0, gt=0)
    nlp_fit_timeout_seconds: float = Field(default=840.0, gt=0)
    # In-invocation retries of an entities request the service did not answer (a redeploy, a task replaced)
    # before the message goes back to SQS, which redelivers it only after the queue's visibility timeout.
    nlp_max_attempts: int = Field(default=3, ge=1)
    nlp_backoff_seconds: float = Field(default=1.0, ge=0)


class NlpModels(SettingsModel):
    """The bucket of the NLP service's storage: the corpora topic_model writes, the models the service writes."""

    nlp_models_bucket: str


class NlpEntitiesQueue(SettingsModel):
    """nlp_entities' queue: for page_crawl (pages changed) and nlp_entities itself (more events to take)."""

    nlp_entities_queue_url: str


class TopicQueue(SettingsModel):
    """topic_model's queue: for the API's refits and nlp_entities' threshold."""

    topic_model_queue_url: str


class Topics(SettingsModel):
    """When a project's topic model is fitted again, and what a fit needs.

    A fit starts when at least ``topic_refit_threshold`` of the project's analysable pages (supported language,
    at least ``topic_min_words`` words) changed since the current model was fitted, and there are at least
    ``topic_min_documents`` of them (LDA over a handful of pages finds nothing worth showing).
    """

    topic_refit_threshold: float = Field(default=0.10, gt=0, le=1)
    topic_min_documents: int = Field(default=20, ge=5)
    topic_min_words: int = Field(default=50, ge=1)


class Screenshots(SettingsModel):
    """How serp_screenshot's Chromium runs (``shared/screenshots/``): where it is, how long a capture may take.

    ``chromium_path`` is ``/opt/chromium/chromium`` in the image (its Dockerfile sets it) and
    ``.state/chromium/chromium`` on a developer's machine (``make setup`` unpacks it there; ``kestrel up`` and
    the tests set it).
    """

    chromium_path: str
    screenshot_navigation_timeout_seconds: float = Field(default=20.0, gt=0)
    screenshot_total_timeout_seconds: float = Field(default=45.0, gt=0)
    # A full-page capture longer than this (CSS pixels) is cut: PNG size and memory stay bounded.
    screenshot_max_full_height: int = Field(default=15_000, ge=1080)
    screenshot_max_resource_bytes: int = Field(default=10 * 1024 * 1024, ge=64 * 1024)
    # Where the browser's home and each invocation's directory go (None: the system's temp dir, /tmp on Lambda).
    screenshot_work_dir: str | None = None
    # Flags added to Chromium's (shared/screenshots/chromium.py), JSON (e.g. ["--disable-gpu"]). Not
    # --single-process: the browser then dies with the first context closed (measured with 153.0.0).
    screenshot_chromium_args: list[str] = Field(default_factory=list)


class ScreenshotStore(SettingsModel):
    """The screenshots bucket (PNG under the tenant's prefix, expired by a lifecycle rule after
    ``screenshot_retention_days``, the same stage parameter as the rule) and how long a download link lives."""

    screenshots_bucket: str
    screenshot_retention_days: int = Field(ge=1)
    screenshot_url_expiry_seconds: int = Field(default=300, ge=30, le=3600)


class DataForSeo(SettingsModel):
    """The DataForSEO API (SERP, Google organic). Locally ``dataforseo_api_base_url`` points at kestrel_local's
    stand-in; in AWS at DataForSEO itself, reached through the NAT's fixed egress IP.

    The login is a Secrets Manager secret holding ``{"login": ..., "password": ...}`` (the API password from
    DataForSEO's dashboard, not the account's). Throttling, 5xx and ``50000`` answers are retried within the
    invocation ``dataforseo_max_attempts`` times before the message goes back to SQS.
    """

    dataforseo_api_base_url: str = "https://api.dataforseo.com"
    dataforseo_secret_name: str
    dataforseo_timeout_seconds: float = Field(default=60.0, gt=0)
    dataforseo_max_attempts: int = Field(default=3, ge=1)
    dataforseo_backoff_seconds: float = Field(default=1.0, ge=0)


@cache
def _read(model: type[SettingsModel]) -> SettingsModel:
    try:
        return model()
    except ValidationError as exc:
        raise ConfigurationError(_explain(model, exc)) from exc


def settings_of[S: SettingsModel](model: type[S]) -> S:
    """The ``model`` settings of this execution environment, read once."""
    return cast(S, _read(model))


def forget_settings() -> None:
    """Read the environment again on next use (the local stack and tests reconfigure a long-lived process)."""
    _read.cache_clear()


def require_settings(*models: type[SettingsModel]) -> None:
    """Read every model now (at cold start); one error names every missing or invalid variable."""
    problems: list[str] = []
    wanted: tuple[type[SettingsModel], ...] = (Platform, *models)
    for model in dict.fromkeys(wanted):
        try:
            _read(model)
        except ConfigurationError as exc:
            problems.append(exc.detail)
    if problems:
        raise ConfigurationError("Missing or invalid settings: " + "; ".join(problems))


def _explain(model: type[SettingsModel], exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        names = [str(loc) for loc in error["loc"]]
        variable = f"{ENV_PREFIX}{names[0].upper()}" if names else model.__name__
        parts.append(f"{variable} ({error['msg']})" if names else f"{model.__name__}: {error['msg']}")
    return f"{model.__name__}: " + ", ".join(parts)
