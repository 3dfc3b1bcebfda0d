"""The error taxonomy shared by the HTTP and worker runtimes.

Domain code raises these; the HTTP runtime maps them to problem-details
responses and the worker runtime decides between quarantine (permanent) and
retry (transient).
"""

from typing import Any


class KestrelError(Exception):
    """Base class: a failure the platform understands and can explain."""

    status = 500
    title = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(KestrelError):
    """Missing, or owned by another tenant: both look the same from outside."""

    status = 404
    title = "Not found"


class Forbidden(KestrelError):
    status = 403
    title = "Forbidden"


class Conflict(KestrelError):
    status = 409
    title = "Conflict"


class InvalidRequest(KestrelError):
    status = 400
    title = "Bad request"


class PermanentError(KestrelError):
    """Retrying cannot help (malformed message, unknown tenant, unprocessable input).

    Workers quarantine the message in their DLQ with this reason instead of
    burning retries on it.
    """

    title = "Permanent failure"


class TransientError(KestrelError):
    """Worth retrying later (throttling, a lock held elsewhere, a network blip)."""

    title = "Transient failure"
