"""The job lifecycle's pure parts: the final status of an outcome, the error log, the kinds and statuses."""

import pytest

from shared.jobs.lifecycle import Outcome, final_status
from shared.jobs.models import (
    FINISHED_STATUSES,
    LIVE_STATUSES,
    MAX_STORED_ERRORS,
    SEARCH_CONSOLE_KINDS,
    SYNC_KINDS,
    JobErrors,
    JobKind,
    JobStatus,
)


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (Outcome(succeeded=10), JobStatus.SUCCEEDED),
        (Outcome(succeeded=10, failed=1), JobStatus.SUCCEEDED_WITH_ERRORS),
        (Outcome(succeeded=1, failed=1_000), JobStatus.SUCCEEDED_WITH_ERRORS),
        (Outcome(succeeded=0, failed=3), JobStatus.FAILED),
        (Outcome(succeeded=0), JobStatus.FAILED),
    ],
)
def test_final_status_follows_the_outcome(outcome, status):
    assert final_status(outcome) == status


def test_errors_are_all_counted_and_the_first_thousand_kept():
    errors = JobErrors()
    for line in range(1, MAX_STORED_ERRORS + 251):
        errors.add(line, f"bad {line}")
    assert errors.count == MAX_STORED_ERRORS + 250
    assert len(errors.items) == MAX_STORED_ERRORS
    assert errors.items[0] == {"line": 1, "reason": "bad 1"}
    assert errors.items[-1]["line"] == MAX_STORED_ERRORS


def test_statuses_are_live_or_finished_and_kinds_nest():
    assert set(JobStatus) == LIVE_STATUSES | FINISHED_STATUSES
    assert not LIVE_STATUSES & FINISHED_STATUSES
    assert SYNC_KINDS < SEARCH_CONSOLE_KINDS < set(JobKind)
    assert JobKind.KEYWORD_IMPORT not in SEARCH_CONSOLE_KINDS
