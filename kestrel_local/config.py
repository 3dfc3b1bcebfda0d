"""The local stack's own settings (ports, state directory, database), read once from the environment."""

from functools import cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class LocalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KESTREL_LOCAL_", extra="ignore")

    state_dir: Path = PROJECT_ROOT / ".state" / "local"
    host: str = "127.0.0.1"
    aws_port: int = 4566
    api_port: int = 3000
    identity_port: int = 3001
    search_console_port: int = 3002
    # The demo website (kestrel_local.demo_site) over HTTPS; the functions reach it through a pinned-host map.
    demo_site_port: int = 3003
    # The NLP service (nlp_service/, run by kestrel_local.nlp_service) on its own port; the functions
    # get its URL as KESTREL_NLP_SERVICE_URL. Give nlp_service_url to use one already running instead
    # (another checkout's, a container of the image, a shared dev instance) and start none.
    nlp_port: int = 3004
    nlp_service_url: str | None = None
    # Seconds `kestrel up` waits for the service to answer /ready (spaCy loaded).
    nlp_start_timeout_seconds: float = 120.0
    region: str = "eu-west-1"
    database_name: str = "kestrel"
    audience: str = "https://api.kestrel.local"
    # A PostgreSQL superuser URL to use instead of the embedded server.
    database_url: str | None = Field(default=None, validation_alias=AliasChoices("DATABASE_URL"))
    # Another AWS emulator (a licensed LocalStack, say) instead of starting moto.
    aws_endpoint_url: str | None = Field(default=None, validation_alias=AliasChoices("AWS_ENDPOINT_URL"))
    # Cloud-faithful by default. Tests shorten redelivery (the template says 6x the function timeout).
    visibility_timeout_seconds: int | None = None
    alarm_interval_seconds: float = 10.0
    # Extra environment for every function, as JSON (e.g. {"KESTREL_DB_LOCK_TIMEOUT_MS": "300"}).
    function_environment: dict[str, str] = Field(default_factory=dict)
    # Errors reported by the functions go here when set (a real Sentry DSN, or kestrel_local.sentry's).
    sentry_dsn: str | None = None
    # Search Console: the local stand-in (kestrel_local.search_console) unless a real API base URL is
    # given (then credentials are yours: connect a property through the API). The demo property is
    # connected to the stand-in and backfilled this many days on the first `up` (0: no backfill).
    gsc_api_base_url: str | None = None
    gsc_token_uri: str | None = None
    demo_backfill_days: int = 90
    # DataForSEO: the local stand-in (kestrel_local.dataforseo) on its port unless a real API base URL is given
    # (https://api.dataforseo.com, with your API login and password: `kestrel up` stores them as the stage's
    # DataForSEO secret). Standard-queue tasks are ready this many seconds after posting.
    dataforseo_port: int = 3005
    dataforseo_api_base_url: str | None = None
    dataforseo_login: str | None = None
    dataforseo_password: SecretStr | None = None
    dataforseo_ready_delay_seconds: float = 0.0


@cache
def local_settings() -> LocalSettings:
    return LocalSettings()
