"""The error taxonomy shared by the HTTP and worker runtimes.

Domain code raises these and knows nothing of HTTP or SQS. Each runtime decides
what an error class means to it: the HTTP runtime maps it to a status and a
problem-details response (``shared.runtime.http``), the worker runtime to
quarantine or retry (``shared.runtime.worker``):

* a **domain error** (``DomainError``: not found, forbidden, conflict, invalid
  input, a rejected file, unprocessable work) says the request or the message
  cannot succeed as it is; a worker quarantines it with its reason at once;
* a **transient error** is worth retrying later (throttling, a lock held
  elsewhere, a service that did not answer);
* a **configuration error** means the deployment is wrong (a missing queue,
  bucket or secret): a worker quarantines the message with the reason, so it can
  be redriven once the configuration is fixed, and never drops it silently.
"""

from typing import Any


class KestrelError(Exception):
    """Base class: a failure the platform understands and can explain."""

    title = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class DomainError(KestrelError):
    """The work cannot succeed as asked: retrying the same request or message cannot help."""


class NotFound(DomainError):
    """Missing, or owned by another tenant: both look the same from outside."""

    title = "Not found"


class Forbidden(DomainError):
    title = "Forbidden"


class UnknownTenant(Forbidden):
    """The tenant has no Kestrel account (never provisioned, or deleted)."""


class Conflict(DomainError):
    """The request contradicts the current state (a finished job, a property not connected)."""

    title = "Conflict"


class InvalidRequest(DomainError):
    """Invalid input as a whole. ``field`` in ``extra`` names the field when there is one."""

    title = "Bad request"


class InvalidFields(InvalidRequest):
    """Input whose fields break rules the models cannot state, reported like a model's validation errors.

    ``errors`` in ``extra`` lists ``{"field", "message", "type"}`` as validation failures do.
    """

    title = "Validation failed"


class LimitReached(DomainError):
    """A limit of the tenant's (on-demand checks a day) is used up for now; ``retry_after`` in ``extra``."""

    title = "Too many requests"


class RejectedFile(DomainError):
    """An uploaded file that cannot be imported as a whole (not CSV, wrong header, no usable line)."""

    title = "Rejected file"

    @property
    def reason(self) -> str:
        return self.detail


class PermanentError(DomainError):
    """Work that cannot be done (a malformed message, an unreadable chunk, an answer that cannot be parsed)."""

    title = "Permanent failure"


class TransientError(KestrelError):
    """Worth retrying later (throttling, a lock held elsewhere, a network blip)."""

    title = "Transient failure"


class ServiceUnavailable(TransientError):
    """A service Kestrel depends on did not answer, even after retries; nothing was recorded."""

    title = "Service unavailable"


class ConfigurationError(KestrelError):
    """The deployment lacks a setting or resource this work needs; the fix is a deploy, not a retry."""

    title = "Configuration error"
