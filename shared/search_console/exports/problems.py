"""How an unreadable value of an export is reported, and the rule on counts both formats share.

Rejected lines are recorded as every job records its errors (``shared.jobs.models.JobErrors``).
"""


class ValueProblem(ValueError):
    """A value that cannot be read; the message is the reason shown for its line."""


def count_problems(clicks: int, impressions: int, clicks_label: str, impressions_label: str) -> list[str]:
    """Why a line's clicks and impressions cannot both be right, if they cannot."""
    if clicks > impressions:
        return [f"{clicks_label} ({clicks}) exceed {impressions_label} ({impressions})"]
    return []
