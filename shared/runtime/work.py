"""Units of work: how each is made idempotent, and the transaction that finishes it.

Domain logic sees only this module of the worker runtime: a ``Work`` to finish in,
and the rules a worker declares for its units (``RunOnce`` or ``ByConstruction``).
``run_unit`` applies a rule around the logic; ``shared.runtime.worker`` calls it for
each unit of each SQS message.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from shared.db import TenantSession, tenant_transaction
from shared.errors import TransientError
from shared.observability import logger, metrics
from shared.runtime import idempotency
from shared.tenancy.data import tenants


@dataclass(frozen=True)
class RunOnce:
    """A unit of work that runs to completion once per ``key`` of its tenant.

    ``lease`` bounds how long a claim holds when its invocation dies mid-work: longer than any
    invocation can last, so live work is never taken over.
    """

    tenant_id: str
    key: str
    lease: timedelta


@dataclass(frozen=True)
class ByConstruction:
    """A unit of work that is idempotent by itself; ``why`` says how (a redelivery changes nothing)."""

    why: str


class Work:
    """What a unit of work's logic receives from the runtime.

    ``finish()`` is the transaction that holds the work's final writes: when it commits, the run-once
    marker commits with it, so a redelivery after that does nothing. Logic that returns without opening
    it (nothing to write) is recorded done after it returns.
    """

    def __init__(self, tenant_id: str | None, key: str | None = None) -> None:
        self.tenant_id = tenant_id
        self.key = key
        self.finished = False

    @contextmanager
    def finish(self) -> Iterator[TenantSession]:
        if self.tenant_id is None:
            raise TypeError("This unit of work names no tenant: it has no tenant transaction to finish in.")
        if self.finished:
            raise RuntimeError("A unit of work finishes once.")
        with tenant_transaction(self.tenant_id) as session:
            yield session
            if self.key is not None:
                idempotency.complete(session, self.key)
        self.finished = True


def _tenant_of(unit: object) -> str | None:
    tenant_id = getattr(unit, "tenant_id", None)
    return tenant_id if isinstance(tenant_id, str) else None


def run_unit[U](unit: U, handle: Callable[[U, Work], None], rule: RunOnce | ByConstruction) -> None:
    """Run one unit of work under its idempotency rule (the worker runtime's core, public for tests)."""
    if isinstance(rule, ByConstruction):
        tenant_id = _tenant_of(unit)
        if tenant_id is not None:
            with tenant_transaction(tenant_id) as session:
                tenants.require(session)
        handle(unit, Work(tenant_id))
        return
    with tenant_transaction(rule.tenant_id) as session:
        tenants.require(session)
        claim = idempotency.claim(session, rule.key, lease=rule.lease)
    if claim == "completed":
        logger.info("Unit of work already completed; redelivery ignored", extra={"idempotency_key": rule.key})
        metrics.add_metric(name="DuplicateDeliveries", unit="Count", value=1)
        return
    if claim == "busy":
        raise TransientError(f"Unit of work {rule.key} is running in another invocation; will retry.")
    work = Work(rule.tenant_id, rule.key)
    try:
        handle(unit, work)
    except Exception:
        if not work.finished:  # the work failed and rolled back; a crash instead leaves the lease to expire
            with tenant_transaction(rule.tenant_id) as session:
                idempotency.release(session, rule.key)
        raise
    if not work.finished:
        with tenant_transaction(rule.tenant_id) as session:
            idempotency.complete(session, rule.key)
