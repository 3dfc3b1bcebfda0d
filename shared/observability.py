"""Logger (JSON), metrics (CloudWatch EMF) and tracer (X-Ray), plus Sentry when configured.

One instance of each per execution environment; every function imports these.
"""

from functools import cache
from typing import Any

import sentry_sdk
from aws_lambda_powertools import Logger, Metrics, Tracer
from sentry_sdk.integrations.aws_lambda import AwsLambdaIntegration

from shared import aws
from shared.settings import Platform, settings_of

SERVICE = "kestrel"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE)  # namespace: POWERTOOLS_METRICS_NAMESPACE, else Kestrel/<stage> at cold start


def _sentry_dsn() -> str | None:
    settings = settings_of(Platform)
    if settings.sentry_dsn is not None:
        return settings.sentry_dsn.get_secret_value()
    if settings.sentry_dsn_secret_name:
        try:
            return aws.secret_string(settings.sentry_dsn_secret_name).strip() or None
        except Exception:  # a missing secret must not take the function down with it
            logger.warning("Sentry DSN secret unavailable; errors go to logs only", exc_info=True)
    return None


@cache
def init_sentry() -> bool:
    """Initialise Sentry once per execution environment; False when no DSN is configured."""
    dsn = _sentry_dsn()
    if not dsn:
        return False
    sentry_sdk.init(
        dsn=dsn,
        environment=settings_of(Platform).stage,
        integrations=[AwsLambdaIntegration(timeout_warning=True)],
        traces_sample_rate=0.0,
    )
    return True


@cache
def start_observability() -> None:
    """At cold start: the metrics namespace (unless POWERTOOLS_METRICS_NAMESPACE names one), then Sentry."""
    if not metrics.namespace:
        metrics.namespace = f"Kestrel/{settings_of(Platform).stage}"
    init_sentry()


def report_to_sentry(exc: BaseException, **context: Any) -> None:
    if not init_sentry():
        return
    with sentry_sdk.new_scope() as scope:
        for key, value in context.items():
            scope.set_extra(key, value)
        sentry_sdk.capture_exception(exc)
