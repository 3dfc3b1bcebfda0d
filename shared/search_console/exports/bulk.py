"""Reading bulk exports: rows in the shape of the bulk export's ``searchdata_url_impression`` table, line by line.

The file is CSV or gzip CSV. Each data line becomes a ``BulkRow`` or the reason
it is rejected, in batches (``read_bulk_batches``: millions of lines a minute), or
line by line (``read_bulk_export``). Anonymized queries (``is_anonymized_query`` true, query
empty/NULL) are kept under the query "" (gsc_rows.query is NOT NULL text; the
empty string is allowed): they are real clicks and impressions, often a large
share of a page's traffic. Without an ``is_anonymized_query`` column rows with a
query count as not anonymized, and an empty query marks the row anonymized.

Speed: a file repeats few distinct dates, sites, countries, devices, search types,
flags and counts, so each distinct value is read and validated once and then looked
up (``_BulkLineReader``); a line whose values are all known good is a row at once,
and any other goes through every check, which give its reasons. The stdlib's C csv
reader splits the lines.
"""

import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from typing import Any, NamedTuple

from pydantic import TypeAdapter, ValidationError

from shared.errors import RejectedFile
from shared.projects.models import SiteUrl
from shared.search_console.exports.csv_text import (
    LOOKAHEAD_LINES,
    UNREADABLE,
    ZIP_MAGICS,
    CsvRows,
    csv_rows,
    line_fields,
    read_header,
)
from shared.search_console.exports.dates import DateReader
from shared.search_console.exports.numbers import MAX_COUNT, PLAIN_DECIMAL, NumberReader
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
BATCH_LINES = 2_000  # lines per batch of read_bulk_batches
_CACHED_VALUES = 10_000  # distinct values remembered per column (dates, sites, countries, counts...)
_CACHED_KEYS = 200_000  # distinct (date, site, country, search type, device, flag) keys remembered


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


RowValues = tuple[str, str, str, str, str, str, int, int, float]
"""A row's values in ``BulkRow``'s order, as a plain tuple (what a batch holds: cheaper than a BulkRow)."""


@dataclass
class BulkBatch:
    """Consecutive data lines of a bulk export: its rows and its rejected lines.

    ``lines`` counts the data lines read (blank lines are none). An error marked ``last`` is no data
    line but where the file turned unreadable, and ends the file. ``row_lines`` (the line of each
    row) is filled only when asked for.
    """

    rows: list[RowValues] = field(default_factory=list)
    errors: list[BulkLine] = field(default_factory=list)
    lines: int = 0
    row_lines: list[int] = field(default_factory=list)


def _site(value: str) -> str | None:
    try:
        return _SITE_URL.validate_python(value)
    except ValidationError:
        return None


def read_bulk_export(stream: io.BufferedReader, *, site_url: str, today: dt.date) -> Iterator[BulkLine]:
    """Each data line of a bulk export as a row or an error; ``RejectedFile`` (before any line) if unusable."""
    for batch in read_bulk_batches(stream, site_url=site_url, today=today, row_lines=True):
        lines = [BulkLine(line, BulkRow(*row)) for line, row in zip(batch.row_lines, batch.rows, strict=True)]
        yield from sorted(lines + batch.errors, key=lambda parsed: parsed.line)


def read_bulk_batches(
    stream: io.BufferedReader,
    *,
    site_url: str,
    today: dt.date,
    batch_lines: int = BATCH_LINES,
    row_lines: bool = False,
) -> Iterator[BulkBatch]:
    """A bulk export's lines in batches of about ``batch_lines``; ``RejectedFile`` (before any batch) if unusable.

    The same rows and errors as ``read_bulk_export`` without an object per line: what the importer
    reads millions of lines with.
    """
    if stream.peek(4)[:4] in ZIP_MAGICS:
        raise RejectedFile(
            "The file is a zip: bulk exports are CSV or gzip CSV. For the Search Console UI's zip export,"
            " create the import with format ui_export."
        )
    source = csv_rows(stream, _BULK_HEADER_WORDS)
    columns, _ = read_header(source.header, "The file ")
    missing = [column for column in BULK_REQUIRED if column not in columns]
    if missing:
        hint = ""
        if columns and columns[0] in REPORT_OF_KEY_COLUMN:
            hint = " It looks like a Search Console UI export: create the import with format ui_export."
        raise RejectedFile(
            f"Wrong header: missing column(s) {', '.join(missing)}. A bulk export has the columns of"
            f" searchdata_url_impression: {', '.join(BULK_REQUIRED)} (is_anonymized_query optional).{hint}"
        )
    yield from _BulkLineReader(columns, site_url=site_url, today=today).batches(source, batch_lines, row_lines)


