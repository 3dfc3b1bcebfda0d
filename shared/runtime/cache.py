"""Forgetting what an execution environment cached, so that a new configuration takes effect.

Settings, boto3 clients, secrets, the database engine and Sentry are each set up
once per execution environment. The local stack and the tests reconfigure a
long-lived process, and must drop all of them together, not some.
"""

from shared import aws, db, observability, settings


def reset_cached_runtime() -> None:
    settings.forget_settings()
    aws.client.cache_clear()
    aws.secret_json.cache_clear()
    aws.secret_string.cache_clear()
    db.app_engine.cache_clear()
    db._tenant_sessions.cache_clear()
    db._system_sessions.cache_clear()
    observability.init_sentry.cache_clear()
    observability.start_observability.cache_clear()
