"""Search Console export files read straight from bytes: numbers, dates, UI CSVs and zips, bulk exports.

The imports of these files through file_import, end to end, are tests/integration/test_gsc_exports.py.
"""

import datetime as dt
import gzip
import io

import pytest

from shared.errors import RejectedFile
from shared.search_console.exports.aggregation import RowAggregator
from shared.search_console.exports.bulk import BulkLine, read_bulk_batches, read_bulk_export
from shared.search_console.exports.csv_text import buffered
from shared.search_console.exports.dates import DateReader, date_range_in
from shared.search_console.exports.numbers import NumberReader
from shared.search_console.exports.problems import ValueProblem
from shared.search_console.exports.ui import read_ui_export, ui_snapshots
from tests.support.gsc_exports import (
    BULK_CSV,
    BULK_ERRORS,
    BULK_HEADER,
    BULK_LINES,
    BULK_ROWS,
    DATES,
    FILTERS_CUSTOM,
    FILTERS_RELATIVE,
    QUERIES,
    SITE,
    TODAY,
    by_key,
    errors_by_line,
    full_zip,
    ui_zip,
)


# ---------------------------------------------------------------- numbers and dates
@pytest.mark.parametrize(
    ("kind", "raw", "learned_from", "expected"),
    [
        ("count", "1234", None, 1234),
        ("count", "1,234", None, 1234),
        ("count", "1.234", None, 1234),
        ("count", "1 234", None, 1234),
        ("count", "1\u00a0234", None, 1234),
        ("count", "1\u202f234\u202f567", None, 1234567),
        ("count", "1'234", None, 1234),
        ("count", "1,234,567", None, 1234567),
        ("count", "12.0", None, 12),
        ("count", "1,234", "2,5", "is not a whole number"),  # the file's decimal separator is the comma
        ("count", "12.5", None, "is not a whole number"),
        ("count", "12,34,5", None, "misplaced thousands separators"),
        ("count", "-3", None, "is negative"),
        ("count", "n/a", None, "is not a number"),
        ("count", "", None, "is empty"),
        ("decimal", "3.4", None, 3.4),
        ("decimal", "3,4", None, 3.4),
        ("decimal", "0,125", None, 0.125),
        ("decimal", "1.234,5", None, 1234.5),
        ("decimal", "1,234.5", None, 1234.5),
        ("decimal", "1 234,567", None, 1234.567),
        ("decimal", "1.5E3", None, 1500.0),
        ("decimal", "1,234", None, "is ambiguous"),
        ("decimal", "1,234", "2,5", 1.234),
        ("decimal", "1,234", "2.5", 1234.0),
        ("decimal", "3.45", "2,5", "has '.' as decimal separator, but the other values of this column have ','"),
        ("ratio", "12.5%", None, 0.125),
        ("ratio", "12,5 %", None, 0.125),
        ("ratio", "12,5\u00a0%", None, 0.125),
        ("ratio", "0.125", None, 0.125),
        ("ratio", "12.5", None, "is above 1"),
        ("ratio", "120%", None, "is above 100%"),
    ],
)
def test_numbers_are_read_or_rejected_with_a_reason(kind, raw, learned_from, expected):
    numbers = NumberReader()
    if learned_from is not None:
        numbers.observe("column", learned_from)
    read = {"count": numbers.count, "decimal": numbers.decimal, "ratio": numbers.ratio}[kind]
    if isinstance(expected, str):
        with pytest.raises(ValueProblem, match=expected.replace("(", r"\(").replace(")", r"\)")):
            read("column", raw)
    else:
        assert read("column", raw) == pytest.approx(expected)