def _unreadable(line: int, exc: BaseException) -> BulkLine:
    error = f"the file is unreadable from here ({exc}); the rest was not read"
    return BulkLine(line, error=error, last=True)


class _BulkLineReader:
    """Reads bulk lines of one file: a class, not closures, because this runs for millions of lines.

    A line whose every value was seen before and found good is a row at once (``batches``: the
    caches below hold only values the full checks passed); any other goes to ``_read_checked``,
    which checks everything and gives every reason a line is rejected.
    """

    def __init__(self, columns: list[str], *, site_url: str, today: dt.date) -> None:
        self.width = len(columns)
        self.site_url, self.today = site_url, today
        self.numbers, self.dates = NumberReader(), DateReader()
        self.positions_settled = False  # whether observing sum_position can teach nothing more
        self.positions_dotted = False  # whether sum_position learned '.' as its decimal separator
        self.sites: dict[str, str | None] = {}  # a file names one or a few sites: normalise each once
        self.search_types: dict[str, SearchType | None] = {}
        # Values known good, by the cell as written.
        self.good_days: dict[str, str] = {}  # the ISO date
        self.good_sites: dict[str, bool] = {}
        self.good_countries: dict[str, str] = {}
        self.good_types: dict[str, str] = {}
        self.good_devices: dict[str, str] = {}
        self.good_flags: dict[str, int] = {}  # which queries agree: 1 empty (anonymized), 2 set (not), 3 any (NULL)
        self.good_counts: dict[str, int] = {}
        self.good_keys: dict[tuple[str, ...], tuple[str, str, str, str, int]] = {}  # see ``_known``
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
            self._observe_position(cells[self.i_sum_position])
            self.dates.observe(cells[self.i_date])

    def _observe_position(self, raw: str) -> None:
        self.numbers.observe("sum_position", raw)
        self.positions_settled = self.numbers.settled("sum_position")
        self.positions_dotted = self.numbers.learned("sum_position") == "."

    def batches(self, source: CsvRows, batch_lines: int, row_lines: bool) -> Iterator[BulkBatch]:
        csv_reader, watch, width, skipped = source.reader, source.watch, self.width, source.skipped
        consumed = csv_reader.line_num
        # Every line of the first LOOKAHEAD_LINES is observed before any is read (see NumberReader, DateReader).
        head: list[tuple[int, list[str]]] = []
        failure: BulkLine | None = None
        try:
            for cells in csv_reader:
                line = skipped + consumed + 1
                consumed = csv_reader.line_num
                if cells and "".join(cells).strip():
                    head.append((line, cells))
                    self.observe(cells)
                    if len(head) == LOOKAHEAD_LINES:
                        break
        except UNREADABLE as exc:
            failure = _unreadable(skipped + consumed + 1, exc)
        batch = BulkBatch()
        for line, cells in head:
            self._read_checked(line, cells, batch, row_lines)
            if batch.lines >= batch_lines:
                yield batch
                batch = BulkBatch()
        # From here on each line is observed as it comes, then read: straight to a row when all its
        # values are known good (everything below is local names: this runs for millions of lines).
        # The columns of few distinct values, as one key: a date, site, country, search type, device and
        # anonymized flag seen together before, all good, are one look-up (``_known``).
        key_of = itemgetter(
            self.i_date,
            self.i_site,
            self.i_country,
            self.i_search_type,
            self.i_device,
            self.i_date if self.i_anonymized is None else self.i_anonymized,
        )
        values = itemgetter(self.i_url, self.i_query, self.i_impressions, self.i_clicks, self.i_sum_position)
        known_keys, counts = self.good_keys.get, self.good_counts.get
        plain, learned = PLAIN_DECIMAL.match, self.numbers.learned
        while failure is None:
            before = consumed
            rows, lines_of = batch.rows, batch.row_lines
            settled, dotted = self.positions_settled, self.positions_dotted
            fast = len(rows)
            try:
                for cells in islice(csv_reader, batch_lines - batch.lines):
                    if len(cells) == width and not watch.dirty:
                        key = key_of(cells)
                        known = known_keys(key)
                        if known is None:
                            known = self._known(key)
                        url, query, shown, clicked, position = values(cells)
                        if not settled:
                            self._observe_position(position)
                            settled, dotted = self.positions_settled, self.positions_dotted
                        page = url.strip()
                        if query.isspace():
                            query = ""
                        impressions = counts(shown)
                        if impressions is None and shown.isdigit() and shown.isascii():  # past the cache's size
                            impressions = int(shown) if len(shown) < 10 else None  # (MAX_COUNT has 10 digits)
                        clicks = counts(clicked)
                        if clicks is None and clicked.isdigit() and clicked.isascii():
                            clicks = int(clicked) if len(clicked) < 10 else None
                        if (
                            known is not None
                            and page
                            and impressions
                            and clicks is not None
                            and clicks <= impressions
                            and (
                                # With '.' learned, digits with one '.' not last are read as float() reads them
                                # (".5" too); cheaper than a regex.
                                (position.isascii() and position[-1:] != "." and position.replace(".", "", 1).isdigit())
                                if dotted
                                else plain(position) and ("." not in position or learned("sum_position") is None)
                            )
                            and known[4] & (2 if query else 1)
                        ):
                            day, search_type, country, device, _ = known
                            rows.append(
                                (day, search_type, query, page, country, device, clicks, impressions, float(position))
                            )
                            if row_lines:
                                lines_of.append(skipped + consumed + 1)
                            consumed = csv_reader.line_num
                            continue
                    elif not cells:
                        consumed = csv_reader.line_num
                        continue
                    else:
                        self.observe(cells)
                    line = skipped + consumed + 1
                    consumed = csv_reader.line_num
                    fast -= len(rows)
                    self._read_checked(line, cells, batch, row_lines)
                    fast += len(rows)
                    settled, dotted = self.positions_settled, self.positions_dotted
            except UNREADABLE as exc:
                failure = _unreadable(skipped + consumed + 1, exc)
            batch.lines += len(rows) - fast  # the rows taken at once (the others counted their lines)
            if consumed == before:  # the end of the file
                break
            if batch.lines >= batch_lines:
                yield batch
                batch = BulkBatch()
        if failure is not None:
            batch.errors.append(failure)
        if batch.lines or batch.errors:
            yield batch

    def _known(self, key: tuple[str, ...]) -> tuple[str, str, str, str, int] | None:
        """A key's values if each is known good (and the key remembered), else None. A date not known is
        observed first, as the line it is on comes (a known one is no news to ``DateReader``)."""
        raw_date, raw_site, raw_country, raw_type, raw_device, raw_flag = key
        day = self.good_days.get(raw_date)
        if day is None:
            self.dates.observe(raw_date)
            return None
        known = (
            day,
            self.good_types.get(raw_type),
            self.good_countries.get(raw_country),
            self.good_devices.get(raw_device),
            3 if self.i_anonymized is None else self.good_flags.get(raw_flag),
        )
        if None in known or not self.good_sites.get(raw_site):
            return None
        self._remember(self.good_keys, key, known, _CACHED_KEYS)
        return known  # type: ignore[return-value]

    def _read_checked(self, line: int, cells: list[str], batch: BulkBatch, row_lines: bool) -> None:
        """Every check of a line, and every reason it is rejected; values found good are remembered."""
        if not "".join(cells).strip():
            return  # a blank line is no data line
        batch.lines += 1
        fields = line_fields(cells, self.width)
        if isinstance(fields, str):
            batch.errors.append(BulkLine(line, error=fields))
            return
        parsed = self._check(line, fields)
        if isinstance(parsed, BulkLine):
            batch.errors.append(parsed)
        else:
            batch.rows.append(parsed)
            if row_lines:
                batch.row_lines.append(line)

    @staticmethod
    def _remember(cache: dict[Any, Any], raw: Any, value: Any, limit: int = _CACHED_VALUES) -> None:
        if len(cache) < limit:
            cache[raw] = value

    def _check(self, line: int, fields: list[str]) -> RowValues | BulkLine:
        """The line's row, or its error (every reason)."""
        raw_site = fields[self.i_site]
        site = raw_site.strip()
        if site not in self.sites:
            self.sites[site] = _site(site)
        if self.sites[site] != self.site_url:
            return BulkLine(
                line, error=f"site_url {site!r} is not this import's property ({self.site_url})", other_site=site
            )
        self._remember(self.good_sites, raw_site, True)
        problems: list[str] = []
        day: dt.date | None = None
        raw_date = fields[self.i_date]
        try:
            day = self.dates.read(raw_date)
            if day > self.today:
                problems.append(f"data_date: {day} is in the future")
            elif self.dates.knows(raw_date):  # so observing it would teach DateReader nothing
                self._remember(self.good_days, raw_date, day.isoformat())
        except ValueProblem as problem:
            problems.append(f"data_date: {problem}")
        page = fields[self.i_url].strip()
        if not page:
            problems.append("url: is empty")
        query = fields[self.i_query]
        if not query.strip():
            query = ""
        if self.i_anonymized is not None:
            raw_flag = fields[self.i_anonymized]
            flag = raw_flag.strip().lower()
            if flag in _TRUE:
                self._remember(self.good_flags, raw_flag, 1)  # anonymized: the query must be empty
                if query:
                    problems.append("query: is set, but is_anonymized_query is true")
            elif flag not in _FALSE:
                problems.append(f"is_anonymized_query: {flag!r} is not true or false")
            else:
                self._remember(self.good_flags, raw_flag, 2 if flag else 3)  # false: set; NULL: either
                if flag and not query:  # empty (NULL) says nothing
                    problems.append("query: is empty, but is_anonymized_query is false")
        raw_country = fields[self.i_country].strip()
        country = raw_country.lower()
        if not _COUNTRY.match(country):
            problems.append(f"country: {raw_country!r} is not an ISO 3166-1 alpha-3 code")
        else:
            self._remember(self.good_countries, fields[self.i_country], country)
        raw_type = fields[self.i_search_type].strip()
        if raw_type not in self.search_types:
            self.search_types[raw_type] = _BULK_SEARCH_TYPES.get(raw_type.lower().replace("_", "").replace(" ", ""))
        search_type = self.search_types[raw_type]
        if search_type is None:
            problems.append(f"search_type: {raw_type!r} is not one of {', '.join(_BULK_SEARCH_TYPES)}")
        else:
            self._remember(self.good_types, fields[self.i_search_type], search_type)
        raw_device = fields[self.i_device].strip()
        device = raw_device.upper()
        if device not in _DEVICES:
            problems.append(f"device: {raw_device!r} is not one of {', '.join(_DEVICES)}")
        else:
            self._remember(self.good_devices, fields[self.i_device], device)
        impressions = clicks = None
        sum_position: float | None = None
        try:
            impressions = self._count("impressions", fields[self.i_impressions])
            if impressions == 0:
                problems.append("impressions: is 0; Search Console rows have at least one")
        except ValueProblem as problem:
            problems.append(f"impressions: {problem}")
        try:
            clicks = self._count("clicks", fields[self.i_clicks])
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
        return (day.isoformat(), search_type, query, page, country, device, clicks, impressions, sum_position)

    def _count(self, column: str, raw: str) -> int:
        value = self.numbers.count(column, raw)
        if raw.isascii() and raw.isdigit() and value <= MAX_COUNT:  # read the same whatever the file teaches
            self._remember(self.good_counts, raw, value)
        return value
