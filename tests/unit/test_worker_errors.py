"""The worker runtime's error taxonomy: which failures SQS retries (transient) and which are quarantined.

The runtime's idempotency against the real database is tests/integration/test_worker_runtime.py.
"""

import psycopg
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DataError, OperationalError

from shared.errors import PermanentError, TransientError
from shared.runtime.worker import classify


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


def test_validation_errors_are_permanent():
    class Message(BaseModel):
        x: int

    with pytest.raises(ValidationError) as info:
        Message.model_validate({"x": "nope"})
    assert classify(info.value) == "permanent"