def test_a_column_learns_its_separator_from_another_columns_file_wide_evidence_only_as_a_fallback():
    numbers = NumberReader()
    numbers.observe("ctr", "12,5 %")  # teaches the file the decimal comma
    numbers.observe("position", "3.4")  # but this column has its own, unambiguous, '.'
    assert numbers.decimal("position", "1,234") == pytest.approx(1234)
    assert numbers.decimal("other", "1,234") == pytest.approx(1.234)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Last 3 months", None),
        ("Last 28 days", None),
        ("2024-01-01 - 2024-03-31", (dt.date(2024, 1, 1), dt.date(2024, 3, 31))),
        ("Custom: Jan 1, 2024 - Mar 31, 2024", (dt.date(2024, 1, 1), dt.date(2024, 3, 31))),
        ("Jan 1 \u2013 Mar 31, 2024", (dt.date(2024, 1, 1), dt.date(2024, 3, 31))),
        ("1 January 2024 - 31 March 2024", (dt.date(2024, 1, 1), dt.date(2024, 3, 31))),
        ("Sept 3, 2024 - October 2, 2024", (dt.date(2024, 9, 3), dt.date(2024, 10, 2))),
        ("13/01/2024 - 31/03/2024", (dt.date(2024, 1, 13), dt.date(2024, 3, 31))),
        ("01/02/2024 - 03/02/2024", None),  # day or month first? not guessed
        ("2024-03-05", (dt.date(2024, 3, 5), dt.date(2024, 3, 5))),
        ("2024-03-31 - 2024-01-01", None),
    ],
)
def test_date_ranges_named_in_filters(text, expected):
    assert date_range_in(text) == expected


def test_numeric_dates_learn_their_order_from_an_unambiguous_one():
    dates = DateReader()
    with pytest.raises(ValueProblem, match="ambiguous"):
        dates.read("3/5/2024")
    dates.observe("13/5/2024")
    assert dates.read("3/5/2024") == dt.date(2024, 5, 3)
    assert dates.read("05.03.2024") == dt.date(2024, 3, 5)
    assert dates.read("2024-03-05 00:00:00") == dt.date(2024, 3, 5)
    with pytest.raises(ValueProblem, match="not a date"):
        dates.read("2024-02-30")


# ---------------------------------------------------------------- UI export parsing
def test_messy_ui_csv_lines_are_read_or_rejected_with_line_numbers():
    content = (
        "\ufeffTop queries,Clicks,Impressions,CTR,Position\r\n"
        'acme,812,"4,210",19.29%,1.4\r\n'  # 2: thousands separator in a quoted field
        "\r\n"  # 3: blank
        '"trail shoes, waterproof",41,2980,0.0138,6.2\r\n'  # 4: quoted key with a comma; CTR as a fraction
        "running shoes,97,15320\r\n"  # 5: too few fields
        "hiking boots,-3,100,1%,4.0\r\n"  # 6: negative
        "socks,50,40,100%,2.0\r\n"  # 7: more clicks than impressions
        "acme,1,10,10%,1.0\r\n"  # 8: the same query again
        "sandals,5,500,12.5%,3.1\r\n"  # 9: CTR disagrees with clicks / impressions
        "boots,12,1000,1.2%,n/a\r\n"  # 10: position not a number
    ).encode() + b"caf\xe9,1,10,10%,1.0\r\n"  # 11: not UTF-8
    export = read_ui_export(content)
    assert [(row.key, row.clicks, row.impressions, row.position) for row in export.rows] == [
        ("acme", 812, 4210, 1.4),
        ("trail shoes, waterproof", 41, 2980, 6.2),
    ]
    assert export.rows[0].ctr == pytest.approx(812 / 4210)  # the exact ratio, not the export's rounded 19.29%
    assert export.lines == 9
    errors = errors_by_line(export.errors)
    assert set(errors) == {5, 6, 7, 8, 9, 10, 11}
    assert errors[5] == "expected 5 fields, found 3"
    assert errors[6] == "Clicks: '-3' is negative"
    assert errors[7] == "Clicks (50) exceed Impressions (40)"
    assert errors[8] == "repeats Top queries 'acme' of line 2"
    assert errors[9].startswith("CTR: 12.50% does not match Clicks / Impressions (1.00%)")
    assert errors[10] == "Position: 'n/a' is not a number"
    assert errors[11].startswith("the line is not text")


def test_excel_european_export_semicolons_and_decimal_commas():
    content = (
        b"Top pages;Clicks;Impressions;CTR;Position\n"
        b"https://www.acme.com/;1.234;10.000;12,34 %;3,4\n"  # the CTR and position show the comma is decimal
        b"https://www.acme.com/running/;905;8.120;11,15 %;2,3\n"
    )
    rows = read_ui_export(content).rows
    assert [(row.key, row.clicks, row.impressions, row.position) for row in rows] == [
        ("https://www.acme.com/", 1234, 10000, 3.4),
        ("https://www.acme.com/running/", 905, 8120, 2.3),
    ]


