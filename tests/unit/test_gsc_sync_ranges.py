"""The date ranges a Search Console sync or backfill may ask for: none in the future, none past Google's history.

The gsc_sync worker against the local Search Console API is tests/integration/test_gsc_sync.py.
"""

import datetime as dt

import pytest

from shared.errors import InvalidRequest
from shared.search_console import sync as gsc_sync
from shared.search_console.models import HISTORY_DAYS

TODAY = dt.date(2026, 11, 22)


def test_validate_range() -> None:
    earliest = TODAY - dt.timedelta(days=HISTORY_DAYS)
    gsc_sync.validate_range(earliest, earliest + dt.timedelta(days=HISTORY_DAYS - 1), today=TODAY)
    gsc_sync.validate_range(TODAY - dt.timedelta(days=2), TODAY, today=TODAY)
    gsc_sync.validate_range(TODAY, TODAY, today=TODAY)
    with pytest.raises(InvalidRequest, match="in the future"):
        gsc_sync.validate_range(TODAY, TODAY + dt.timedelta(days=1), today=TODAY)
    with pytest.raises(InvalidRequest, match=f"the earliest is {earliest}"):
        gsc_sync.validate_range(earliest - dt.timedelta(days=1), TODAY - dt.timedelta(days=30), today=TODAY)
    with pytest.raises(InvalidRequest, match=f"at most {HISTORY_DAYS} days"):
        gsc_sync.validate_range(earliest, TODAY, today=TODAY)
    with pytest.raises(InvalidRequest, match="must not be after"):
        gsc_sync.validate_range(TODAY, TODAY - dt.timedelta(days=1), today=TODAY)
