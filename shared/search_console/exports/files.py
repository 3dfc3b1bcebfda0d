"""Reading Search Console export files (parsing only: no database, no AWS).

Two formats arrive through file imports:

* The Performance report's "Export > Download CSV": a zip of Queries.csv,
  Pages.csv, Countries.csv, Devices.csv, Search appearance.csv, Dates.csv and
  Filters.csv, or one of those CSVs alone. Each report is its key column ("Top
  queries", "Top pages", "Country", "Device", "Search Appearance", "Date") then
  Clicks, Impressions, CTR, Position. A report is recognised by its header, not
  its file name (names follow the UI language and get prefixed); Filters.csv is
  "Filter,Value" rows. Only Dates.csv carries dates: the other reports are
  aggregates over the export's range, which comes from, in order: explicit dates
  in Filters.csv's Date row; the import request's range; Dates.csv's span.
  Without one of these a file with aggregate reports is rejected.
* Rows in the shape of the bulk export's ``searchdata_url_impression`` table, as
  CSV or gzip CSV (gzip is recognised by its magic bytes, not by the name).

Messy input is read, or rejected line by line with a reason:

* Encodings: UTF-8 with or without BOM; UTF-16 (Excel's "Unicode text") by BOM
  or NUL pattern. Delimiter ``,`` ``;`` or tab, sniffed from the header line.
  Quoted fields, blank lines, extra empty trailing fields (Excel) are fine; a
  line with another number of fields, or bytes that are not text, is rejected.
* Numbers, one reader (``NumberReader``) for both formats. Spaces, no-break
  spaces and apostrophes only ever group thousands. A number whose shape shows
  its decimal separator ("3,4", "1.234,5", "1,234,567", "0,125", "12.5") teaches
  it to its column and, if the file knows none yet, to the file. A number whose
  shape does not ("1,234": one separator then exactly three digits) is read with
  its column's separator, else the file's, else its line is rejected as
  ambiguous: it is never guessed. A value contradicting its column is rejected.
  Every line of the first ``LOOKAHEAD_LINES`` is observed before any is read, so
  early ambiguous values are read with what later lines show. Counts (clicks,
  impressions) are whole numbers: "1,234" is 1234 unless the file's decimal
  separator is the comma.
* CTR as "12.5%", "12,5 %" or a fraction 0.125; it must agree with clicks /
  impressions (within ``CTR_TOLERANCE``, since exports round it), and the exact
  clicks / impressions is what is stored.
* Dates: ISO; "Jan 5, 2024" or "5 Jan 2024"; D.M.YYYY; D/M/YYYY or M/D/YYYY with
  the order learned per file like decimal separators (ambiguous: rejected).

Bulk exports: Search Console writes repeated keys (it accumulates data
incrementally, and rows also differ in columns Kestrel does not keep), so rows
are summed per gsc_rows key by ``RowAggregator`` before they become chunks.
Anonymized queries (``is_anonymized_query`` true, query empty/NULL) are kept
under the query "" (gsc_rows.query is NOT NULL text; the empty string is
allowed): they are real clicks and impressions, often a large share of a page's
traffic. Without an ``is_anonymized_query`` column rows with a query count as
not anonymized, and an empty query marks the row anonymized.
"""

import codecs
import csv
import datetime as dt
import gzip
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Any, NamedTuple

import orjson
from pydantic import TypeAdapter, ValidationError

from shared.errors import RejectedFile
from shared.projects.models import SiteUrl
from shared.search_console.models import SearchType

__all__ = [
    "BulkLine",
    "BulkRow",
    "DateReader",
    "LineErrors",
    "NumberReader",
    "RejectedFile",
    "ReportRow",
    "RowAggregator",
    "Snapshot",
    "UiExport",
    "ValueProblem",
    "buffered",
    "date_range_in",
    "is_gzip",
    "read_bulk_export",
    "read_ui_export",
    "snapshot_values",
    "ui_snapshots",
]

LOOKAHEAD_LINES = 5_000
MAX_LINE_ERRORS = 1000
MAX_MEMBER_BYTES = 64 * 1024 * 1024  # one CSV of a UI export zip, uncompressed (real ones are under 1 MB)
MAX_COUNT = 2**31 - 1  # gsc_rows' clicks and impressions are integers
CTR_TOLERANCE = 0.005  # half a percentage point: exports round CTR, misread numbers miss by far more
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_BLOCK = 1 << 16


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


