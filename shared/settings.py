"""Typed runtime configuration, read once from the environment.

This is the only module that looks at environment variables. In AWS the values
come from serverless.yml (function environment); locally from the local stack
or the test fixtures. boto3 reads its own standard variables (AWS_REGION,
AWS_ENDPOINT_URL, credentials) itself.
"""

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KESTREL_", extra="ignore", frozen=True)

    stage: str = Field(default="local", description="Deployment stage: dev, prod, local or test.")

    # Database. Locally a URL; in AWS the RDS Proxy endpoint plus a Secrets Manager
    # secret holding {"username", "password"} for the application role.
    database_url: SecretStr | None = None
    db_host: str | None = None
    db_port: int = 5432
    db_name: str = "kestrel"
    db_secret_arn: str | None = None
    db_sslmode: Literal["disable", "prefer", "require", "verify-full"] = "require"
    # Owner credentials: only migrations use them (never the request path).
    migration_database_url: SecretStr | None = None
    db_owner_secret_arn: str | None = None

    # Per-transaction guards: a stuck lock or query fails fast (and is retried as
    # a transient error) instead of holding a Lambda until its timeout.
    db_lock_timeout_ms: int = 5_000
    db_statement_timeout_ms: int = 60_000

    uploads_bucket: str = "kestrel-local-uploads"
    upload_url_expiry_seconds: int = 900
    # Row chunks between gsc_sync (and file imports) and gsc_ingest: gzip NDJSON, expired by a lifecycle rule.
    chunks_bucket: str = "kestrel-local-chunks"

    # Queues a function sends work to (besides its own, KESTREL_QUEUE_URL).
    gsc_sync_queue_url: str | None = None
    gsc_ingest_queue_url: str | None = None
    rollup_queue_url: str | None = None
    # A load asks for its property's rollup this much later, so that the loads of a sync's chunks
    # share one rollup instead of each rebuilding the same days (SQS allows up to 900 s).
    rollup_delay_seconds: int = Field(default=10, ge=0, le=900)

    # Google Search Console. Locally these point at kestrel_local's stand-in server; a service
    # account key file carries its own token_uri, which wins over gsc_token_uri.
    gsc_api_base_url: str = "https://searchconsole.googleapis.com/webmasters/v3"
    gsc_token_uri: str = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL, not a password)
    # Each property's credential is the secret ``{gsc_secret_prefix}{tenant_id}/{property_id}``.
    gsc_secret_prefix: str = "kestrel/local/gsc/"  # noqa: S105 (a name prefix, not a password)
    # The KMS key new credential secrets are encrypted with (None: Secrets Manager's default key).
    secrets_kms_key_id: str | None = None
    # In-invocation retries of 429 / 5xx before the message goes back to SQS (which retries again).
    gsc_max_attempts: int = 4
    gsc_backoff_seconds: float = 1.0
    gsc_timeout_seconds: float = 60.0

    # Worker runtime: the function's own dead-letter queue, where permanent
    # failures are quarantined with their reason.
    dlq_url: str | None = None

    # Sentry: either a DSN directly (local) or the name of a secret holding it.
    sentry_dsn: SecretStr | None = None
    sentry_dsn_secret_name: str | None = None

    # The JWT issuer (Auth0 tenant URL); shown in the OpenAPI document.
    auth_issuer: str | None = None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
