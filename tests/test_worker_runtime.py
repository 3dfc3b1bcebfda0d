"""The error taxonomy under both runtimes, and the worker runtime's idempotency against the real database."""

import uuid
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from pydantic import BaseModel, ValidationError
from sqlalchemy import text
from sqlalchemy.exc import DataError, OperationalError

from shared.db import tenant_transaction
from shared.errors import (
    ConfigurationError,
    Conflict,
    DomainError,
    Forbidden,
    InvalidFields,
    InvalidRequest,
    KestrelError,
    NotFound,
    PermanentError,
    RejectedFile,
    ServiceUnavailable,
    TransientError,
    UnknownTenant,
)
from shared.runtime.error_classes import classify, is_outage
from shared.runtime.http import status_of
from shared.runtime.work import ByConstruction, RunOnce, Work, run_unit
from tests.support.tenants import new_tenant


def _db_error(cls, sqlstate_error):
    return cls("SELECT 1", {}, sqlstate_error)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (PermanentError("bad"), "permanent"),
        (TransientError("later"), "transient"),
        (_db_error(OperationalError, psycopg.errors.SerializationFailure()), "transient"),
        (_db_error(OperationalError, psycopg.errors.DeadlockDetected()), "transient"),
        (_db_error(OperationalError, psycopg.errors.LockNotAvailable()), "transient"),
        (_db_error(OperationalError, psycopg.errors.QueryCanceled()), "transient"),
        (_db_error(OperationalError, psycopg.OperationalError("connection refused")), "transient"),
        (_db_error(DataError, psycopg.errors.InvalidTextRepresentation()), "permanent"),
        (EndpointConnectionError(endpoint_url="http://x"), "transient"),
        (ClientError({"Error": {"Code": "ThrottlingException"}}, "SendMessage"), "transient"),
        (ClientError({"Error": {"Code": "NoSuchKey"}}, "GetObject"), "permanent"),
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
    (NotFound("gone"), "permanent", 404),
    (Forbidden("no"), "permanent", 403),
    (UnknownTenant("who?"), "permanent", 403),
    (Conflict("finished"), "permanent", 409),
    (InvalidRequest("bad"), "permanent", 400),
    (InvalidFields("bad field", errors=[]), "permanent", 422),
    (RejectedFile("not CSV"), "permanent", 500),
    (PermanentError("unprocessable"), "permanent", 500),
    (ConfigurationError("no queue"), "permanent", 500),
    (TransientError("later"), "transient", 503),
    (ServiceUnavailable("down"), "transient", 503),
]


@pytest.mark.parametrize(("exc", "error_class", "status"), ERROR_CLASSES, ids=lambda v: type(v).__name__)
def test_every_error_class_under_both_runtimes(exc, error_class, status):
    assert classify(exc) == error_class
    assert status_of(exc) == status


def test_the_table_covers_every_error_class():
    def subclasses(cls: type[KestrelError]) -> set[type[KestrelError]]:
        found = {cls}
        for subclass in cls.__subclasses__():
            found |= subclasses(subclass)
        return found

    in_module = {cls for cls in subclasses(KestrelError) if cls.__module__ == "shared.errors"}
    assert in_module - {KestrelError, DomainError} == {type(exc) for exc, _, _ in ERROR_CLASSES}


def _records(tenant_id):
    with tenant_transaction(tenant_id) as session:
        return dict(session.execute(text("SELECT key, status FROM idempotency_records")).all())


def _job_rows(tenant_id):
    with tenant_transaction(tenant_id) as session:
        return session.execute(text("SELECT count(*) FROM users")).scalar_one()


class _Recorder:
    """Logic under test: counts its runs, and writes a user row in its finishing transaction."""

    def __init__(self, *, fail: BaseException | None = None, finish: bool = True) -> None:
        self.runs = 0
        self.fail = fail
        self.finish = finish

    def __call__(self, unit: Any, work: Work) -> None:
        self.runs += 1
        if self.fail is not None:
            raise self.fail
        if self.finish:
            with work.finish() as session:
                session.execute(
                    text("INSERT INTO users (tenant_id, subject) VALUES (:t, :s)"),
                    {"t": work.tenant_id, "s": f"u{self.runs}"},
                )


def test_completed_work_is_not_repeated_and_commits_with_its_writes(platform):
    tenant_id = new_tenant(platform.owner_url)
    logic = _Recorder()
    rule = RunOnce(tenant_id, "job-1", lease=timedelta(minutes=5))
    for _ in range(2):
        run_unit("unit", logic, rule)
    assert logic.runs == 1
    assert _records(tenant_id) == {"job-1": "completed"}
    assert _job_rows(tenant_id) == 1


def test_work_that_returns_without_finishing_is_recorded_done(platform):
    tenant_id = new_tenant(platform.owner_url)
    logic = _Recorder(finish=False)
    rule = RunOnce(tenant_id, "job-5", lease=timedelta(minutes=5))
    run_unit("unit", logic, rule)
    run_unit("unit", logic, rule)
    assert logic.runs == 1
    assert _records(tenant_id) == {"job-5": "completed"}


def test_a_crash_mid_work_reruns_once_the_lease_expires(platform):
    tenant_id = new_tenant(platform.owner_url)

    class Crash(BaseException):
        """Not an Exception: like a process that dies, it skips the runtime's release of the claim."""

    with pytest.raises(Crash):
        run_unit("unit", _Recorder(fail=Crash()), RunOnce(tenant_id, "job-2", lease=timedelta(seconds=-1)))
    assert _records(tenant_id) == {"job-2": "in_progress"}
    logic = _Recorder()
    run_unit("unit", logic, RunOnce(tenant_id, "job-2", lease=timedelta(minutes=5)))
    assert logic.runs == 1  # the expired lease lets the redelivery take over
    assert _records(tenant_id) == {"job-2": "completed"}


def test_live_work_is_not_run_twice_at_once(platform):
    tenant_id = new_tenant(platform.owner_url)
    rule = RunOnce(tenant_id, "job-3", lease=timedelta(minutes=5))
    second = _Recorder()

    def first(unit: Any, work: Work) -> None:
        with pytest.raises(TransientError, match="running in another invocation"):
            run_unit(unit, second, rule)

    run_unit("unit", first, rule)
    assert second.runs == 0
    assert _records(tenant_id) == {"job-3": "completed"}


def test_failed_work_releases_its_claim(platform):
    tenant_id = new_tenant(platform.owner_url)
    with pytest.raises(TransientError):
        run_unit("unit", _Recorder(fail=TransientError("network blip")), RunOnce(tenant_id, "job-4", timedelta(1)))
    assert _records(tenant_id) == {}


def test_unknown_tenant_is_permanent_under_both_rules(platform):
    ghost = f"org_{uuid.uuid4().hex[:8]}"
    logic = _Recorder()
    with pytest.raises(UnknownTenant, match="Unknown tenant"):
        run_unit("unit", logic, RunOnce(ghost, "k", lease=timedelta(1)))

    class Unit:
        tenant_id = ghost

    with pytest.raises(UnknownTenant, match="Unknown tenant"):
        run_unit(Unit(), logic, ByConstruction("test"))
    assert logic.runs == 0
