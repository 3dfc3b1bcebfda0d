"""The worker runtime's idempotency against the real database (its error taxonomy: tests/unit/test_worker_errors.py)."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text

from shared.db import tenant_transaction
from shared.errors import PermanentError, TransientError
from shared.runtime.worker import unit_of_work
from tests.support.tenants import new_tenant


def _records(tenant_id):
    with tenant_transaction(tenant_id) as session:
        return dict(session.execute(text("SELECT key, status FROM idempotency_records")).all())


def test_completed_work_is_not_repeated(platform):
    tenant_id = new_tenant(platform.owner_url)
    runs = []
    for _ in range(2):
        with unit_of_work(tenant_id, "job-1", lease=timedelta(minutes=5)) as mark_done:
            if mark_done is not None:
                runs.append(1)
                with tenant_transaction(tenant_id) as session:
                    mark_done(session)
    assert runs == [1]
    assert _records(tenant_id) == {"job-1": "completed"}


def test_a_crash_mid_work_reruns_once_the_lease_expires(platform):
    tenant_id = new_tenant(platform.owner_url)
    # A crash: the claim is committed, and then the process dies without completing or releasing.
    crashed = unit_of_work(tenant_id, "job-2", lease=timedelta(seconds=-1))
    assert crashed.__enter__() is not None
    assert _records(tenant_id) == {"job-2": "in_progress"}
    with unit_of_work(tenant_id, "job-2", lease=timedelta(minutes=5)) as mark_done:
        assert mark_done is not None  # the expired lease lets the redelivery take over
        with tenant_transaction(tenant_id) as session:
            mark_done(session)
    assert _records(tenant_id) == {"job-2": "completed"}


def test_live_work_is_not_run_twice_at_once(platform):
    tenant_id = new_tenant(platform.owner_url)
    with unit_of_work(tenant_id, "job-3", lease=timedelta(minutes=5)) as first:
        assert first is not None
        with (
            pytest.raises(TransientError, match="running in another invocation"),
            unit_of_work(tenant_id, "job-3", lease=timedelta(minutes=5)),
        ):
            pass
        with tenant_transaction(tenant_id) as session:
            first(session)


def test_failed_work_releases_its_claim(platform):
    tenant_id = new_tenant(platform.owner_url)
    with pytest.raises(TransientError), unit_of_work(tenant_id, "job-4", lease=timedelta(minutes=5)):
        raise TransientError("network blip")
    assert _records(tenant_id) == {}


def test_unknown_tenant_is_permanent(platform):
    with (
        pytest.raises(PermanentError, match="Unknown tenant"),
        unit_of_work(f"org_{uuid.uuid4().hex[:8]}", "k", lease=timedelta(1)),
    ):
        pass
