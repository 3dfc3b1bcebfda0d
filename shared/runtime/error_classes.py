"""Error classes: whether a failure is worth retrying (transient) or not (permanent).

The worker runtime quarantines permanent failures and lets SQS retry transient
ones; the HTTP runtime answers an unexpected transient failure (a database or
AWS outage, a lock timeout) with 503 rather than 500.
"""

from typing import Literal

from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.exceptions import ConnectionError as BotoConnectionError
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from shared.errors import ConfigurationError, DomainError, TransientError

ErrorClass = Literal["permanent", "transient"]

# SQLSTATE codes worth retrying: serialization failure, deadlock, lock timeout,
# statement timeout/cancel, admin shutdown, and whole classes for connection
# problems (08) and exhausted resources (53).
_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03"}
_TRANSIENT_SQLSTATE_CLASSES = {"08", "53"}
# S3 objects that vanished will not come back, and a queue that does not exist or a grant that is missing is
# a deployment error (fixed by a deploy, not a retry); everything else from AWS is worth retrying.
_PERMANENT_AWS_CODES = {
    "NoSuchKey",
    "NoSuchBucket",
    "404",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "AccessDenied",
    "AccessDeniedException",
}


def is_outage(exc: BaseException) -> bool:
    """A known transient failure of something Kestrel depends on: the database, AWS, a third-party service."""
    if isinstance(exc, TransientError | DisconnectionError | PoolTimeoutError | BotoConnectionError | ReadTimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        sqlstate = getattr(exc.orig, "sqlstate", None) or ""
        return bool(
            exc.connection_invalidated
            or sqlstate in _TRANSIENT_SQLSTATES
            or sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES
            # no SQLSTATE: the driver never reached the server (refused, reset, timed out)
            or (not sqlstate and isinstance(exc, OperationalError | InterfaceError))
        )
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code", "") not in _PERMANENT_AWS_CODES
    return False


def classify(exc: BaseException) -> ErrorClass:
    """Permanent failures are quarantined; everything else is retried by SQS."""
    if isinstance(exc, DomainError | ConfigurationError | ValidationError):
        return "permanent"
    if is_outage(exc):
        return "transient"
    if isinstance(exc, DBAPIError | ClientError):
        # A data error (bad value, constraint) or a missing S3 object fails the same way every time;
        # other database errors may pass on a retry.
        sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None) or ""
        return "permanent" if isinstance(exc, ClientError) or sqlstate[:2] in {"22", "23"} else "transient"
    return "transient"  # unknown: retry, and let the redrive policy park it if it keeps failing
