"""Reading a keyword CSV line by line: header checks, per-line validation with reasons.

Pure functions over text, so the worker can stream a 100 MB file from S3 and
tests can feed strings.
"""

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pydantic import ValidationError

from shared.errors import RejectedFile
from shared.projects.models import KeywordIn

REQUIRED_COLUMNS = ("keyword",)
OPTIONAL_COLUMNS = ("locale", "country", "device", "tags", "target_url")
_COLUMN_TO_FIELD = {"keyword": "text"}
_TAG_SEPARATORS = re.compile(r"[;|]")


@dataclass(frozen=True)
class ParsedLine:
    line: int
    keyword: KeywordIn | None
    error: str | None = None


def _header(row: list[str]) -> list[str]:
    columns = [" ".join(cell.strip().lower().replace("-", "_").split()).replace(" ", "_") for cell in row]
    missing = [col for col in REQUIRED_COLUMNS if col not in columns]
    unknown = [col for col in columns if col not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    repeated = sorted({col for col in columns if columns.count(col) > 1})
    expected = ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
    if missing or unknown or repeated:
        problems = []
        if missing:
            problems.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column(s) {', '.join(unknown)}")
        if repeated:
            problems.append(f"repeated column(s) {', '.join(repeated)}")
        raise RejectedFile(f"Wrong header: {'; '.join(problems)}. Expected columns: {expected} (keyword required).")
    return columns


def _reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "line"
        column = {"text": "keyword"}.get(field, field)
        parts.append(f"{column}: {err['msg']}")
    return "; ".join(parts)


def parse_keyword_csv(lines: Iterable[str]) -> Iterator[ParsedLine]:
    """Yield each data line as a keyword or an error with its reason.

    Raises ``RejectedFile`` when the file is not a keyword CSV at all; this is
    checked on the header before any line is yielded. Blank lines are skipped.
    """
    reader = csv.reader(lines)
    try:
        header_row = next(reader, None)
        while header_row is not None and not any(cell.strip() for cell in header_row):
            header_row = next(reader, None)
        if header_row is None:
            raise RejectedFile("The file is empty: expected a header line and keyword lines.")
        columns = _header(header_row)
        previous_end = reader.line_num
        for row in reader:
            line = previous_end + 1
            previous_end = reader.line_num
            if any("\x00" in cell for cell in row):
                raise RejectedFile(
                    f"The file is not readable CSV (line {line}): it contains NUL bytes, as binary files do."
                )
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                yield ParsedLine(line, None, f"expected {len(columns)} fields, found {len(row)}")
                continue
            values = {_COLUMN_TO_FIELD.get(col, col): cell.strip() for col, cell in zip(columns, row, strict=True)}
            fields: dict[str, object] = {key: value for key, value in values.items() if value != ""}
            if "tags" in fields:
                fields["tags"] = [tag for tag in _TAG_SEPARATORS.split(str(fields["tags"])) if tag.strip()]
            try:
                yield ParsedLine(line, KeywordIn.model_validate(fields))
            except ValidationError as exc:
                yield ParsedLine(line, None, _reason(exc))
    except csv.Error as exc:
        raise RejectedFile(f"The file is not readable CSV (line {reader.line_num}): {exc}.") from exc
    except UnicodeDecodeError as exc:
        raise RejectedFile(
            f"The file is not UTF-8 text (near line {reader.line_num + 1}); export it as CSV UTF-8."
        ) from exc