# ---------------------------------------------------------------- numbers
_GROUPING_SPACES = " \u00a0\u202f\u2009'\u2019"
_NUMERIC = re.compile(r"^[0-9.,'\u2019 \u00a0\u202f\u2009]*[0-9]$")
_EXPONENT = re.compile(r"^[0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]+$")
_GROUPS = {
    ".": re.compile("[" + re.escape("," + _GROUPING_SPACES) + "]"),
    ",": re.compile("[" + re.escape("." + _GROUPING_SPACES) + "]"),
}
_DIGITS = re.compile(r"^[0-9]*$")
# The common shapes, read without the general rules: digits, and a '.' that is unambiguously decimal.
_PLAIN_DECIMAL = re.compile(r"^[0-9]+(?:\.(?:[0-9]{1,2}|[0-9]{4,}))?$")
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
    if text.endswith("%"):
        return text[:-1].strip(), True
    return text, False


class NumberReader:
    """Reads one file's numbers, learning decimal separators from unambiguous values (see the module doc)."""

    def __init__(self) -> None:
        self._columns: dict[str, str] = {}
        self._file: str | None = None

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

    def decimal(self, column: str, raw: str) -> float:
        if _PLAIN_DECIMAL.match(raw) and ("." not in raw or self._columns.get(column, ".") == "."):
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
        separator = own or learned or self._file
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


# ---------------------------------------------------------------- dates
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
_NUMERIC_DATE = re.compile(r"(?<!\d)(?P<a>\d{1,2})(?P<sep>[/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})(?!\d)")
_MONTH_FIRST = re.compile(
    r"(?<![A-Za-z])(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?(?![\d])(?:,?\s+(?P<y>\d{4})(?!\d))?"
)
_DAY_FIRST = re.compile(
    r"(?<![\d])(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mon>[A-Za-z]{3,9})\.?(?![A-Za-z])(?:,?\s+(?P<y>\d{4})(?!\d))?"
)
_TRAILING_TIME = re.compile(r"[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")


def _month(word: str) -> int | None:
    word = word.lower()
    if word == "sept":
        return 9
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
        text = _TRAILING_TIME.sub("", raw.strip())
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


# ---------------------------------------------------------------- CSV text
class _RawStream(io.RawIOBase):
    """A readable raw stream over anything with ``read(n)`` (an S3 body, a zip member)."""

    def __init__(self, source: Any) -> None:
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._source.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def buffered(stream: Any) -> io.BufferedReader:
    """A peekable buffered reader over a binary stream (returned as is when it already is one)."""
    if isinstance(stream, io.BufferedReader):
        return stream
    return io.BufferedReader(_RawStream(stream), _BLOCK)


def is_gzip(stream: io.BufferedReader) -> bool:
    return stream.peek(2)[:2] == GZIP_MAGIC


def _text(stream: io.BufferedReader) -> io.TextIOWrapper:
    """Decompress gzip (by magic bytes), then decode UTF-8 (BOM or not) or UTF-16 (by BOM or NUL pattern).

    Undecodable UTF-8 bytes are kept as surrogate escapes so that only their lines are rejected.
    """
    if is_gzip(stream):
        stream = io.BufferedReader(gzip.GzipFile(fileobj=stream, mode="rb"), _BLOCK)
    try:
        head = stream.peek(4)[:4]
    except (OSError, EOFError, zlib.error) as exc:
        raise RejectedFile(f"The file is not readable gzip: {exc}.") from exc
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif len(head) >= 2 and head[0] != 0 and head[1] == 0:
        encoding = "utf-16-le"
    elif len(head) >= 2 and head[0] == 0 and head[1] != 0:
        encoding = "utf-16-be"
    else:
        encoding = "utf-8"
    return io.TextIOWrapper(stream, encoding=encoding, errors="surrogateescape", newline="")


@dataclass(frozen=True)
class _Record:
    line: int
    cells: list[str] | None  # None: the file is unreadable from this line on (``error`` says why)
    error: str | None = None


_UNREADABLE = (csv.Error, UnicodeError, EOFError, OSError, zlib.error, zipfile.BadZipFile)
_NOT_TEXT = re.compile("[\x00\udc80-\udcff]")


def _normal(cell: str) -> str:
    return " ".join(cell.strip().lower().split())