def test_excel_unicode_text_utf16_tab_separated():
    content = "Device\tClicks\tImpressions\tCTR\tPosition\r\nDesktop\t1\u00a0520\t9\u00a0800\t15,51 %\t3,9\r\n"
    export = read_ui_export(content.encode("utf-16"))
    assert [(row.report, row.key, row.clicks, row.impressions, row.position) for row in export.rows] == [
        ("devices", "Desktop", 1520, 9800, 3.9)
    ]


def test_missing_ctr_column_is_computed_and_columns_may_come_in_any_order():
    export = read_ui_export(b"Country,Position,Impressions,Clicks\nGermany,6.3,5400,150\n")
    (row,) = export.rows
    assert (row.report, row.key, row.clicks, row.impressions, row.position) == ("countries", "Germany", 150, 5400, 6.3)
    assert row.ctr == pytest.approx(150 / 5400)


def test_an_ambiguous_position_is_rejected_unless_a_later_line_settles_it():
    alone = read_ui_export(b'Top pages,Clicks,Impressions,Position\nhttps://www.acme.com/,1,10,"1,234"\n')
    assert alone.rows == []
    assert errors_by_line(alone.errors)[2].startswith("Position: '1,234' is ambiguous")
    settled = read_ui_export(
        b'Top pages,Clicks,Impressions,Position\nhttps://www.acme.com/,1,10,"1,234"\nhttps://www.acme.com/a/,1,10,"2,5"\n'
    )
    assert [row.position for row in settled.rows] == [pytest.approx(1.234), pytest.approx(2.5)]


def test_zip_members_are_recognised_by_header_and_errors_name_the_file():
    files = {"Consultas.csv": QUERIES + "broken,1\n", "Fechas.csv": DATES, "__MACOSX/._Fechas.csv": "junk"}
    export = read_ui_export(ui_zip(files, folder="acme-es/"))
    assert sorted(export.reports) == ["dates", "queries"]
    assert export.files == 2
    assert errors_by_line(export.errors) == {5: "Consultas.csv: expected 5 fields, found 2"}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "The file is empty."),
        (b"\n\n", "The file is empty."),
        (b"Keyword,Volume\nshoes,10\n", "is not a Search Console performance report"),
        (b"Top queries,Clicks,Impressions,CTR\nacme,1,2,50%\n", "wrong header: missing column(s) position"),
        (b"Top queries,Clicks,Impressions,Position,Rank\nacme,1,2,3,4\n", "unknown column(s) rank"),
        (
            b"Top queries,Last 28 days Clicks,Previous 28 days Clicks,Impressions,Position\nacme,1,2,3,4\n",
            "is a comparison export",
        ),
        (BULK_CSV.encode(), "create the import with format bulk_export"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "is not CSV text"),
        (b"PK\x03\x04garbage", "not a readable zip"),
        (ui_zip({"readme.txt": "hello"}), "The zip holds no CSV files"),
        (ui_zip({"Queries.csv": QUERIES, "Queries (1).csv": QUERIES}), "two Queries reports"),
        (
            ui_zip({"Queries.csv": QUERIES, "Filters.csv": "Filter,Value\nQuery,+shoes\nDate,Last 3 months\n"}),
            "The export is filtered (Query: +shoes)",
        ),
        (
            ui_zip({"Queries.csv": QUERIES, "Filters.csv": "Filter,Value\nDate,Compare last 28 days to previous\n"}),
            "compares two date ranges",
        ),
        (
            ui_zip({"Queries.csv": QUERIES, "Filters.csv": "Filter,Value\nSearch type,Shopping\n"}),
            "unknown search type",
        ),
    ],
    ids=[
        "empty",
        "blank",
        "not-gsc",
        "no-position",
        "unknown-column",
        "comparison",
        "bulk-as-ui",
        "png",
        "bad-zip",
        "zip-without-csv",
        "two-queries",
        "filtered",
        "compare-filter",
        "unknown-search-type",
    ],
)
def test_unusable_ui_files_are_rejected_with_a_reason(content, reason):
    with pytest.raises(RejectedFile) as rejected:
        read_ui_export(content)
    assert reason in rejected.value.reason


