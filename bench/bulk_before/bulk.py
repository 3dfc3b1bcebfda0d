"""Reading bulk exports: rows in the shape of the bulk export's ``searchdata_url_impression`` table, line by line.

The file is CSV or gzip CSV. Each data line becomes a ``BulkRow`` or the reason
it is rejected. Anonymized queries (``is_anonymized_query`` true, query
empty/NULL) are kept under the query "" (gsc_rows.query is NOT NULL text; the
empty string is allowed): they are real clicks and impressions, often a large
share of a page's traffic. Without an ``is_anonymized_query`` column rows with a
query count as not anonymized, and an empty query marks the row anonymized.
"""

import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from pydantic import TypeAdapter, ValidationError

from bench.bulk_before.csv_text import (
    ZIP_MAGICS,
    csv_records,
    decoded_text,
    line_fields,
    read_header,
    with_lookahead,
)
from bench.bulk_before.dates import DateReader
from bench.bulk_before.numbers import NumberReader
from shared.errors import RejectedFile
from shared.projects.models import SiteUrl
from shared.search_console.exports.problems import ValueProblem, count_problems
from shared.search_console.exports.ui import REPORT_OF_KEY_COLUMN
from shared.search_console.models import SearchType

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
    records = csv_records(decoded_text(stream), _BULK_HEADER_WORDS)
    columns, _ = read_header(next(records, None), "The file ")
    missing = [column for column in BULK_REQUIRED if column not in columns]
    if missing:
        hint = ""
        if columns and columns[0] in REPORT_OF_KEY_COLUMN:
            hint = " It looks like a Search Console UI export: create the import with format ui_export."
        raise RejectedFile(
            f"Wrong header: missing column(s) {', '.join(missing)}. A bulk export has the columns of"
            f" searchdata_url_impression: {', '.join(BULK_REQUIRED)} (is_anonymized_query optional).{hint}"
        )
    reader = _BulkLineReader(columns, site_url=site_url, today=today)
    for record in with_lookahead(records, reader.observe):
        if record.cells is None:
            yield BulkLine(record.line, error=record.error, last=True)
            return
        fields = line_fields(record.cells, len(columns))
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
            problems += count_problems(clicks, impressions, "clicks", "impressions")
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
