"""The screenshot engine's Chromium for the suites: the one `make setup` unpacks (``.state/chromium``)."""

import pytest

from shared.screenshots.chromium import LOCAL_CHROMIUM


def local_chromium() -> str:
    """Its path; fails the test with what to run when it is not unpacked."""
    if not LOCAL_CHROMIUM.is_file():
        pytest.fail(f"No Chromium at {LOCAL_CHROMIUM}: run `make setup` (it unpacks npm's @sparticuz/chromium there).")
    return str(LOCAL_CHROMIUM)