def _sniff_delimiter(line: str, known: frozenset[str]) -> str:
    best, best_score = ",", 0
    for delimiter in (",", ";", "\t"):
        cells = next(csv.reader([line], delimiter=delimiter), [])
        score = sum(_normal(cell) in known for cell in cells)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _records(text: io.TextIOWrapper, known: frozenset[str]) -> Iterator[_Record]:
    """Each non-blank CSV record with its first line's number, the header first.

    Where the file turns unreadable (bad CSV quoting, truncated gzip, undecodable UTF-16)
    one record without cells says so, and nothing after it is read.
    """
    skipped = 0
    try:
        first = text.readline()
        while first and not first.strip():
            skipped += 1
            first = text.readline()
    except _UNREADABLE as exc:
        raise RejectedFile(f"The file is not readable text: {exc}.") from exc
    if not first:
        return
    reader = csv.reader(chain([first], text), delimiter=_sniff_delimiter(first, known))
    consumed = 0
    try:
        for row in reader:
            line = skipped + consumed + 1
            consumed = reader.line_num
            if "".join(row).strip():
                yield _Record(line, row)
    except _UNREADABLE as exc:
        yield _Record(skipped + consumed + 1, None, f"the file is unreadable from here ({exc}); the rest was not read")


def _fields(cells: list[str], width: int) -> list[str] | str:
    """The row's cells (Excel's extra empty trailing cells dropped), or why the line is unusable."""
    if _NOT_TEXT.search("".join(cells)):
        return "the line is not text (not UTF-8, or NUL bytes): save the file as CSV UTF-8"
    if len(cells) > width and not any(cell.strip() for cell in cells[width:]):
        cells = cells[:width]
    if len(cells) != width:
        return f"expected {width} fields, found {len(cells)}"
    return cells


def _header(record: _Record | None, where: str) -> tuple[list[str], list[str]]:
    """The header's columns, normalised (lower case, single spaces), and as written (for reasons)."""
    if record is None:
        raise RejectedFile(f"{where}is empty.")
    if record.cells is None:
        raise RejectedFile(f"{where}is not readable CSV: {record.error}.")
    if _NOT_TEXT.search("".join(record.cells)):
        raise RejectedFile(f"{where}is not CSV text: it has NUL bytes or bytes that are not UTF-8 or UTF-16 text.")
    columns = [_normal(cell) for cell in record.cells]
    while columns and not columns[-1]:
        columns.pop()
    repeated = sorted({column for column in columns if columns.count(column) > 1})
    if repeated:
        raise RejectedFile(f"{where}has repeated column(s) {', '.join(repeated)}.")
    return columns, [cell.strip() for cell in record.cells[: len(columns)]]


def _lookahead(records: Iterator[_Record], observe: Callable[[list[str]], None]) -> Iterator[_Record]:
    """Observe the first LOOKAHEAD_LINES records before yielding any, then observe each as it comes."""
    head = list(islice(records, LOOKAHEAD_LINES))
    for record in head:
        if record.cells is not None:
            observe(record.cells)
    yield from head
    for record in records:
        if record.cells is not None:
            observe(record.cells)
        yield record


def _read_value[T](column: str, read: Callable[[], T], problems: list[str]) -> T | None:
    try:
        return read()
    except ValueProblem as problem:
        problems.append(f"{column}: {problem}")
        return None


# ---------------------------------------------------------------- UI exports
_REPORT_OF_KEY_COLUMN = {
    "top queries": "queries",
    "queries": "queries",
    "query": "queries",
    "top pages": "pages",
    "pages": "pages",
    "page": "pages",
    "country": "countries",
    "countries": "countries",
    "device": "devices",
    "devices": "devices",
    "search appearance": "search_appearance",
    "date": "dates",
    "dates": "dates",
}
_METRIC_OF_COLUMN = {
    "clicks": "clicks",
    "impressions": "impressions",
    "ctr": "ctr",
    "position": "position",
    "average position": "position",
    "avg. position": "position",
}
_REQUIRED_METRICS = ("clicks", "impressions", "position")
_FILTER_HEADER = ["filter", "value"]
_BULK_MARKERS = {"data_date", "site_url", "sum_position"}
_UI_HEADER_WORDS = frozenset(_REPORT_OF_KEY_COLUMN) | frozenset(_METRIC_OF_COLUMN) | frozenset(_FILTER_HEADER)
_UI_SEARCH_TYPES: dict[str, SearchType] = {
    "web": "web",
    "image": "image",
    "images": "image",
    "video": "video",
    "videos": "video",
    "news": "news",
    "discover": "discover",
    "google news": "googleNews",
    "googlenews": "googleNews",
}
_DIMENSION_FILTERS = {"query", "page", "country", "device", "search appearance"}
REPORT_NAMES = {
    "queries": "Queries",
    "pages": "Pages",
    "countries": "Countries",
    "devices": "Devices",
    "search_appearance": "Search appearance",
    "dates": "Dates",
}