def test_snapshot_ranges_come_from_filters_then_the_request_then_dates_csv():
    custom = read_ui_export(full_zip(FILTERS_CUSTOM))
    snapshots = ui_snapshots(custom, range_start=dt.date(2020, 1, 1), range_end=dt.date(2020, 1, 31), search_type=None)
    queries = [s for s in snapshots if s.report == "queries"]
    assert {(s.range_start, s.range_end, s.search_type) for s in queries} == {
        (dt.date(2024, 3, 1), dt.date(2024, 3, 31), "image")
    }
    relative = read_ui_export(full_zip(FILTERS_RELATIVE))
    from_request = ui_snapshots(
        relative, range_start=dt.date(2024, 1, 2), range_end=dt.date(2024, 4, 1), search_type="news"
    )
    assert {(s.range_start, s.range_end, s.search_type) for s in from_request if s.report == "pages"} == {
        (dt.date(2024, 1, 2), dt.date(2024, 4, 1), "web")  # Filters.csv's search type wins over the request's
    }
    from_dates = ui_snapshots(relative, range_start=None, range_end=None, search_type=None)
    assert {(s.range_start, s.range_end) for s in from_dates if s.report == "devices"} == {
        (dt.date(2024, 3, 2), dt.date(2024, 3, 31))
    }
    assert {(s.key, s.range_start, s.range_end) for s in from_dates if s.report == "dates"} == {
        ("2024-03-31", dt.date(2024, 3, 31), dt.date(2024, 3, 31)),
        ("2024-03-30", dt.date(2024, 3, 30), dt.date(2024, 3, 30)),
        ("2024-03-02", dt.date(2024, 3, 2), dt.date(2024, 3, 2)),
    }
    with pytest.raises(RejectedFile, match=r"Dates.csv covers 2024-03-02 to 2024-03-31, outside the range"):
        ui_snapshots(relative, range_start=dt.date(2024, 3, 10), range_end=dt.date(2024, 4, 1), search_type=None)


# ---------------------------------------------------------------- bulk export parsing
def parse_bulk(content: bytes, site_url: str = SITE) -> list[BulkLine]:
    return list(read_bulk_export(buffered(io.BytesIO(content)), site_url=site_url, today=TODAY))


def test_bulk_lines_are_read_or_rejected_with_line_numbers():
    lines = parse_bulk(BULK_CSV.encode())
    errors = {line.line: line.error for line in lines if line.error}
    assert set(errors) == set(BULK_ERRORS)
    for number, reason in BULK_ERRORS.items():
        assert errors[number].startswith(reason), errors[number]
    rows = [line.row for line in lines if line.row]
    assert [(row.search_type, row.query, row.country, row.device) for row in rows] == [
        ("web", "acme", "usa", "DESKTOP"),
        ("web", "acme", "usa", "DESKTOP"),
        ("web", "", "deu", "MOBILE"),
        ("web", "", "deu", "MOBILE"),
        ("image", "running shoes", "gbr", "TABLET"),
        ("googleNews", "acme", "usa", "DESKTOP"),
    ]
    assert (rows[4].impressions, rows[4].sum_position) == (1200, 10800.5)
    assert parse_bulk(gzip.compress(BULK_CSV.encode())) == lines  # gzip is found by its magic bytes


def test_bulk_optional_columns_and_messy_values():
    content = (
        "\ufeffdata_date;site_url;url;query;country;search_type;device;impressions;clicks;sum_position\n"
        "2024-03-01;https://www.acme.com/;https://www.acme.com/;acme;usa;web;DESKTOP;1.500;15;2.250,5\n"
        "2024-03-01;https://WWW.ACME.COM;https://www.acme.com/a/;;usa;web;MOBILE;10;1;5\n"  # empty query: anonymized
        "2024-06-02;https://www.acme.com/;https://www.acme.com/;acme;usa;web;DESKTOP;10;1;5\n"  # future
        "2024-03-01;https://www.acme.com/;https://www.acme.com/;acme;US;web;PHONE;10;11;5\n"
        '2024-03-01;https://www.acme.com/;https://www.acme.com/;acme;usa;web;DESKTOP;10;1;"1,234"\n'
    ).encode()
    lines = parse_bulk(content)
    first, anonymized = lines[0].row, lines[1].row
    assert first is not None
    assert anonymized is not None
    assert (first.impressions, first.clicks, first.sum_position) == (1500, 15, 2250.5)
    assert (anonymized.query, anonymized.page) == ("", "https://www.acme.com/a/")
    errors = {line.line: line.error for line in lines if line.error}
    assert errors[4] == "data_date: 2024-06-02 is in the future"
    assert errors[5] == (
        "country: 'US' is not an ISO 3166-1 alpha-3 code; device: 'PHONE' is not one of DESKTOP, MOBILE, TABLET;"
        " clicks (11) exceed impressions (10)"
    )
    assert 6 not in errors
    assert lines[4].row is not None
    assert lines[4].row.sum_position == pytest.approx(1.234)  # the column's decimal comma settles "1,234"


