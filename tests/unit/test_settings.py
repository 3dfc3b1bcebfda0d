"""Per-function settings are checked at cold start, and a missing one is named."""

import pytest

from shared.errors import ConfigurationError
from shared.settings import Chunks, Database, IngestQueue, forget_settings, require_settings


def test_a_missing_setting_fails_the_cold_start_naming_every_variable(monkeypatch):
    monkeypatch.delenv("KESTREL_CHUNKS_BUCKET", raising=False)
    monkeypatch.delenv("KESTREL_GSC_INGEST_QUEUE_URL", raising=False)
    monkeypatch.setenv("KESTREL_DATABASE_URL", "postgresql://x@localhost/x")
    monkeypatch.setenv("KESTREL_STAGE", "test")
    forget_settings()
    try:
        with pytest.raises(ConfigurationError) as info:
            require_settings(Database, Chunks, IngestQueue)
    finally:
        forget_settings()
    assert "KESTREL_CHUNKS_BUCKET" in info.value.detail
    assert "KESTREL_GSC_INGEST_QUEUE_URL" in info.value.detail


def test_no_database_is_named_too(monkeypatch):
    for name in ("KESTREL_DATABASE_URL", "KESTREL_DB_HOST", "KESTREL_DB_SECRET_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KESTREL_STAGE", "prod")
    forget_settings()
    try:
        with pytest.raises(
            ConfigurationError, match="KESTREL_DATABASE_URL, or KESTREL_DB_HOST and KESTREL_DB_SECRET_ARN"
        ):
            require_settings(Database)
    finally:
        forget_settings()


def test_an_unknown_stage_is_refused(monkeypatch):
    monkeypatch.setenv("KESTREL_STAGE", "qa")
    forget_settings()
    try:
        with pytest.raises(ConfigurationError, match="KESTREL_STAGE"):
            require_settings()
    finally:
        forget_settings()