@dataclass(frozen=True)
class ReportRow:
    report: str
    key: str  # the first column's value; for the dates report the ISO date
    clicks: int
    impressions: int
    ctr: float
    position: float


@dataclass(frozen=True)
class Snapshot:
    report: str
    key: str
    range_start: dt.date
    range_end: dt.date
    search_type: SearchType
    clicks: int
    impressions: int
    ctr: float
    position: float


@dataclass
class UiExport:
    rows: list[ReportRow] = field(default_factory=list)
    reports: dict[str, str] = field(default_factory=dict)  # report -> the file it came from
    search_type: SearchType | None = None  # from Filters.csv
    date_range: tuple[dt.date, dt.date] | None = None  # explicit dates in Filters.csv
    date_filter: str | None = None  # Filters.csv's Date value as written
    has_filters: bool = False
    files: int = 0
    lines: int = 0
    errors: LineErrors = field(default_factory=LineErrors)


def read_ui_export(data: bytes) -> UiExport:
    """Read a UI export: the zip, or one of its CSVs (plain or gzip). Raises ``RejectedFile`` if unusable."""
    if not data.strip():
        raise RejectedFile("The file is empty.")
    export = UiExport()
    if data[:4] in ZIP_MAGICS:
        _read_zip(data, export)
    else:
        _read_ui_csv(buffered(io.BytesIO(data)), None, export)
    return export


def _read_zip(data: bytes, export: UiExport) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise RejectedFile(f"The file is not a readable zip: {exc}.") from exc
    with archive:
        members = sorted(
            (
                info
                for info in archive.infolist()
                if not info.is_dir()
                and info.filename.lower().endswith(".csv")
                and not Path(info.filename).name.startswith(".")
                and "__MACOSX" not in info.filename
            ),
            key=lambda info: info.filename,
        )
        if not members:
            raise RejectedFile(
                "The zip holds no CSV files: expected Search Console's export (Queries.csv, Pages.csv, Dates.csv, ...)."
            )
        for info in members:
            name = Path(info.filename).name
            if info.file_size > MAX_MEMBER_BYTES:
                raise RejectedFile(
                    f"{name} is {info.file_size / 1048576:.0f} MB uncompressed; too large for an export."
                )
            try:
                with archive.open(info) as member:
                    _read_ui_csv(buffered(member), name, export)
            except (RuntimeError, NotImplementedError, zipfile.BadZipFile, zlib.error) as exc:
                raise RejectedFile(f"{name} in the zip is not readable: {exc}.") from exc


def _read_ui_csv(stream: io.BufferedReader, name: str | None, export: UiExport) -> None:
    where = f"{name} " if name else "The file "
    records = _records(_text(stream), _UI_HEADER_WORDS)
    columns, written = _header(next(records, None), where)
    export.files += 1
    if columns == _FILTER_HEADER:
        _read_filters(records, name or "Filters.csv", export)
        return
    report, metric_index = _report_layout(columns, where)
    if report in export.reports:
        raise RejectedFile(f"The zip holds two {REPORT_NAMES[report]} reports: {export.reports[report]} and {name}.")
    export.reports[report] = name or REPORT_NAMES[report]
    prefix = f"{name}: " if name else ""
    numbers, dates = NumberReader(), DateReader()

    def observe(cells: list[str]) -> None:
        if len(cells) >= len(columns):
            for metric in ("ctr", "position"):
                if metric in metric_index:
                    numbers.observe(metric, cells[metric_index[metric]])
            if report == "dates":
                dates.observe(cells[0])

    seen: dict[str, int] = {}
    labels = {metric: written[index] for metric, index in metric_index.items()}
    for record in _lookahead(records, observe):
        if record.cells is None:
            export.errors.add(record.line, f"{prefix}{record.error}")
            break
        export.lines += 1
        row = _report_row(record.cells, len(columns), report, written[0], metric_index, labels, numbers, dates)
        if isinstance(row, str):
            export.errors.add(record.line, f"{prefix}{row}")
        elif row.key in seen:
            export.errors.add(record.line, f"{prefix}repeats {written[0]} {row.key!r} of line {seen[row.key]}")
        else:
            seen[row.key] = record.line
            export.rows.append(row)


