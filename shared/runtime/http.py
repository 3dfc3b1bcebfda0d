"""The HTTP runtime every API function uses: routing, validation, auth, problem details.

Handlers stay thin: Powertools parses and validates the request against the
route's types, ``requires`` checks the caller's permission, the route calls
domain logic, and errors become RFC 9457 problem details.
"""

import json
from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.auth import Principal
from shared.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidFields,
    InvalidRequest,
    KestrelError,
    LimitReached,
    NotFound,
    TransientError,
)
from shared.observability import logger, metrics, report_to_sentry, start_observability, tracer
from shared.pagination import MAX_LIMIT
from shared.runtime.error_classes import is_outage
from shared.settings import Api, Database, SettingsModel, require_settings

# The query parameters of every paginated list.
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
Cursor = Annotated[str | None, Query(description="`next_cursor` from the previous page.")]

PROBLEM_JSON = "application/problem+json"
SECURITY_SCHEME = "auth0"

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


# The HTTP status of each error class, most specific first. Domain code never names a status.
STATUS_OF_ERROR: tuple[tuple[type[KestrelError], int], ...] = (
    (InvalidFields, 422),
    (InvalidRequest, 400),
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
    (LimitReached, 429),
    (TransientError, 503),
    (DomainError, 500),  # unprocessable work (PermanentError, RejectedFile) is not expected behind a route
)


def status_of(exc: KestrelError) -> int:
    return next((status for cls, status in STATUS_OF_ERROR if isinstance(exc, cls)), 500)


def problem(status: int, title: str, detail: str, **extra: Any) -> Response[str]:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Response(status_code=status, content_type=PROBLEM_JSON, body=json.dumps(body, default=str))


# Routes that take their query string as one pydantic model name that parameter so; errors name its fields.
QUERY_MODEL_PARAM = "params"


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """("body", "keywords", 3, "text") -> "keywords[3].text"; ("query", "params", "limit") -> "limit"."""
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    if loc and loc[0] == "query" and parts[:1] == [QUERY_MODEL_PARAM]:
        parts = parts[1:]
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or (str(loc[0]) if loc else "")


class Authorize:
    """Route middleware: the caller must hold ``permission``."""

    def __init__(self, permission: str) -> None:
        self.permission = permission
        self.__name__ = f"requires {permission}"  # Powertools names middlewares in its debug log

    def __call__(self, app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        principal = Principal.from_claims(app.current_event.request_context.authorizer.jwt_claim)
        principal.require(self.permission)
        app.append_context(principal=principal)
        logger.append_keys(tenant_id=principal.tenant_id, subject=principal.subject)
        return next_middleware(app)


def requires(permission: str) -> dict[str, Any]:
    """Route options for a protected route: ``@app.get(path, **requires("read:projects"))``."""
    return {"middlewares": [Authorize(permission)], "security": [{SECURITY_SCHEME: [permission]}]}


def current_principal(app: APIGatewayHttpResolver) -> Principal:
    principal: Principal = app.context["principal"]
    return principal


def _internal_error(exc: Exception) -> Response[str]:
    logger.exception("Unhandled error")
    report_to_sentry(exc)
    return problem(500, "Internal error", "Something went wrong on our side; it has been logged.")


NUL_DETAIL = "Text must not contain the NUL character (U+0000): PostgreSQL cannot store it."


def _is_nul_in_text(exc: BaseException | None) -> bool:
    """psycopg refuses a NUL in a text parameter before it reaches the database, wherever the text came from."""
    while exc is not None:
        if type(exc).__name__ == "DataError" and "NUL (0x00)" in str(exc):
            return True
        exc = exc.__cause__
    return False


def _body_is_utf8(app: APIGatewayHttpResolver) -> bool:
    try:
        app.current_event.decoded_body  # noqa: B018  (decoding is the check)
    except UnicodeDecodeError:
        return False
    return True


def create_app() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)

    @app.exception_handler(KestrelError)
    def kestrel_error(exc: KestrelError) -> Response[str]:
        status = status_of(exc)
        if status >= 500:
            logger.exception("Request failed")
        return problem(status, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(RequestValidationError)
    def validation_error(exc: RequestValidationError) -> Response[str]:
        errors = [
            {"field": _field_path(err.get("loc", ())), "message": err.get("msg", ""), "type": err.get("type", "")}
            for err in exc.errors()
        ]
        return problem(422, "Validation failed", "The request has invalid fields; see errors.", errors=errors)

    @app.exception_handler(UnicodeDecodeError)
    def undecodable_body(exc: UnicodeDecodeError) -> Response[str]:
        if _body_is_utf8(app):
            return _internal_error(exc)  # not the client's body: a bug of ours
        return problem(400, "Bad request", "The request body is not valid UTF-8.")

    @app.exception_handler(NotFoundError)
    def route_not_found(exc: NotFoundError) -> Response[str]:
        event = app.current_event
        return problem(404, "Not found", f"No route for {event.request_context.http.method} {event.raw_path}.")

    @app.exception_handler(Exception)
    def unexpected(exc: Exception) -> Response[str]:
        if _is_nul_in_text(exc):
            return problem(
                422, "Validation failed", NUL_DETAIL, errors=[{"field": "", "message": NUL_DETAIL, "type": "nul"}]
            )
        if is_outage(exc):
            logger.warning("Outage answered 503", exc_info=True)
            return problem(503, "Service unavailable", "A service Kestrel depends on did not answer; try again.")
        return _internal_error(exc)

    return app


def lambda_handler(app: APIGatewayHttpResolver, *, settings: tuple[type[SettingsModel], ...] = ()) -> LambdaHandler:
    """The Lambda entry point for an API function, with logging, tracing and metrics around it.

    The function's settings (``Database`` and ``Api`` always, plus ``settings``) are checked now, at cold start:
    a missing one fails loudly, naming the variable.
    """
    require_settings(Database, Api, *settings)
    start_observability()

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler
