"""Reading the Search Console UI's Performance export into dated snapshots (parsing only: no database, no AWS).

"Export > Download CSV" gives a zip of Queries.csv, Pages.csv, Countries.csv,
Devices.csv, Search appearance.csv, Dates.csv and Filters.csv, or one of those
CSVs alone. Each report is its key column ("Top queries", "Top pages",
"Country", "Device", "Search Appearance", "Date") then Clicks, Impressions, CTR,
Position. A report is recognised by its header, not its file name (names get
prefixed); Filters.csv is "Filter,Value" rows. Headers, file names, Filters.csv's
labels and values are read in every UI language of ``languages.LANGUAGES`` (a
table per language, with its sources); a header in none of them is rejected
naming the header found, and a file named as one report that holds another is
rejected. Numbers are read as ``numbers`` says, the language's decimal separator
only breaking a tie nothing in the file settles. Only
Dates.csv carries dates: the other reports are aggregates over the export's
range, which comes from, in order: explicit dates in Filters.csv's Date row; the
import request's range; Dates.csv's span. Without one of these a file with
aggregate reports is rejected.

CTR must agree with clicks / impressions (within ``CTR_TOLERANCE``, since
exports round it), and the exact clicks / impressions is what is stored. A
Dates.csv day without impressions ("2024-03-02,0,0,,": no CTR, no position) is
no row, but still counts for the range Dates.csv spans.
"""

import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.errors import RejectedFile
from shared.jobs.models import JobErrors
from shared.search_console.exports import languages
from shared.search_console.exports.csv_text import (
    ZIP_MAGICS,
    Record,
    buffered,
    csv_records,
    decoded_text,
    has_non_text,
    line_fields,
    normalised,
    read_header,
    with_lookahead,
)
from shared.search_console.exports.dates import DateReader, date_range_in
from shared.search_console.exports.numbers import NumberReader
from shared.search_console.exports.problems import ValueProblem, count_problems
from shared.search_console.models import SEARCH_TYPES, SearchType

MAX_MEMBER_BYTES = 64 * 1024 * 1024  # one CSV of a UI export zip, uncompressed (real ones are under 1 MB)
CTR_TOLERANCE = 0.005  # half a percentage point: exports round CTR, misread numbers miss by far more
# Normalised key-column label -> report, in every language of languages.LANGUAGES.
REPORT_OF_KEY_COLUMN = {label: report for label, (report, _) in languages.KEY_COLUMNS.items()}
_REQUIRED_METRICS = ("clicks", "impressions", "position")
_METRIC_WORDS = tuple(languages.METRIC_COLUMNS)
_BULK_MARKERS = {"data_date", "site_url", "sum_position"}
_NUMBERED_COPY = re.compile(r"\s*\(\d+\)$")  # "Queries (1).csv", as browsers name a second download
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
    date_preset: str | None = None  # that value's preset ("last 3 months"), in English, when it is one
    languages: set[str] = field(default_factory=set)  # the codes of the UI languages its headers are in
    empty_days: list[dt.date] = field(default_factory=list)  # Dates.csv's days without impressions (no row)
    has_filters: bool = False
    files: int = 0
    lines: int = 0
    errors: JobErrors = field(default_factory=JobErrors)


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
    records = csv_records(decoded_text(stream), languages.HEADER_WORDS)
    columns, written = read_header(next(records, None), where)
    export.files += 1
    named = _report_of_file_name(name)
    filter_header = languages.FILTER_HEADERS.get((columns[0], columns[1])) if len(columns) == 2 else None
    if filter_header is not None:
        if named not in (None, "filters"):
            raise RejectedFile(_misnamed(name, named, "filters", written))
        export.languages |= filter_header
        _read_filters(records, name or "Filters.csv", export)
        return
    report, metric_index, found_in = _report_layout(columns, written, where)
    if named is not None and named != report:
        raise RejectedFile(_misnamed(name, named, report, written))
    if report in export.reports:
        raise RejectedFile(f"The zip holds two {REPORT_NAMES[report]} reports: {export.reports[report]} and {name}.")
    export.reports[report] = name or REPORT_NAMES[report]
    export.languages |= found_in
    prefix = f"{name}: " if name else ""
    numbers, dates = NumberReader(fallback_decimal=languages.decimal_of(found_in)), DateReader()

    def observe(cells: list[str]) -> None:
        if len(cells) >= len(columns):
            for metric in ("ctr", "position"):
                if metric in metric_index:
                    numbers.observe(metric, cells[metric_index[metric]])
            if report == "dates":
                dates.observe(cells[0])

    seen: dict[str, int] = {}
    labels = {metric: written[index] for metric, index in metric_index.items()}
    for record in with_lookahead(records, observe):
        if record.cells is None:
            export.errors.add(record.line, f"{prefix}{record.error}")
            break
        export.lines += 1
        row = _report_row(record.cells, len(columns), report, written[0], metric_index, labels, numbers, dates)
        if isinstance(row, dt.date):
            export.empty_days.append(row)
        elif isinstance(row, str):
            export.errors.add(record.line, f"{prefix}{row}")
        elif row.key in seen:
            export.errors.add(record.line, f"{prefix}repeats {written[0]} {row.key!r} of line {seen[row.key]}")
        else:
            seen[row.key] = record.line
            export.rows.append(row)


def _report_of_file_name(name: str | None) -> str | None:
    """The report (or "filters") a zip member's name gives in any UI language, if it names one."""
    if name is None:
        return None
    stem = _NUMBERED_COPY.sub("", Path(name).stem)
    found = languages.FILE_NAMES.get(normalised(stem))
    return found[0] if found else None


def _misnamed(name: str | None, named: str, holds: str, written: list[str]) -> str:
    what = {**REPORT_NAMES, "filters": "Filters"}
    return (
        f"{name} is named as the {what[named]} file, but its header {','.join(written)!r} is that of"
        f" {what[holds]}: the zip's files were renamed or mixed up."
    )


def _report_layout(columns: list[str], written: list[str], where: str) -> tuple[str, dict[str, int], frozenset[str]]:
    """The report, each metric's column and the languages the header is in; ``RejectedFile`` if unknown."""
    if _BULK_MARKERS & set(columns):
        raise RejectedFile(
            f"{where}is a bulk export (data_date, site_url, ...), not the Search Console UI's:"
            " create the import with format bulk_export."
        )
    key = languages.KEY_COLUMNS.get(columns[0]) if columns else None
    if key is None:
        raise RejectedFile(
            f"{where}is not a Search Console performance report in a UI language Kestrel reads: its header is"
            f" {','.join(written)!r}, and {written[0] if written else ''!r} is no report's first column in"
            f" {languages.NAMES}. Expected for example 'Top queries,Clicks,Impressions,CTR,Position'"
            " or 'Häufigste Suchanfragen,Klicks,Impressionen,CTR,Position'."
        )
    report, found_in = key
    metric_index: dict[str, int] = {}
    unknown: list[str] = []
    for index, column in enumerate(columns[1:], start=1):
        metric = languages.METRIC_COLUMNS.get(column)
        if metric is None or metric[0] in metric_index:
            unknown.append(column)
        else:
            metric_index[metric[0]] = index
            found_in = found_in & metric[1] or found_in | metric[1]
    if any(_names_a_metric(column) for column in unknown):
        raise RejectedFile(f"{where}is a comparison export ({', '.join(unknown)}): export a single date range instead.")
    missing = [metric for metric in _REQUIRED_METRICS if metric not in metric_index]
    if missing or unknown:
        problems = [f"missing column(s) {', '.join(missing)}"] if missing else []
        if unknown:
            problems.append(f"unknown column(s) {', '.join(unknown)}")
        raise RejectedFile(f"{where}has a wrong header: {'; '.join(problems)} (its header is {','.join(written)!r}).")
    return report, metric_index, found_in


def _names_a_metric(column: str) -> bool:
    """A metric and its period ("last 28 days clicks", "kliknięcia (ostatnie 28 dni)")."""
    return any(column.endswith(f" {word}") or column.startswith(f"{word} ") for word in _METRIC_WORDS)


def _report_row(
    cells: list[str],
    width: int,
    report: str,
    key_label: str,
    metric_index: Mapping[str, int],
    labels: Mapping[str, str],
    numbers: NumberReader,
    dates: DateReader,
) -> ReportRow | dt.date | str:
    """One report line as a row, the day of a Dates line without impressions, or the reason it is rejected."""
    fields = line_fields(cells, width)
    if isinstance(fields, str):
        return fields
    if report == "dates" and _without_impressions(fields, metric_index):
        try:
            return dates.read(fields[0])
        except ValueProblem as problem:
            return f"{key_label}: {problem}"
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
        problems += count_problems(clicks, impressions, labels["clicks"], labels["impressions"])
        if ctr is not None and not problems and abs(ctr - _ctr(clicks, impressions)) > CTR_TOLERANCE:
            problems.append(
                f"{labels['ctr']}: {ctr:.2%} does not match {labels['clicks']} / {labels['impressions']}"
                f" ({_ctr(clicks, impressions):.2%}): a number was probably misread"
            )
    if problems or key is None or clicks is None or impressions is None or position is None:
        return "; ".join(problems)
    return ReportRow(report, key, clicks, impressions, _ctr(clicks, impressions), position)


def _without_impressions(fields: list[str], metric_index: Mapping[str, int]) -> bool:
    """A day Search Console shows with no impressions: "0,0" and empty CTR and position ("2024-03-02,0,0,,")."""
    empty = [fields[metric_index[metric]].strip() for metric in ("ctr", "position") if metric in metric_index]
    counts = [fields[metric_index[metric]].strip() for metric in ("clicks", "impressions")]
    return counts == ["0", "0"] and not any(empty)


def _ctr(clicks: int, impressions: int) -> float:
    return clicks / impressions if impressions else 0.0


def _read_value[T](column: str, read: Callable[[], T], problems: list[str]) -> T | None:
    try:
        return read()
    except ValueProblem as problem:
        problems.append(f"{column}: {problem}")
        return None


def _read_filters(records: Iterator[Record], name: str, export: UiExport) -> None:
    """Filters.csv in any UI language: its search type, its date range, and no filter on a dimension."""
    export.has_filters = True
    for record in records:
        if record.cells is None:
            raise RejectedFile(f"{name} is not readable: {record.error}.")
        if has_non_text(record.cells):
            raise RejectedFile(f"{name} line {record.line} is not text: save the file as CSV UTF-8.")
        label = record.cells[0].strip()
        value = record.cells[1].strip() if len(record.cells) > 1 else ""
        known = languages.FILTER_LABELS.get(normalised(label))
        if known is None:
            raise RejectedFile(
                f"{name} has a filter Kestrel does not know, {label!r} (value {value!r}, line {record.line}):"
                " the export may be filtered, so its totals may not be the property's. Export again without"
                " that filter, or import the reports without Filters.csv."
            )
        kind = known[0]
        if kind == "search type":
            search_type = languages.SEARCH_TYPE_VALUES.get(normalised(value))
            if search_type is None:
                raise RejectedFile(f"{name} names an unknown search type {value!r} (line {record.line}).")
            export.search_type = _search_type(search_type[0])
        elif kind == "date":
            lowered = value.lower()
            if any(word in lowered for word in languages.COMPARISON_WORDS):
                raise RejectedFile(f"{name}: the export compares two date ranges ({value}); export a single range.")
            export.date_filter = value
            preset = languages.DATE_PRESET_VALUES.get(normalised(value))
            if preset is not None:
                export.date_preset = preset[0]
            else:
                export.date_range = date_range_in(value)
        elif kind in languages.DIMENSION_FILTERS:
            raise RejectedFile(
                f"The export is filtered ({label}: {value}): its totals are not the property's."
                " Export again without that filter."
            )


def _search_type(value: str) -> SearchType:
    for search_type in SEARCH_TYPES:
        if search_type == value:
            return search_type
    raise ValueError(f"{value!r} is no search type")  # the language tables name SearchType values only


def ui_snapshots(
    export: UiExport,
    *,
    range_start: dt.date | None,
    range_end: dt.date | None,
    search_type: SearchType | None,
) -> list[Snapshot]:
    """The export's rows as dated snapshots; ``RejectedFile`` when aggregates have no known date range."""
    chosen_type: SearchType = export.search_type or search_type or "web"
    days = sorted([dt.date.fromisoformat(row.key) for row in export.rows if row.report == "dates"] + export.empty_days)
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
    if export.date_preset and normalised(export.date_filter or "") != export.date_preset:
        said = f"Filters.csv gives the range as {export.date_filter!r} ({export.date_preset}), which names no dates"
    elif export.date_filter:
        said = f"Filters.csv gives the range as {export.date_filter!r}, which names no unambiguous dates"
    elif export.has_filters:
        said = "Filters.csv gives no date range"
    else:
        said = "there is no Filters.csv"
    return (
        f"The export's date range is unknown: {reports} are totals over a range, {said}, and there is no"
        " Dates.csv to take it from. Create the import with range_start and range_end."
    )


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