def _report_layout(columns: list[str], where: str) -> tuple[str, dict[str, int]]:
    if _BULK_MARKERS & set(columns):
        raise RejectedFile(
            f"{where}is a bulk export (data_date, site_url, ...), not the Search Console UI's:"
            " create the import with format bulk_export."
        )
    report = _REPORT_OF_KEY_COLUMN.get(columns[0]) if columns else None
    if report is None:
        raise RejectedFile(
            f"{where}is not a Search Console performance report: its header is {','.join(columns)!r};"
            " expected for example 'Top queries,Clicks,Impressions,CTR,Position'."
        )
    metric_index: dict[str, int] = {}
    unknown: list[str] = []
    for index, column in enumerate(columns[1:], start=1):
        metric = _METRIC_OF_COLUMN.get(column)
        if metric is None or metric in metric_index:
            unknown.append(column)
        else:
            metric_index[metric] = index
    if any(column.endswith(tuple(_METRIC_OF_COLUMN)) for column in unknown):
        raise RejectedFile(f"{where}is a comparison export ({', '.join(unknown)}): export a single date range instead.")
    missing = [metric for metric in _REQUIRED_METRICS if metric not in metric_index]
    if missing or unknown:
        problems = [f"missing column(s) {', '.join(missing)}"] if missing else []
        if unknown:
            problems.append(f"unknown column(s) {', '.join(unknown)}")
        raise RejectedFile(f"{where}has a wrong header: {'; '.join(problems)}.")
    return report, metric_index


def _report_row(
    cells: list[str],
    width: int,
    report: str,
    key_label: str,
    metric_index: Mapping[str, int],
    labels: Mapping[str, str],
    numbers: NumberReader,
    dates: DateReader,
) -> ReportRow | str:
    """One report line as a row, or the reason it is rejected."""
    fields = _fields(cells, width)
    if isinstance(fields, str):
        return fields
    problems: list[str] = []
    key: str | None = fields[0].strip()
    if not key:
        problems.append(f"{key_label}: is empty")
    elif report == "dates":
        day = _read_value(key_label, lambda: dates.read(fields[0]), problems)
        key = day.isoformat() if day else None
    clicks = _read_value(labels["clicks"], lambda: numbers.count("clicks", fields[metric_index["clicks"]]), problems)
    impressions = _read_value(
        labels["impressions"], lambda: numbers.count("impressions", fields[metric_index["impressions"]]), problems
    )
    position = _read_value(
        labels["position"], lambda: numbers.decimal("position", fields[metric_index["position"]]), problems
    )
    ctr = None
    if "ctr" in metric_index:
        ctr = _read_value(labels["ctr"], lambda: numbers.ratio("ctr", fields[metric_index["ctr"]]), problems)
    if position is not None and position < 1:
        problems.append(f"{labels['position']}: {position:g} is below 1, the top position")
    if clicks is not None and impressions is not None:
        problems += _count_problems(clicks, impressions, labels["clicks"], labels["impressions"])
        if ctr is not None and not problems and abs(ctr - _ctr(clicks, impressions)) > CTR_TOLERANCE:
            problems.append(
                f"{labels['ctr']}: {ctr:.2%} does not match {labels['clicks']} / {labels['impressions']}"
                f" ({_ctr(clicks, impressions):.2%}): a number was probably misread"
            )
    if problems or key is None or clicks is None or impressions is None or position is None:
        return "; ".join(problems)
    return ReportRow(report, key, clicks, impressions, _ctr(clicks, impressions), position)


def _count_problems(clicks: int, impressions: int, clicks_label: str, impressions_label: str) -> list[str]:
    if clicks > impressions:
        return [f"{clicks_label} ({clicks}) exceed {impressions_label} ({impressions})"]
    return []


def _ctr(clicks: int, impressions: int) -> float:
    return clicks / impressions if impressions else 0.0


