"""Export files as CSV records: byte streams, gzip and zip detection, encodings, delimiters, headers and lookahead.

Encodings: UTF-8 with or without BOM; UTF-16 (Excel's "Unicode text") by BOM or
NUL pattern; gzip is recognised by its magic bytes, not by the name. Delimiter
``,`` ``;`` or tab, sniffed from the header line. Quoted fields, blank lines,
extra empty trailing fields (Excel) are fine; a line with another number of
fields, or bytes that are not text, is rejected. Readers see the first
``LOOKAHEAD_LINES`` records before any is read, to learn what later lines show.
Readers of millions of lines (bulk exports) take the header and the csv reader
itself (``csv_rows``), with a ``TextWatch`` on the bytes telling them whether any
line can hold non-text at all.
"""

import codecs
import csv
import gzip
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any

from shared.errors import RejectedFile

LOOKAHEAD_LINES = 5_000
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_BLOCK = 1 << 16


class _RawStream(io.RawIOBase):
    """A readable raw stream over anything with ``read(n)`` (an S3 body, a zip member)."""

    def __init__(self, source: Any) -> None:
        self._source = source
        self.bytes_read = 0  # of the source (compressed bytes, for a gzip file): how far a reader got

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._source.read(len(buffer))
        buffer[: len(chunk)] = chunk
        self.bytes_read += len(chunk)
        return len(chunk)


def buffered(stream: Any) -> io.BufferedReader:
    """A peekable buffered reader over a binary stream (returned as is when it already is one)."""
    if isinstance(stream, io.BufferedReader):
        return stream
    return io.BufferedReader(_RawStream(stream), _BLOCK)


def bytes_read(stream: io.BufferedReader) -> int | None:
    """How many bytes of its source a stream made by ``buffered`` has read (None for another stream)."""
    raw = stream.raw
    return raw.bytes_read if isinstance(raw, _RawStream) else None


def is_gzip(stream: io.BufferedReader) -> bool:
    return stream.peek(2)[:2] == GZIP_MAGIC