def test_bulk_anonymized_flag_must_agree_with_the_query():
    content = (
        BULK_HEADER
        + "2024-03-01,https://www.acme.com/,https://www.acme.com/,acme,true,false,usa,WEB,DESKTOP,false,10,1,5\n"
        + "2024-03-01,https://www.acme.com/,https://www.acme.com/,,false,false,usa,WEB,DESKTOP,false,10,1,5\n"
        + "2024-03-01,https://www.acme.com/,https://www.acme.com/,x,maybe,false,usa,WEB,DESKTOP,false,10,1,5\n"
    ).encode()
    assert [line.error for line in parse_bulk(content)] == [
        "query: is set, but is_anonymized_query is true",
        "query: is empty, but is_anonymized_query is false",
        "is_anonymized_query: 'maybe' is not true or false",
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "The file is empty."),
        (full_zip(), "The file is a zip"),
        (QUERIES.encode(), "It looks like a Search Console UI export"),
        (b"data_date,site_url,url\n2024-03-01,x,y\n", "missing column(s) query, country, search_type"),
        (BULK_HEADER.replace("clicks", "impressions").encode(), "repeated column(s) impressions"),
    ],
    ids=["empty", "zip", "ui-csv", "missing-columns", "repeated"],
)
def test_unusable_bulk_files_are_rejected_before_any_line(content, reason):
    with pytest.raises(RejectedFile) as rejected:
        parse_bulk(content)
    assert reason in rejected.value.reason


