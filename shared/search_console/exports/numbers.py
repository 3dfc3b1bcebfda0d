"""Reading an export's numbers: one reader (``NumberReader``) for both formats.

Spaces, no-break spaces and apostrophes only ever group thousands. A number
whose shape shows its decimal separator ("3,4", "1.234,5", "1,234,567", "0,125",
"12.5") teaches it to its column and, if the file knows none yet, to the file. A
number whose shape does not ("1,234": one separator then exactly three digits)
is read with its column's separator, else the file's, else its line is rejected
as ambiguous: it is never guessed. A value contradicting its column is rejected.
Every line of the first ``csv_text.LOOKAHEAD_LINES`` is observed before any is
read, so early ambiguous values are read with what later lines show. Counts
(clicks, impressions) are whole numbers: "1,234" is 1234 unless the file's
decimal separator is the comma. Rates (CTR) are "12.5%", "12,5 %" (any space,
no-break or narrow no-break, or none, before the sign; the full-width sign too) or a fraction
0.125. A reader may be given the decimal separator of the file's language
(``fallback_decimal``): it then reads a value whose shape proves none when nothing
in its column or file does, instead of rejecting it as ambiguous.
"""

import re

from shared.search_console.exports.problems import ValueProblem

MAX_COUNT = 2**31 - 1  # gsc_rows' clicks and impressions are integers
_GROUPING_SPACES = " \u00a0\u202f\u2009'\u2019"
_NUMERIC = re.compile(r"^[0-9.,'\u2019 \u00a0\u202f\u2009]*[0-9]$")
_EXPONENT = re.compile(r"^[0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]+$")
_GROUPS = {
    ".": re.compile("[" + re.escape("," + _GROUPING_SPACES) + "]"),
    ",": re.compile("[" + re.escape("." + _GROUPING_SPACES) + "]"),
}
_DIGITS = re.compile(r"^[0-9]*$")
# The common shapes, read without the general rules: digits, and a '.' that is unambiguously decimal
# (bulk exports' fast path reads them the same way).
PLAIN_DECIMAL = re.compile(r"^[0-9]+(?:\.(?:[0-9]{1,2}|[0-9]{4,}))?$")
_SEPARATOR_NAME = {".": "'.'", ",": "','"}


def decimal_separator_of(text: str) -> str | None:
    """The decimal separator ('.' or ',') a number's shape proves, or None when it proves none."""
    if _EXPONENT.match(text):
        return "."
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        return "." if text.rfind(".") > text.rfind(",") else ","
    if dots + commas == 0:
        return None
    separator = "." if dots else ","
    if dots + commas > 1:
        return "," if separator == "." else "."  # repeated, so it groups thousands
    integer, fraction = text.split(separator)
    spaced = any(ch in _GROUPING_SPACES for ch in integer)  # "1 234,567": spaces group, so the comma is decimal
    if len(fraction) != 3 or integer in ("", "0") or spaced:
        return separator
    return None


def _digits(text: str, decimal: str) -> tuple[str, str]:
    """The integer and fraction digits of ``text`` read with ``decimal`` as its decimal separator."""
    integer, found, fraction = text.partition(decimal)
    if found and (not fraction or decimal in fraction):
        raise ValueProblem(f"{text!r} is not a number")
    groups = _GROUPS[decimal].split(integer)
    if len(groups) > 1 and (not 1 <= len(groups[0]) <= 3 or any(len(group) != 3 for group in groups[1:])):
        raise ValueProblem(f"{text!r} has misplaced thousands separators")
    digits = "".join(groups)
    if not _DIGITS.match(digits) or not _DIGITS.match(fraction) or not (digits or fraction):
        raise ValueProblem(f"{text!r} is not a number")
    return digits or "0", fraction


