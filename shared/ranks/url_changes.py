"""Ranking-URL changes: a keyword whose ranking page changed from one of the project's pages to another.

Two consecutive checks of a keyword (by check date) that both found the project, on different pages: Google
swapped which of the project's pages it ranks for the query, the sign of cannibalization in rank data. URLs
are compared without their fragment (a featured snippet's result carries ``#:~:text=...``). A check that did
not find the project breaks the sequence: a page that drops out and another that comes back is a loss and a
gain, not a swap. Pure computation; the checks come from ``shared.ranks.data.snapshots``.
"""

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urldefrag


@dataclass(frozen=True)
class RankedCheck:
    keyword_id: uuid.UUID
    check_date: dt.date
    position: int | None
    url: str | None


@dataclass(frozen=True)
class UrlChange:
    keyword_id: uuid.UUID
    previous_date: dt.date
    check_date: dt.date
    previous_url: str
    url: str
    previous_position: int | None
    position: int | None


def page_of(url: str) -> str:
    return urldefrag(url).url


def url_changes(checks: Iterable[RankedCheck]) -> list[UrlChange]:
    """The changes between consecutive checks of each keyword; ``checks`` in (keyword, check date) order."""
    changes: list[UrlChange] = []
    previous: RankedCheck | None = None
    for check in checks:
        if (
            previous is not None
            and previous.keyword_id == check.keyword_id
            and previous.url
            and check.url
            and page_of(previous.url) != page_of(check.url)
        ):
            changes.append(
                UrlChange(
                    keyword_id=check.keyword_id,
                    previous_date=previous.check_date,
                    check_date=check.check_date,
                    previous_url=previous.url,
                    url=check.url,
                    previous_position=previous.position,
                    position=check.position,
                )
            )
        previous = check
    return changes
