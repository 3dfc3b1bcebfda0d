"""How unreadable values and rejected lines of an export are reported, and the rule on counts both formats share."""

from typing import Any

MAX_LINE_ERRORS = 1000


class ValueProblem(ValueError):
    """A value that cannot be read; the message is the reason shown for its line."""


class LineErrors:
    """Per-line errors as jobs store them ({line, reason}): all counted, the first ``keep`` kept."""

    def __init__(self, keep: int = MAX_LINE_ERRORS) -> None:
        self.keep = keep
        self.items: list[dict[str, Any]] = []
        self.count = 0

    def add(self, line: int, reason: str) -> None:
        self.count += 1
        if len(self.items) < self.keep:
            self.items.append({"line": line, "reason": reason})


def count_problems(clicks: int, impressions: int, clicks_label: str, impressions_label: str) -> list[str]:
    """Why a line's clicks and impressions cannot both be right, if they cannot."""
    if clicks > impressions:
        return [f"{clicks_label} ({clicks}) exceed {impressions_label} ({impressions})"]
    return []