def _number_text(raw: str) -> str:
    text = raw.strip()
    if not text:
        raise ValueProblem("is empty")
    if text.startswith("-"):
        raise ValueProblem(f"{text!r} is negative")
    if not (_NUMERIC.match(text) or _EXPONENT.match(text)):
        raise ValueProblem(f"{text!r} is not a number")
    return text


def _without_percent(raw: str) -> tuple[str, bool]:
    text = raw.strip()
    if text.endswith(("%", "\uff05")):
        return text[:-1].strip(), True
    return text, False


class NumberReader:
    """Reads one file's numbers, learning decimal separators from unambiguous values (see the module doc)."""

    def __init__(self, *, fallback_decimal: str | None = None) -> None:
        self._columns: dict[str, str] = {}
        self._file: str | None = None
        self._fallback = fallback_decimal  # the file's language's decimal separator, the last resort

    def observe(self, column: str, raw: str) -> None:
        if column in self._columns and self._file is not None:
            return  # nothing left to learn: the first unambiguous value decides
        text, _ = _without_percent(raw)
        separator = decimal_separator_of(text)
        if separator is None:
            return
        try:
            _digits(_number_text(text), separator)
        except ValueProblem:
            return
        self._columns.setdefault(column, separator)
        if self._file is None:
            self._file = separator

    def learned(self, column: str) -> str | None:
        """The decimal separator ``column`` learned, if it learned one."""
        return self._columns.get(column)

    def settled(self, column: str) -> bool:
        """Whether observing more of ``column`` can still teach anything (see ``observe``)."""
        return column in self._columns and self._file is not None

    def decimal(self, column: str, raw: str) -> float:
        if PLAIN_DECIMAL.match(raw) and ("." not in raw or self._columns.get(column, ".") == "."):
            return float(raw)
        text = _number_text(raw)
        if _EXPONENT.match(text):
            return float(text)
        own = decimal_separator_of(text)
        learned = self._columns.get(column)
        if own and learned and own != learned:
            raise ValueProblem(
                f"{text!r} has {_SEPARATOR_NAME[own]} as decimal separator,"
                f" but the other values of this column have {_SEPARATOR_NAME[learned]}"
            )
        separator = own or learned or self._file or self._fallback
        if separator is None:
            if "." not in text and "," not in text:
                separator = "."
            else:
                ambiguous = "." if "." in text else ","
                raise ValueProblem(
                    f"{text!r} is ambiguous: {_SEPARATOR_NAME[ambiguous]} may separate thousands or decimals,"
                    " and no other value in the file shows which"
                )
        integer, fraction = _digits(text, separator)
        return float(f"{integer}.{fraction or '0'}")

    def count(self, column: str, raw: str) -> int:
        if raw.isascii() and raw.isdigit():
            return self._bounded(raw, int(raw))
        text = _number_text(raw)
        if _EXPONENT.match(text):
            value = float(text)
            if not value.is_integer():
                raise ValueProblem(f"{text!r} is not a whole number")
            return self._bounded(text, int(value))
        separator = decimal_separator_of(text) or self._file
        if separator is None:
            # A count has no decimals: the one separator it has groups thousands.
            separator = "," if "." in text else "."
        integer, fraction = _digits(text, separator)
        if fraction.strip("0"):
            raise ValueProblem(f"{text!r} is not a whole number")
        return self._bounded(text, int(integer))

    def ratio(self, column: str, raw: str) -> float:
        """A rate such as CTR: a percentage with '%', or a fraction between 0 and 1."""
        text, percent = _without_percent(raw)
        value = self.decimal(column, text)
        if percent:
            value /= 100
        elif value > 1:
            raise ValueProblem(f"{raw.strip()!r} is above 1: write a percentage with '%' (12.5%) or a fraction (0.125)")
        if value > 1:
            raise ValueProblem(f"{raw.strip()!r} is above 100%")
        return value

    @staticmethod
    def _bounded(text: str, value: int) -> int:
        if value > MAX_COUNT:
            raise ValueProblem(f"{text!r} is too large")
        return value