def decoded_text(stream: io.BufferedReader, watch: "TextWatch | None" = None) -> io.TextIOWrapper:
    """Decompress gzip (by magic bytes), then decode UTF-8 (BOM or not) or UTF-16 (by BOM or NUL pattern).

    Undecodable UTF-8 bytes are kept as surrogate escapes so that only their lines are rejected.
    With ``watch``, the bytes pass through it on their way to the decoder.
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
    if watch is not None:
        stream = io.BufferedReader(watch.attach(stream, encoding), _BLOCK)
    return io.TextIOWrapper(stream, encoding=encoding, errors="surrogateescape", newline="")


@dataclass(frozen=True)
class Record:
    """A non-blank CSV record and the number of the line it starts on."""

    line: int
    cells: list[str] | None  # None: the file is unreadable from this line on (``error`` says why)
    error: str | None = None


UNREADABLE = (csv.Error, UnicodeError, EOFError, OSError, zlib.error, zipfile.BadZipFile)
_NOT_TEXT = re.compile("[\x00\udc80-\udcff]")


def has_non_text(cells: list[str]) -> bool:
    """Whether cells hold NUL bytes or bytes that did not decode (kept as surrogate escapes)."""
    return _NOT_TEXT.search("".join(cells)) is not None


def normalised(cell: str) -> str:
    """A header word or filter label as compared: lower case, single spaces."""
    return " ".join(cell.strip().lower().split())


def _sniff_delimiter(line: str, known: frozenset[str]) -> str:
    best, best_score = ",", 0
    for delimiter in (",", ";", "\t"):
        cells = next(csv.reader([line], delimiter=delimiter), [])
        score = sum(normalised(cell) in known for cell in cells)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _first_line(text: io.TextIOWrapper) -> tuple[str, int]:
    """The first non-blank line ("" at the end of the file) and how many blank lines came before it."""
    skipped = 0
    try:
        first = text.readline()
        while first and not first.strip():
            skipped += 1
            first = text.readline()
    except UNREADABLE as exc:
        raise RejectedFile(f"The file is not readable text: {exc}.") from exc
    return first, skipped


def csv_records(text: io.TextIOWrapper, known: frozenset[str]) -> Iterator[Record]:
    """Each non-blank CSV record with its first line's number, the header first.

    Where the file turns unreadable (bad CSV quoting, truncated gzip, undecodable UTF-16)
    one record without cells says so, and nothing after it is read.
    """
    first, skipped = _first_line(text)
    if not first:
        return
    reader = csv.reader(chain([first], text), delimiter=_sniff_delimiter(first, known))
    consumed = 0
    try:
        for row in reader:
            line = skipped + consumed + 1
            consumed = reader.line_num
            if "".join(row).strip():
                yield Record(line, row)
    except UNREADABLE as exc:
        yield Record(skipped + consumed + 1, None, f"the file is unreadable from here ({exc}); the rest was not read")


class TextWatch(io.RawIOBase):
    """Bytes on their way to the decoder, watched for what would decode to non-text (NUL, bytes not UTF-8).

    ``dirty`` turns true, and stays so, once the bytes read so far hold a NUL or are not
    valid UTF-8 (or the text is UTF-16, whose NULs and surrogates only decoding shows), so
    a reader of millions of lines checks each row (``has_non_text``) only from then on: a
    clean UTF-8 file costs one ``isascii`` per block instead of a search per row.
    """

    def __init__(self) -> None:
        self._source: io.BufferedReader | None = None
        self._utf8 = codecs.getincrementaldecoder("utf-8")("strict")
        self.dirty = False

    def attach(self, source: io.BufferedReader, encoding: str) -> "TextWatch":
        """Watch ``source``, a stream of text in ``encoding``."""
        self._source = source
        self.dirty = not encoding.startswith("utf-8")
        return self

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._source is None:
            raise ValueError("TextWatch: attach a source first")
        chunk = self._source.read1(len(buffer))
        if not self.dirty and chunk:
            if b"\x00" in chunk:
                self.dirty = True
            elif not chunk.isascii():
                try:
                    self._utf8.decode(chunk)
                except UnicodeDecodeError:
                    self.dirty = True
        buffer[: len(chunk)] = chunk
        return len(chunk)


@dataclass
class CsvRows:
    """A CSV file opened for a fast reader: its header record, then ``reader``'s rows.

    ``watch.dirty`` says whether rows must be checked for non-text (``has_non_text``).
    """

    header: Record | None
    reader: Any  # a csv.reader (its type is private to the csv module)
    watch: TextWatch
    skipped: int  # blank lines before the header

    def line_of(self, consumed: int) -> int:
        """The number of the line a row starts on, given ``reader.line_num`` before it was read."""
        return self.skipped + consumed + 1


def csv_rows(stream: io.BufferedReader, known: frozenset[str]) -> CsvRows:
    """The header record of a CSV file (as ``csv_records`` finds it) and a reader of its other rows.

    For files of millions of lines: the caller reads ``reader`` itself, skipping blank rows and catching
    ``UNREADABLE`` as ``csv_records`` does (one record without cells where the file turns unreadable).
    """
    watch = TextWatch()
    text = decoded_text(stream, watch)
    first, skipped = _first_line(text)
    reader = csv.reader(chain([first], text), delimiter=_sniff_delimiter(first, known))
    rows = CsvRows(None, reader, watch, skipped)
    if not first:
        return rows
    consumed = 0
    try:
        for row in reader:
            line = rows.line_of(consumed)
            consumed = reader.line_num
            if "".join(row).strip():
                rows.header = Record(line, row)
                break
    except UNREADABLE as exc:
        error = f"the file is unreadable from here ({exc}); the rest was not read"
        rows.header = Record(rows.line_of(consumed), None, error)
    return rows


def line_fields(cells: list[str], width: int) -> list[str] | str:
    """The row's cells (Excel's extra empty trailing cells dropped), or why the line is unusable."""
    if has_non_text(cells):
        return "the line is not text (not UTF-8, or NUL bytes): save the file as CSV UTF-8"
    if len(cells) > width and not any(cell.strip() for cell in cells[width:]):
        cells = cells[:width]
    if len(cells) != width:
        return f"expected {width} fields, found {len(cells)}"
    return cells


def read_header(record: Record | None, where: str) -> tuple[list[str], list[str]]:
    """The header's columns, normalised (lower case, single spaces), and as written (for reasons)."""
    if record is None:
        raise RejectedFile(f"{where}is empty.")
    if record.cells is None:
        raise RejectedFile(f"{where}is not readable CSV: {record.error}.")
    if has_non_text(record.cells):
        raise RejectedFile(f"{where}is not CSV text: it has NUL bytes or bytes that are not UTF-8 or UTF-16 text.")
    columns = [normalised(cell) for cell in record.cells]
    while columns and not columns[-1]:
        columns.pop()
    repeated = sorted({column for column in columns if columns.count(column) > 1})
    if repeated:
        raise RejectedFile(f"{where}has repeated column(s) {', '.join(repeated)}.")
    return columns, [cell.strip() for cell in record.cells[: len(columns)]]


def with_lookahead(records: Iterator[Record], observe: Callable[[list[str]], None]) -> Iterator[Record]:
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