def _read_filters(records: Iterator[_Record], name: str, export: UiExport) -> None:
    export.has_filters = True
    for record in records:
        if record.cells is None:
            raise RejectedFile(f"{name} is not readable: {record.error}.")
        if _NOT_TEXT.search("".join(record.cells)):
            raise RejectedFile(f"{name} line {record.line} is not text: save the file as CSV UTF-8.")
        label = record.cells[0].strip()
        value = record.cells[1].strip() if len(record.cells) > 1 else ""
        kind = _normal(label)
        if kind == "search type":
            search_type = _UI_SEARCH_TYPES.get(_normal(value))
            if search_type is None:
                raise RejectedFile(f"{name} names an unknown search type {value!r} (line {record.line}).")
            export.search_type = search_type
        elif kind == "date":
            if "compar" in value.lower():
                raise RejectedFile(f"{name}: the export compares two date ranges ({value}); export a single range.")
            export.date_filter = value
            export.date_range = date_range_in(value)
        elif kind in _DIMENSION_FILTERS:
            raise RejectedFile(
                f"The export is filtered ({label}: {value}): its totals are not the property's."
                " Export again without that filter."
            )


def ui_snapshots(
    export: UiExport,
    *,
    range_start: dt.date | None,
    range_end: dt.date | None,
    search_type: SearchType | None,
) -> list[Snapshot]:
    """The export's rows as dated snapshots; ``RejectedFile`` when aggregates have no known date range."""
    chosen_type: SearchType = export.search_type or search_type or "web"
    days = sorted(dt.date.fromisoformat(row.key) for row in export.rows if row.report == "dates")
    requested = (range_start, range_end) if range_start and range_end else None
    period = export.date_range or requested or ((days[0], days[-1]) if days else None)
    if days and period and not (period[0] <= days[0] and days[-1] <= period[1]):
        source = "Filters.csv" if export.date_range else "the import"
        raise RejectedFile(
            f"Dates.csv covers {days[0]} to {days[-1]}, outside the range {period[0]} to {period[1]}"
            f" that {source} gives."
        )
    snapshots: list[Snapshot] = []
    for row in export.rows:
        if row.report == "dates":
            start = end = dt.date.fromisoformat(row.key)
        elif period is None:
            raise RejectedFile(_unknown_range(export))
        else:
            start, end = period
        snapshots.append(
            Snapshot(row.report, row.key, start, end, chosen_type, row.clicks, row.impressions, row.ctr, row.position)
        )
    return snapshots


def _unknown_range(export: UiExport) -> str:
    reports = ", ".join(sorted(export.reports[report] for report in export.reports if report != "dates"))
    if export.date_filter:
        said = f"Filters.csv gives the range as {export.date_filter!r}, which names no unambiguous dates"
    elif export.has_filters:
        said = "Filters.csv gives no date range"
    else:
        said = "there is no Filters.csv"
    return (
        f"The export's date range is unknown: {reports} are totals over a range, {said}, and there is no"
        " Dates.csv to take it from. Create the import with range_start and range_end."
    )


# ---------------------------------------------------------------- bulk exports
BULK_REQUIRED = (
    "data_date",
    "site_url",
    "url",
    "query",
    "country",
    "search_type",
    "device",
    "impressions",
    "clicks",
    "sum_position",
)
BULK_OPTIONAL = ("is_anonymized_query",)
_BULK_HEADER_WORDS = frozenset(BULK_REQUIRED + BULK_OPTIONAL)
_BULK_SEARCH_TYPES: dict[str, SearchType] = {
    "web": "web",
    "image": "image",
    "video": "video",
    "news": "news",
    "discover": "discover",
    "googlenews": "googleNews",
}
_DEVICES = ("DESKTOP", "MOBILE", "TABLET")
_COUNTRY = re.compile(r"^[a-z]{3}$")
_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n", "", "null"}  # "" and "null": a NULL flag, taken as not anonymized
_SITE_URL: TypeAdapter[str] = TypeAdapter(SiteUrl)


class BulkRow(NamedTuple):
    date: str  # ISO
    search_type: str
    query: str
    page: str
    country: str
    device: str
    clicks: int
    impressions: int
    sum_position: float


@dataclass(frozen=True)
class BulkLine:
    line: int
    row: BulkRow | None = None
    error: str | None = None
    other_site: str | None = None  # the line's site_url, when it is not the import's property
    last: bool = False  # the file is unreadable after this line


