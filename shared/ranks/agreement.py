"""Rank data against Search Console: does the SERP check agree with the position searchers were shown?

Search Console's position is an average over every impression of the query (each searcher's personalised,
localised page), DataForSEO's is one unpersonalised SERP a day: they differ by a little in the normal
course. A keyword is flagged when they differ by more than ``max(DISAGREEMENT_POSITIONS,
DISAGREEMENT_SHARE x Search Console's position)`` (3 positions near the top, a quarter of the position
further down where both move more), or when Search Console places the site within the depth checked and the
checks never found it. Pure computations; the data comes from ``shared.ranks.visibility``.
"""

from dataclasses import dataclass
from typing import Literal

DISAGREEMENT_POSITIONS = 3.0
DISAGREEMENT_SHARE = 0.25

Status = Literal["agree", "disagree", "search_console_only", "serp_only", "not_ranking", "unchecked"]

STATUS_DESCRIPTION = (
    "`agree` / `disagree`: both rank the site, within or beyond the threshold; `search_console_only`: Search "
    "Console has impressions but no check found the site in the depth checked; `serp_only`: the checks found "
    "the site, Search Console has no impression; `not_ranking`: neither; `unchecked`: no check in the window."
)


@dataclass(frozen=True)
class Agreement:
    status: Status
    difference: float | None  # the checks' average position minus Search Console's (positive: the SERP is lower)
    threshold: float | None  # the difference allowed at Search Console's position
    flagged: bool


def threshold_at(search_console_position: float) -> float:
    return max(DISAGREEMENT_POSITIONS, DISAGREEMENT_SHARE * search_console_position)


def compare(serp_position: float | None, checks: int, gsc_position: float | None, depth: int | None) -> Agreement:
    """The checks' average position (None: never found) beside Search Console's (None: no impression)."""
    if checks == 0:
        return Agreement("unchecked", None, None, False)
    if gsc_position is None:
        return Agreement("not_ranking" if serp_position is None else "serp_only", None, None, False)
    threshold = threshold_at(gsc_position)
    if serp_position is None:
        within_depth = depth is None or gsc_position <= depth
        return Agreement("search_console_only", None, threshold, within_depth)
    difference = serp_position - gsc_position
    disagree = abs(difference) > threshold
    return Agreement("disagree" if disagree else "agree", difference, threshold, disagree)
