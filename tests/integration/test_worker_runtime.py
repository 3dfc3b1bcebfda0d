"""The worker runtime's idempotency against the real database (its error classes: tests/unit/test_worker_errors.py)."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from shared.db import tenant_transaction
from shared.errors import (
    TransientError,
    UnknownTenant,
)
from shared.runtime.work import ByConstruction, RunOnce, Work, run_unit
from tests.support.tenants import new_tenant


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