def _site(value: str) -> str | None:
    try:
        return _SITE_URL.validate_python(value)
    except ValidationError:
        return None


def read_bulk_export(stream: io.BufferedReader, *, site_url: str, today: dt.date) -> Iterator[BulkLine]:
    """Each data line of a bulk export as a row or an error; ``RejectedFile`` (before any line) if unusable."""
    if stream.peek(4)[:4] in ZIP_MAGICS:
        raise RejectedFile(
            "The file is a zip: bulk exports are CSV or gzip CSV. For the Search Console UI's zip export,"
            " create the import with format ui_export."
        )
    records = _records(_text(stream), _BULK_HEADER_WORDS)
    columns, _ = _header(next(records, None), "The file ")
    missing = [column for column in BULK_REQUIRED if column not in columns]
    if missing:
        hint = ""
        if columns and columns[0] in _REPORT_OF_KEY_COLUMN:
            hint = " It looks like a Search Console UI export: create the import with format ui_export."
        raise RejectedFile(
            f"Wrong header: missing column(s) {', '.join(missing)}. A bulk export has the columns of"
            f" searchdata_url_impression: {', '.join(BULK_REQUIRED)} (is_anonymized_query optional).{hint}"
        )
    reader = _BulkLineReader(columns, site_url=site_url, today=today)
    for record in _lookahead(records, reader.observe):
        if record.cells is None:
            yield BulkLine(record.line, error=record.error, last=True)
            return
        fields = _fields(record.cells, len(columns))
        if isinstance(fields, str):
            yield BulkLine(record.line, error=fields)
            continue
        yield reader.read(record.line, fields)


class _BulkLineReader:
    """Reads bulk lines of one file: a class, not closures, because this runs for millions of lines."""

    def __init__(self, columns: list[str], *, site_url: str, today: dt.date) -> None:
        self.width = len(columns)
        self.site_url, self.today = site_url, today
        self.numbers, self.dates = NumberReader(), DateReader()
        self.sites: dict[str, str | None] = {}  # a file names one or a few sites: normalise each once
        self.search_types: dict[str, SearchType | None] = {}
        (
            self.i_date,
            self.i_site,
            self.i_url,
            self.i_query,
            self.i_country,
            self.i_search_type,
            self.i_device,
            self.i_impressions,
            self.i_clicks,
            self.i_sum_position,
        ) = (columns.index(column) for column in BULK_REQUIRED)
        self.i_anonymized = columns.index("is_anonymized_query") if "is_anonymized_query" in columns else None

    def observe(self, cells: list[str]) -> None:
        if len(cells) >= self.width:
            self.numbers.observe("sum_position", cells[self.i_sum_position])
            self.dates.observe(cells[self.i_date])

    def read(self, line: int, fields: list[str]) -> BulkLine:
        site = fields[self.i_site].strip()
        if site not in self.sites:
            self.sites[site] = _site(site)
        if self.sites[site] != self.site_url:
            return BulkLine(
                line, error=f"site_url {site!r} is not this import's property ({self.site_url})", other_site=site
            )
        problems: list[str] = []
        day: dt.date | None = None
        try:
            day = self.dates.read(fields[self.i_date])
            if day > self.today:
                problems.append(f"data_date: {day} is in the future")
        except ValueProblem as problem:
            problems.append(f"data_date: {problem}")
        page = fields[self.i_url].strip()
        if not page:
            problems.append("url: is empty")
        query = fields[self.i_query]
        if not query.strip():
            query = ""
        if self.i_anonymized is not None:
            flag = fields[self.i_anonymized].strip().lower()
            if flag in _TRUE:
                if query:
                    problems.append("query: is set, but is_anonymized_query is true")
            elif flag not in _FALSE:
                problems.append(f"is_anonymized_query: {flag!r} is not true or false")
            elif flag and not query:  # empty (NULL) says nothing
                problems.append("query: is empty, but is_anonymized_query is false")
        raw_country = fields[self.i_country].strip()
        country = raw_country.lower()
        if not _COUNTRY.match(country):
            problems.append(f"country: {raw_country!r} is not an ISO 3166-1 alpha-3 code")
        raw_type = fields[self.i_search_type].strip()
        if raw_type not in self.search_types:
            self.search_types[raw_type] = _BULK_SEARCH_TYPES.get(raw_type.lower().replace("_", "").replace(" ", ""))
        search_type = self.search_types[raw_type]
        if search_type is None:
            problems.append(f"search_type: {raw_type!r} is not one of {', '.join(_BULK_SEARCH_TYPES)}")
        raw_device = fields[self.i_device].strip()
        device = raw_device.upper()
        if device not in _DEVICES:
            problems.append(f"device: {raw_device!r} is not one of {', '.join(_DEVICES)}")
        impressions = clicks = None
        sum_position: float | None = None
        try:
            impressions = self.numbers.count("impressions", fields[self.i_impressions])
            if impressions == 0:
                problems.append("impressions: is 0; Search Console rows have at least one")
        except ValueProblem as problem:
            problems.append(f"impressions: {problem}")
        try:
            clicks = self.numbers.count("clicks", fields[self.i_clicks])
        except ValueProblem as problem:
            problems.append(f"clicks: {problem}")
        try:
            sum_position = self.numbers.decimal("sum_position", fields[self.i_sum_position])
        except ValueProblem as problem:
            problems.append(f"sum_position: {problem}")
        if clicks is not None and impressions is not None:
            problems += _count_problems(clicks, impressions, "clicks", "impressions")
        if (
            problems
            or day is None
            or search_type is None
            or clicks is None
            or impressions is None
            or sum_position is None
        ):
            return BulkLine(line, error="; ".join(problems))
        row = BulkRow(day.isoformat(), search_type, query, page, country, device, clicks, impressions, sum_position)
        return BulkLine(line, row)


