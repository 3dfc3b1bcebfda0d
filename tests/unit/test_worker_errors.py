"""The error taxonomy under both runtimes: every error class's worker class and HTTP status, outages."""

import psycopg
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DataError, OperationalError

from shared import errors
from shared.runtime.error_classes import classify, is_outage
from shared.runtime.http import status_of


def _db_error(cls, sqlstate_error):
    return cls("SELECT 1", {}, sqlstate_error)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (errors.PermanentError("bad"), "permanent"),
        (errors.TransientError("later"), "transient"),
        (_db_error(OperationalError, psycopg.errors.SerializationFailure()), "transient"),
        (_db_error(OperationalError, psycopg.errors.DeadlockDetected()), "transient"),
        (_db_error(OperationalError, psycopg.errors.LockNotAvailable()), "transient"),
        (_db_error(OperationalError, psycopg.errors.QueryCanceled()), "transient"),
        (_db_error(OperationalError, psycopg.OperationalError("connection refused")), "transient"),
        (_db_error(DataError, psycopg.errors.InvalidTextRepresentation()), "permanent"),
        (EndpointConnectionError(endpoint_url="http://x"), "transient"),
        (ClientError({"Error": {"Code": "ThrottlingException"}}, "SendMessage"), "transient"),
        (ClientError({"Error": {"Code": "NoSuchKey"}}, "GetObject"), "permanent"),
        (ClientError({"Error": {"Code": "AWS.SimpleQueueService.NonExistentQueue"}}, "SendMessage"), "permanent"),
        (ClientError({"Error": {"Code": "AccessDeniedException"}}, "GetSecretValue"), "permanent"),
        (RuntimeError("unknown"), "transient"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else value,
)
def test_classify(exc, expected):
    assert classify(exc) == expected
    # The HTTP runtime answers 503 for an outage, 500 for an unknown error (a bug is not worth retrying).
    assert is_outage(exc) == (expected == "transient" and not isinstance(exc, RuntimeError))


def test_an_outage_answers_503_and_a_bug_500_over_http():
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from shared.runtime.http import create_app
    from tests.support.http_events import http_event

    app = create_app()

    @app.get("/outage")
    def outage() -> None:
        raise _db_error(OperationalError, psycopg.errors.SerializationFailure())

    @app.get("/bug")
    def bug() -> None:
        raise RuntimeError("a bug")

    statuses = {
        path: app.resolve(http_event("GET", path), LambdaContext())["statusCode"] for path in ("/outage", "/bug")
    }
    assert statuses == {"/outage": 503, "/bug": 500}


def test_validation_errors_are_permanent():
    class Message(BaseModel):
        x: int

    with pytest.raises(ValidationError) as info:
        Message.model_validate({"x": "nope"})
    assert classify(info.value) == "permanent"


# Every error class of shared.errors, its class under the worker runtime and its status under the HTTP runtime.
# Domain errors are permanent in a worker whatever status they map to over HTTP.
ERROR_CLASSES = [
    (errors.NotFound("gone"), "permanent", 404),
    (errors.Forbidden("no"), "permanent", 403),
    (errors.UnknownTenant("who?"), "permanent", 403),
    (errors.Conflict("finished"), "permanent", 409),
    (errors.LimitReached("no more today"), "permanent", 429),
    (errors.InvalidRequest("bad"), "permanent", 400),
    (errors.InvalidFields("bad field", errors=[]), "permanent", 422),
    (errors.RejectedFile("not CSV"), "permanent", 500),
    (errors.PermanentError("unprocessable"), "permanent", 500),
    (errors.ConfigurationError("no queue"), "permanent", 500),
    (errors.TransientError("later"), "transient", 503),
    (errors.ServiceUnavailable("down"), "transient", 503),
]


@pytest.mark.parametrize(("exc", "error_class", "status"), ERROR_CLASSES, ids=lambda v: type(v).__name__)
def test_every_error_class_under_both_runtimes(exc, error_class, status):
    assert classify(exc) == error_class
    assert status_of(exc) == status


def test_the_table_covers_every_error_class():
    def subclasses(cls: type[errors.KestrelError]) -> set[type[errors.KestrelError]]:
        found = {cls}
        for subclass in cls.__subclasses__():
            found |= subclasses(subclass)
        return found

    in_module = {cls for cls in subclasses(errors.KestrelError) if cls.__module__ == "shared.errors"}
    assert in_module - {errors.KestrelError, errors.DomainError} == {type(exc) for exc, _, _ in ERROR_CLASSES}
