"""Reading an export's dates: one column's (``DateReader``) and the explicit range a text names (``date_range_in``).

ISO (also YYYY/MM/DD); "Jan 5, 2024" or "5 Jan 2024" (or with the month names of
any language in ``languages``: "5 janv. 2024", "5. März 2024", "5 de mar. de 2024"); D.M.YYYY; D/M/YYYY or
M/D/YYYY (or with dashes, as Dutch spreadsheets write them) with the order
learned per file like decimal separators (ambiguous: rejected); the year-first
dates of Chinese, Japanese and Korean spreadsheets, "2024年3月5日" and
"2024. 3. 5.".
"""

import datetime as dt
import re
from dataclasses import dataclass

from shared.search_console.exports.languages import MONTH_NAMES
from shared.search_console.exports.problems import ValueProblem

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_ISO_DATE = re.compile(r"(?<!\d)(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?!\d)")
_NUMERIC_DATE = re.compile(r"(?<!\d)(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})(?!\d)")
# Month names in any language of languages.LANGUAGES: "Mar 1, 2024", "1 mars 2024", "1. März 2024", "1 de mar. de 2024".
_MONTH_FIRST = re.compile(
    r"(?<![^\W\d_])(?P<mon>[^\W\d_]{3,13})\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?(?![\d])(?:,?\s+(?P<y>\d{4})(?!\d))?"
)
_DAY_FIRST = re.compile(
    r"(?<![\d])(?P<d>\d{1,2})(?:st|nd|rd|th|\.)?\s+(?:de\s+)?(?P<mon>[^\W\d_]{3,13})\.?(?![^\W\d_])"
    r"(?:,?\s+(?:de\s+)?(?P<y>\d{4})(?!\d))?"
)
# "2024年3月5日" (Chinese, Japanese), "2024. 3. 5." (Korean): read as ISO.
_YEAR_FIRST = re.compile(r"(?<!\d)(\d{4})(?:年\s*|\.\s+)(\d{1,2})(?:月\s*|\.\s+)(\d{1,2})(?:日|\.(?!\d)|(?!\d))")
_TRAILING_TIME = re.compile(r"[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")


def _month(word: str) -> int | None:
    word = word.lower()
    if word in MONTH_NAMES:
        return MONTH_NAMES[word]
    for number, name in enumerate(_MONTH_NAMES, start=1):
        if len(word) >= 3 and name.startswith(word):
            return number
    return None


@dataclass(frozen=True)
class _DateToken:
    start: int
    end: int
    year: int | None
    month: int
    day: int
    ambiguous: bool = False  # numeric D/M or M/D whose order nothing settles


def _slash_order(first: int, second: int, separator: str) -> bool | None:
    """True when a numeric date is day first, False when month first, None when its numbers do not say."""
    if separator == ".":
        return True  # dotted numeric dates are day first wherever they are written
    if first > 12 >= second:
        return True
    if second > 12 >= first:
        return False
    return None


def _date_tokens(text: str, day_first: bool | None) -> list[_DateToken]:
    text = _year_first(text)
    found: list[_DateToken] = []
    for match in _ISO_DATE.finditer(text):
        found.append(_DateToken(match.start(), match.end(), int(match["y"]), int(match["m"]), int(match["d"])))
    for match in _NUMERIC_DATE.finditer(text):
        first, second = int(match["a"]), int(match["b"])
        order = _slash_order(first, second, match["sep"])
        if order is None and first != second:
            order = day_first
        ambiguous = order is None and first != second
        day, month = (first, second) if order in (True, None) else (second, first)
        found.append(_DateToken(match.start(), match.end(), int(match["y"]), month, day, ambiguous))
    for pattern in (_MONTH_FIRST, _DAY_FIRST):
        for match in pattern.finditer(text):
            named_month = _month(match["mon"])
            if named_month is not None:
                year = int(match["y"]) if match["y"] else None
                found.append(_DateToken(match.start(), match.end(), year, named_month, int(match["d"])))
    found.sort(key=lambda token: (token.start, -token.end))
    tokens: list[_DateToken] = []
    for token in found:
        if not tokens or token.start >= tokens[-1].end:
            tokens.append(token)
    return tokens


def _year_first(text: str) -> str:
    """Chinese, Japanese and Korean year-first dates rewritten as ISO dates."""
    if "年" not in text and ". " not in text:
        return text
    return _YEAR_FIRST.sub(lambda match: f"{match[1]}-{int(match[2]):02d}-{int(match[3]):02d}", text)


def _to_date(token: _DateToken, year: int) -> dt.date:
    try:
        return dt.date(year, token.month, token.day)
    except ValueError as exc:
        raise ValueProblem(f"{token.year or year}-{token.month:02d}-{token.day:02d} is not a date") from exc


def date_range_in(text: str) -> tuple[dt.date, dt.date] | None:
    """The explicit date range in a text such as Filters.csv's Date value; None when it names none unambiguously.

    "2024-01-01 - 2024-03-31", "Custom: Jan 1, 2024 - Mar 31, 2024", "Jan 1 - Mar 31, 2024" (or with dashes),
    "1 Jan 2024 - 31 Mar 2024" and one date alone (a one-day range) are understood.
    Relative ranges ("Last 3 months") name none.
    """
    tokens = _date_tokens(text, None)
    if not 1 <= len(tokens) <= 2 or any(token.ambiguous for token in tokens):
        return None
    years: list[int | None] = [token.year for token in tokens]
    for index in range(len(years) - 2, -1, -1):  # "Jan 1 - Mar 31, 2024": a missing year is the next one's
        if years[index] is None:
            years[index] = years[index + 1]
    if any(year is None for year in years):
        return None
    try:
        days = [_to_date(token, year) for token, year in zip(tokens, years, strict=True) if year is not None]
    except ValueProblem:
        return None
    if days[0] > days[-1]:
        return None
    return days[0], days[-1]


class DateReader:
    """Reads one date column, learning whether numeric dates are day first from unambiguous values."""

    def __init__(self) -> None:
        self._day_first: bool | None = None
        self._read: dict[str, dt.date] = {}  # a file has few distinct dates: each is parsed once

    def observe(self, raw: str) -> None:
        if self._day_first is not None or raw in self._read:
            return
        match = _NUMERIC_DATE.fullmatch(_TRAILING_TIME.sub("", raw.strip()))
        if match:
            self._day_first = _slash_order(int(match["a"]), int(match["b"]), match["sep"])

    def read(self, raw: str) -> dt.date:
        known = self._read.get(raw)
        if known is not None:
            return known
        day = self._parse(raw)
        if len(self._read) < 10_000:
            self._read[raw] = day
        return day

    def _parse(self, raw: str) -> dt.date:
        text = _year_first(_TRAILING_TIME.sub("", raw.strip())).strip()
        if not text:
            raise ValueProblem("is empty")
        tokens = _date_tokens(text, self._day_first)
        if len(tokens) != 1 or tokens[0].start != 0 or tokens[0].end != len(text) or tokens[0].year is None:
            raise ValueProblem(f"{text!r} is not a date (expected YYYY-MM-DD)")
        if tokens[0].ambiguous:
            raise ValueProblem(
                f"{text!r} is ambiguous: day/month or month/day, and no other date in the file shows which"
            )
        return _to_date(tokens[0], tokens[0].year)