def test_a_truncated_gzip_stops_with_a_line_error():
    body = gzip.compress((BULK_HEADER + BULK_LINES[0] * 2000).encode())
    lines = parse_bulk(body[: len(body) // 2])
    assert lines[-1].last
    assert "unreadable from here" in (lines[-1].error or "")
    assert all(line.row for line in lines[:-1])


def test_the_aggregator_sums_repeated_keys_across_partitions(tmp_path):
    rows = [line.row for line in parse_bulk(BULK_CSV.encode()) if line.row]
    for partitions in (1, 3):
        aggregator = RowAggregator(tmp_path, partitions)
        for row in rows:
            aggregator.add(row)
        summed = list(aggregator.rows())
        assert by_key(summed) == by_key(BULK_ROWS)
        assert (aggregator.added, aggregator.distinct) == (6, 4)
        assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- the batch reader against the parser it replaced
def _old_and_new(content: bytes, **kwargs) -> tuple[list, list]:
    """Each line as (line, row or error) by the frozen old parser (bench/bulk_before) and by today's batches."""
    from bench.bulk_before import bulk as before

    old = [
        (parsed.line, tuple(parsed.row) if parsed.row else parsed.error, parsed.last)
        for parsed in before.read_bulk_export(buffered(io.BytesIO(content)), site_url=SITE, today=TODAY)
    ]
    new: list[tuple[int, object, bool]] = []
    for batch in read_bulk_batches(buffered(io.BytesIO(content)), site_url=SITE, today=TODAY, row_lines=True, **kwargs):
        new += [(line, row, False) for line, row in zip(batch.row_lines, batch.rows, strict=True)]
        new += [(error.line, error.error, error.last) for error in batch.errors]
    return old, sorted(new, key=lambda entry: entry[0])


def _bulk_line(n: int, **values: str) -> str:
    cells = {
        "date": f"2024-03-{1 + n % 28:02d}",
        "site": SITE,
        "url": f"https://www.acme.com/p/{n % 97}/",
        "query": "" if n % 5 == 0 else f"shoes {n % 13}",
        "anonymized": "true" if n % 5 == 0 else "false",
        "country": ("usa", "deu", "gbr")[n % 3],
        "type": ("WEB", "IMAGE")[n % 2],
        "device": ("DESKTOP", "MOBILE", "TABLET")[n % 3],
        "impressions": str(10 + n % 500),
        "clicks": str(n % 10),
        "position": ("12", "30.5", "1234.567", "99.25")[n % 4],
    } | values
    cells = {name: f'"{value}"' if "," in value and '"' not in value else value for name, value in cells.items()}
    return (
        f"{cells['date']},{cells['site']},{cells['url']},{cells['query']},{cells['anonymized']},false,"
        f"{cells['country']},{cells['type']},{cells['device']},false,{cells['impressions']},{cells['clicks']},"
        f"{cells['position']}\n"
    )


def _big_export(lines: int, broken: dict[int, dict[str, str]]) -> str:
    return BULK_HEADER + "".join(_bulk_line(n, **broken.get(n, {})) for n in range(lines))


BROKEN_LINES = {  # index of a data line: the values that break it (each once known good elsewhere, or new)
    5_100: {"country": "US"},
    5_101: {"impressions": "0"},
    5_102: {"clicks": "11", "impressions": "10"},
    5_103: {"date": "2024-07-01"},  # in the future
    5_104: {"anonymized": "true"},  # with a query
    5_105: {"query": "", "anonymized": "false"},
    5_106: {"site": "sc-domain:acme.com"},
    5_107: {"position": "1,5"},  # a decimal comma in a column of decimal points
    5_108: {"impressions": "1,234"},  # thousands separators: still good, read by the full checks
    5_109: {"url": "  "},
    5_110: {"date": "2024-03-30", "device": "mobile", "country": "FRA"},  # new values, good
    5_111: {"type": "SHOPPING"},
    5_112: {"impressions": "99999999999"},
    5_113: {"position": "-3"},
    5_114: {"query": "   ", "anonymized": "true"},  # a blank query: anonymized
    5_116: {"position": ".5"},  # good: 0.5
    5_117: {"position": "5."},
    5_118: {"position": "\u0661\u0662"},  # Arabic-Indic digits, which float() would read
    5_119: {"position": "1_000"},
    7_000: {"anonymized": "maybe"},
}


@pytest.mark.parametrize("batch_lines", [7, 2_000])
def test_the_batch_reader_gives_the_old_parsers_rows_and_errors_line_for_line(batch_lines):
    content = _big_export(8_000, BROKEN_LINES)
    content = content.replace(_bulk_line(6_000), "\n \n" + _bulk_line(6_000))  # blank lines
    content = content.replace(_bulk_line(6_501), _bulk_line(6_501, query='"two\nlines"'))  # a quoted line break
    old, new = _old_and_new(content.encode(), batch_lines=batch_lines)
    assert new == old
    errors = [entry for entry in new if isinstance(entry[1], str)]
    assert len(errors) == len(BROKEN_LINES) - 4  # lines 5_108, 5_110, 5_114 and 5_116 are good
    numbers = {line for line, _, _ in new}  # line numbers count the blank lines and the quoted line break
    assert {6_503, 6_505, 6_507} <= numbers
    assert not {6_002, 6_003, 6_506} & numbers


def test_the_batch_reader_finds_non_text_lines_after_clean_ones():
    content = _big_export(6_000, {}).encode()
    lines = content.split(b"\n")
    lines[5_500] = lines[5_500].replace(b"shoes", b"sh\x00es")
    lines[5_600] = lines[5_600].replace(b"acme.com/p", b"acme.com/\xff")
    old, new = _old_and_new(b"\n".join(lines))
    assert new == old
    assert [entry for entry in new if isinstance(entry[1], str)] == [
        (5_501, "the line is not text (not UTF-8, or NUL bytes): save the file as CSV UTF-8", False),
        (5_601, "the line is not text (not UTF-8, or NUL bytes): save the file as CSV UTF-8", False),
    ]


def test_the_batch_reader_learns_from_lines_past_the_lookahead_as_the_old_parser_did():
    # "1,234" is ambiguous until a line far past the first 5,000 shows the column's decimal comma.
    broken = {n: {"position": "1,234"} for n in range(0, 7_000, 700)} | {6_900: {"position": "2,5"}}
    old, new = _old_and_new(_big_export(7_000, broken).encode())
    assert new == old


def test_a_truncated_gzip_keeps_the_lines_before_it_in_batches():
    body = gzip.compress(_big_export(9_000, {}).encode())
    old, new = _old_and_new(body[: len(body) * 3 // 4])
    assert new == old
    assert new[-1][2]
    assert "unreadable from here" in new[-1][1]
    assert len(new) > 5_000


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_the_batch_reader_reads_utf16_and_bom_files_as_the_old_parser_did(encoding):
    text = _big_export(6_000, BROKEN_LINES | {5_500: {"query": "caf\u00e9 \u00fcber"}}).replace(",", "\t")
    old, new = _old_and_new(text.encode(encoding))
    assert new == old
    assert len(old) == 6_000