class RowAggregator:
    """Sums bulk rows sharing a gsc_rows key, one hash partition of keys in memory at a time.

    Rows are spilled to ``partitions`` gzip files by a stable hash (CRC-32) of their
    key, so one partition's keys fit in memory; each partition comes back sorted by
    key. The same file always gives the same rows in the same order, so a re-run of
    an import writes identical chunks.
    """

    def __init__(self, directory: Path, partitions: int) -> None:
        self.partitions = max(1, partitions)
        self._paths = [directory / f"partition-{n:04d}.ndjson.gz" for n in range(self.partitions)]
        # Open for the aggregator's whole life (closed by ``close``/``rows``), hence no context manager.
        self._spills = [gzip.open(path, "wb", compresslevel=1) for path in self._paths]  # noqa: SIM115
        self.added = 0
        self.distinct = 0

    def add(self, row: BulkRow) -> None:
        key = "\x1f".join(row[:6]).encode()
        line = orjson.dumps(tuple(row), option=orjson.OPT_APPEND_NEWLINE)
        self._spills[zlib.crc32(key) % self.partitions].write(line)
        self.added += 1

    def close(self) -> None:
        for spill in self._spills:
            spill.close()

    def rows(self) -> Iterator[dict[str, Any]]:
        """The summed rows as chunk rows (gsc_chunks.ROW_FIELDS); average position = sum_position / impressions + 1."""
        self.close()
        self.distinct = 0
        for path in self._paths:
            totals: dict[tuple[str, ...], list[float]] = {}
            with gzip.open(path, "rb") as spill:
                for line in spill:
                    *key, clicks, impressions, sum_position = orjson.loads(line)
                    found = totals.get(tuple(key))
                    if found is None:
                        totals[tuple(key)] = [clicks, impressions, sum_position]
                    else:
                        found[0] += clicks
                        found[1] += impressions
                        found[2] += sum_position
            path.unlink()
            self.distinct += len(totals)
            for key in sorted(totals):
                clicks, impressions, sum_position = totals.pop(key)
                yield {
                    "date": key[0],
                    "search_type": key[1],
                    "query": key[2],
                    "page": key[3],
                    "country": key[4],
                    "device": key[5],
                    "clicks": int(clicks),
                    "impressions": int(impressions),
                    "ctr": clicks / impressions,
                    "position": sum_position / impressions + 1,
                }


def snapshot_values(snapshots: Sequence[Snapshot]) -> list[dict[str, Any]]:
    """Snapshots as column values for gsc_export_snapshots."""
    return [
        {
            "report": s.report,
            "key": s.key,
            "range_start": s.range_start,
            "range_end": s.range_end,
            "search_type": s.search_type,
            "clicks": s.clicks,
            "impressions": s.impressions,
            "ctr": s.ctr,
            "position": s.position,
        }
        for s in snapshots
    ]
