"""Search Console exports through file_import: UI exports become snapshots, bulk exports become row chunks.

Parsing is tested directly on bytes; the end-to-end cases upload through the
presigned URL, receive the S3 notification from a real queue and run the real
file_import handler, then read the database, the chunks bucket and the
gsc_ingest queue.
"""

import datetime as dt
import gzip
import io
import json
import time
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from shared.auth import Principal
from shared.db import tenant_transaction
from shared.errors import InvalidRequest, NotFound
from shared.jobs.data import jobs
from shared.jobs.models import JobOut
from shared.projects import projects
from shared.projects.models import ProjectIn, PropertyIn
from shared.search_console import chunks as gsc_chunks
from shared.search_console import ingest as gsc_ingest
from shared.search_console.data import progress
from shared.search_console.exports import files as gsc_export_files
from shared.search_console.exports import importer
from shared.search_console.exports.files import (
    DateReader,
    NumberReader,
    RejectedFile,
    RowAggregator,
    ValueProblem,
    date_range_in,
    read_bulk_export,
    read_ui_export,
    ui_snapshots,
)
from shared.search_console.models import GscExportImportIn, LoadChunkMessage
from shared.search_console.tables import GscExportSnapshot, GscRow
from shared.settings import get_settings
from tests.conftest import CHUNKS_BUCKET
from tests.support.queues import create_worker_queues, deliver, notify_on_uploads, put_presigned, receive, s3, sqs
from tests.support.tenants import new_tenant

UPLOADS_BUCKET = "kestrel-test-gsc-exports"  # its own bucket: its notifications go to this module's queue
SITE = "https://www.acme.com/"
TODAY = dt.date(2024, 6, 1)

# ---------------------------------------------------------------- fixture files, as Search Console writes them
QUERIES = (
    "Top queries,Clicks,Impressions,CTR,Position\n"
    "acme,812,4210,19.29%,1.4\n"
    "running shoes,97,15320,0.63%,8.7\n"
    '"trail shoes, waterproof",41,2980,1.38%,6.2\n'
)
PAGES = (
    "Top pages,Clicks,Impressions,CTR,Position\n"
    "https://www.acme.com/,905,8120,11.15%,2.3\n"
    "https://www.acme.com/running/,122,17400,0.7%,7.9\n"
)
COUNTRIES = "Country,Clicks,Impressions,CTR,Position\nUnited States,700,12000,5.83%,4.1\nGermany,150,5400,2.78%,6.3\n"
DEVICES = (
    "Device,Clicks,Impressions,CTR,Position\n"
    "Desktop,520,9800,5.31%,3.9\n"
    "Mobile,400,12000,3.33%,5.2\n"
    "Tablet,30,900,3.33%,6.8\n"
)
SEARCH_APPEARANCE = (
    "Search Appearance,Clicks,Impressions,CTR,Position\nVideos,12,800,1.5%,4.4\nReview snippet,40,1300,3.08%,3.1\n"
)
DATES = (
    "Date,Clicks,Impressions,CTR,Position\n"
    "2024-03-31,25,640,3.91%,5.4\n"
    "2024-03-30,28,690,4.06%,5.3\n"
    "2024-03-02,30,700,4.29%,5.1\n"
)
FILTERS_RELATIVE = "Filter,Value\nSearch type,Web\nDate,Last 3 months\n"
FILTERS_CUSTOM = 'Filter,Value\nSearch type,Image\nDate,"Custom: Mar 1, 2024 - Mar 31, 2024"\n'
REPORT_FILES = {
    "Queries.csv": QUERIES,
    "Pages.csv": PAGES,
    "Countries.csv": COUNTRIES,
    "Devices.csv": DEVICES,
    "Search appearance.csv": SEARCH_APPEARANCE,
}
REPORT_OF_FILE = {
    "Queries.csv": "queries",
    "Pages.csv": "pages",
    "Countries.csv": "countries",
    "Devices.csv": "devices",
    "Search appearance.csv": "search_appearance",
    "Dates.csv": "dates",
}


def ui_zip(files: dict[str, str], *, folder: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(folder + name, content)
    return buffer.getvalue()


def full_zip(filters: str | None = FILTERS_RELATIVE, *, dates: bool = True) -> bytes:
    files = dict(REPORT_FILES)
    if dates:
        files["Dates.csv"] = DATES
    if filters is not None:
        files["Filters.csv"] = filters
    return ui_zip(files, folder="acme.com-Performance-on-Search-2024-04-02/")


BULK_HEADER = (
    "data_date,site_url,url,query,is_anonymized_query,is_anonymized_discover,country,search_type,device,"
    "is_amp_top_stories,impressions,clicks,sum_position\n"
)
BULK_LINES = [
    # line 2 and 3: one key written twice (they differ only in is_amp_top_stories): summed
    "2024-03-01,https://www.acme.com/,https://www.acme.com/,acme,false,false,usa,WEB,DESKTOP,false,100,20,40\n",
    "2024-03-01,https://www.acme.com/,https://www.acme.com/,acme,false,false,usa,WEB,DESKTOP,true,50,5,10\n",
    # line 4 and 5: anonymized queries (NULL query) of one page: kept under "" and summed
    "2024-03-01,https://www.acme.com/,https://www.acme.com/running/,,true,false,deu,WEB,MOBILE,false,30,1,150\n",
    "2024-03-01,https://www.acme.com/,https://www.acme.com/running/,,true,false,deu,WEB,MOBILE,false,20,0,100\n",
    # line 6: upper-case country, thousands separators (quoted), search type and device normalised
    "2024-03-02,https://www.acme.com/,https://www.acme.com/running/,running shoes,false,false,GBR,IMAGE,tablet,"
    'false,"1,200",3,"10,800.5"\n',
    "2024-03-02,sc-domain:acme.com,https://acme.com/,acme,false,false,usa,WEB,DESKTOP,false,10,1,5\n",  # 7: site
    "2024-03-02,https://www.acme.com/,https://www.acme.com/,acme,false,false,usa,WEB\n",  # 8: fields
    "2024-03-02,https://www.acme.com/,https://www.acme.com/,acme,false,false,usa,SHOPPING,DESKTOP,false,10,1,5\n",
    "2024-03-02,https://www.acme.com/,https://www.acme.com/,acme,false,false,usa,WEB,DESKTOP,false,0,0,0\n",  # 10
    "\n",  # 11: blank
    "2024-03-02,https://www.acme.com/,https://www.acme.com/,acme,false,false,usa,GOOGLE_NEWS,DESKTOP,false,10,1,5\n",
]
BULK_CSV = BULK_HEADER + "".join(BULK_LINES)
BULK_ERRORS = {
    7: "site_url 'sc-domain:acme.com' is not this import's property (https://www.acme.com/)",
    8: "expected 13 fields, found 8",
    9: "search_type: 'SHOPPING' is not one of",
    10: "impressions: is 0",
}


def _row(date, search_type, query, page, country, device, clicks, impressions, sum_position) -> dict[str, Any]:
    return {
        "date": date,
        "search_type": search_type,
        "query": query,
        "page": page,
        "country": country,
        "device": device,
        "clicks": clicks,
        "impressions": impressions,
        "ctr": clicks / impressions,
        "position": sum_position / impressions + 1,
    }


BULK_ROWS = [
    _row("2024-03-01", "web", "acme", "https://www.acme.com/", "usa", "DESKTOP", 25, 150, 50),
    _row("2024-03-01", "web", "", "https://www.acme.com/running/", "deu", "MOBILE", 1, 50, 250),
    _row("2024-03-02", "image", "running shoes", "https://www.acme.com/running/", "gbr", "TABLET", 3, 1200, 10800.5),
    _row("2024-03-02", "googleNews", "acme", "https://www.acme.com/", "usa", "DESKTOP", 1, 10, 5),
]


def by_key(rows):
    return sorted(rows, key=lambda row: (row["date"], row["search_type"], row["query"], row["page"], row["device"]))


def errors_by_line(errors) -> dict[int, str]:
    items = errors.items if isinstance(errors, gsc_export_files.LineErrors) else errors
    return {error["line"]: error["reason"] for error in items}


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
def parse_bulk(content: bytes, site_url: str = SITE) -> list[gsc_export_files.BulkLine]:
    return list(read_bulk_export(gsc_export_files.buffered(io.BytesIO(content)), site_url=site_url, today=TODAY))


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


# ---------------------------------------------------------------- end to end through file_import
@pytest.fixture(scope="module")
def queues(platform):
    queues = create_worker_queues(f"gsc-exports-{uuid.uuid4().hex[:6]}", max_receive_count=5)
    notify_on_uploads(UPLOADS_BUCKET, queues)
    return queues


@pytest.fixture(scope="module")
def worker(queues):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KESTREL_DLQ_URL", queues.dlq_url)
        patch.setenv("KESTREL_UPLOADS_BUCKET", UPLOADS_BUCKET)
        get_settings.cache_clear()
        from functions.file_import.handler import handler

        yield handler
    get_settings.cache_clear()


@dataclass(frozen=True)
class Site:
    tenant_id: str
    principal: Principal
    project_id: uuid.UUID
    property_id: uuid.UUID


def new_site(owner_url: str, site_url: str = SITE) -> Site:
    tenant_id = new_tenant(owner_url)
    principal = Principal(subject="auth0|exports", tenant_id=tenant_id, permissions=frozenset())
    project = projects.create_project(principal, ProjectIn(name="Acme", domain="acme.com"))
    prop = projects.create_property(principal, project.id, PropertyIn(site_url=site_url))
    return Site(tenant_id, principal, project.id, prop.id)


@pytest.fixture
def site(platform, worker) -> Site:
    return new_site(platform.owner_url)


def upload(site: Site, filename: str, data: bytes, *, fmt: str = "ui_export", **request: Any) -> JobOut:
    out = importer.start(
        site.principal,
        site.project_id,
        site.property_id,
        GscExportImportIn.model_validate({"format": fmt, "filename": filename, **request}),
    )
    put_presigned(out.upload.model_dump(), data)
    return out.job


def import_file(site: Site, queues, worker, filename: str, data: bytes, **request: Any) -> JobOut:
    job = upload(site, filename, data, **request)
    assert deliver(worker, receive(queues.url, 1), queues, function_name="file_import") == set()
    return job_of(site, job.id)


def job_of(site: Site, job_id: uuid.UUID) -> JobOut:
    with tenant_transaction(site.tenant_id) as session:
        return JobOut.model_validate(jobs.get(session, job_id))


def snapshots_of(tenant_id: str, property_id: uuid.UUID) -> dict[tuple[str, str, dt.date, dt.date, str], tuple]:
    with tenant_transaction(tenant_id) as session:
        rows = session.scalars(select(GscExportSnapshot).where(GscExportSnapshot.property_id == property_id)).all()
        return {
            (row.report, row.key, row.range_start, row.range_end, row.search_type): (
                row.clicks,
                row.impressions,
                round(row.ctr, 6),
                row.position,
                row.job_id,
                row.id,
            )
            for row in rows
        }


def chunk_keys(site: Site, job_id: uuid.UUID) -> list[str]:
    prefix = f"gsc-chunks/{site.tenant_id}/{site.property_id}/{job_id}/"
    listed = s3().list_objects_v2(Bucket=CHUNKS_BUCKET, Prefix=prefix).get("Contents", [])
    return sorted(item["Key"] for item in listed)


def load_messages(job_id: uuid.UUID, expected: int, *, timeout: float = 10.0) -> list[LoadChunkMessage]:
    """Take this job's load messages off the shared ingest queue; others' go back at once."""
    queue_url = get_settings().gsc_ingest_queue_url
    found: list[LoadChunkMessage] = []
    deadline = time.monotonic() + timeout
    while len(found) < expected or (expected == 0 and time.monotonic() < deadline):
        if time.monotonic() >= deadline:
            break
        batch = sqs().receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in batch.get("Messages", []):
            body = json.loads(message["Body"])
            if body.get("job_id") == str(job_id):
                found.append(LoadChunkMessage.model_validate(body))
                sqs().delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            else:
                sqs().change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
    assert len(found) == expected, f"expected {expected} load messages for job {job_id}, got {len(found)}"
    return sorted(found, key=lambda message: message.key)


def gsc_rows_of(site: Site) -> list[dict[str, Any]]:
    with tenant_transaction(site.tenant_id) as session:
        rows = session.scalars(select(GscRow).where(GscRow.property_id == site.property_id)).all()
        return by_key(
            {
                "date": row.date.isoformat(),
                "search_type": row.search_type,
                "query": row.query,
                "page": row.page,
                "country": row.country,
                "device": row.device,
                "clicks": row.clicks,
                "impressions": row.impressions,
                "ctr": row.ctr,
                "position": row.position,
            }
            for row in rows
        )


def test_start_checks_the_property_and_presigns_by_extension(site):
    cases = [
        ("export.zip", "ui_export", "zip", "application/zip"),
        ("Queries.csv", "ui_export", "csv", "text/csv"),
        ("rows.csv.gz", "bulk_export", "csv.gz", "application/gzip"),
        ("rows.CSV", "bulk_export", "csv", "text/csv"),
    ]
    for filename, fmt, extension, content_type in cases:
        out = importer.start(
            site.principal,
            site.project_id,
            site.property_id,
            GscExportImportIn(format=fmt, filename=filename, range_start=dt.date(2024, 1, 1), range_end=TODAY),
        )
        key = f"uploads/{site.tenant_id}/gsc-exports/{out.job.id}.{extension}"
        assert key in out.upload.url
        assert out.upload.headers == {"Content-Type": content_type}
        assert out.job.kind == "gsc_export_import"
        assert out.job.status == "pending"
    with tenant_transaction(site.tenant_id) as session:
        stored = jobs.get(session, out.job.id).input
    assert stored == {
        "format": "bulk_export",
        "filename": "rows.CSV",
        "property_id": str(site.property_id),
        "site_url": SITE,
        "range_start": "2024-01-01",
        "range_end": "2024-06-01",
        "search_type": None,
        "bucket": UPLOADS_BUCKET,
        "key": f"uploads/{site.tenant_id}/gsc-exports/{out.job.id}.csv",
    }
    with pytest.raises(InvalidRequest, match="format ui_export"):
        importer.start(
            site.principal, site.project_id, site.property_id, GscExportImportIn(format="bulk_export", filename="e.zip")
        )
    with pytest.raises(InvalidRequest, match=r"must end in \.zip, \.csv or \.csv\.gz"):
        importer.start(
            site.principal, site.project_id, site.property_id, GscExportImportIn(format="ui_export", filename="e.xlsx")
        )
    with pytest.raises(NotFound):
        importer.start(
            site.principal, site.project_id, uuid.uuid4(), GscExportImportIn(format="ui_export", filename="e.zip")
        )


@pytest.mark.parametrize("filename", [*REPORT_FILES, "Dates.csv"])
def test_each_ui_csv_alone(site, queues, worker, filename):
    content = {**REPORT_FILES, "Dates.csv": DATES}[filename]
    report = REPORT_OF_FILE[filename]
    request = {} if report == "dates" else {"range_start": "2024-01-01", "range_end": "2024-03-31"}
    job = import_file(site, queues, worker, filename, content.encode(), search_type="image", **request)
    assert job.status == "succeeded", job.failure_reason
    data_lines = content.count("\n") - 1
    assert job.counters | {"bytes_total": 0} == {
        "bytes_total": 0,
        "files": 1,
        "lines": data_lines,
        "snapshots": data_lines,
        "snapshots_created": data_lines,
        "snapshots_updated": 0,
        "snapshots_unchanged": 0,
        "rows_rejected": 0,
    }
    assert job.progress_percent == 100
    stored = snapshots_of(site.tenant_id, site.property_id)
    assert len(stored) == data_lines
    assert {key[0] for key in stored} == {report}
    assert {key[4] for key in stored} == {"image"}
    assert {value[4] for value in stored.values()} == {job.id}
    first_key = content.splitlines()[1].rsplit(",", 4)[0].strip('"')
    if report == "dates":
        day = dt.date.fromisoformat(first_key)
        assert (report, first_key, day, day, "image") in stored
    else:
        assert stored[(report, first_key, dt.date(2024, 1, 1), dt.date(2024, 3, 31), "image")][:2] == tuple(
            int(value) for value in content.splitlines()[1].rsplit(",", 4)[1:3]
        )


def test_zip_with_an_explicit_range_in_filters(site, queues, worker):
    job = import_file(site, queues, worker, "acme-performance.zip", full_zip(FILTERS_CUSTOM))
    assert job.status == "succeeded", job.failure_reason
    assert job.counters["files"] == 7
    assert job.counters["snapshots"] == 3 + 2 + 2 + 3 + 2 + 3
    stored = snapshots_of(site.tenant_id, site.property_id)
    march = (dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    assert stored[("queries", "trail shoes, waterproof", *march, "image")][:4] == (41, 2980, round(41 / 2980, 6), 6.2)
    assert stored[("countries", "United States", *march, "image")][:2] == (700, 12000)
    assert stored[("search_appearance", "Review snippet", *march, "image")][:2] == (40, 1300)
    assert stored[("dates", "2024-03-30", dt.date(2024, 3, 30), dt.date(2024, 3, 30), "image")][:2] == (28, 690)
    assert {key[2:4] for key in stored if key[0] != "dates"} == {march}


def test_zip_range_from_dates_csv_when_filters_are_relative(site, queues, worker):
    job = import_file(site, queues, worker, "export.zip", full_zip(FILTERS_RELATIVE))
    assert job.status == "succeeded", job.failure_reason
    stored = snapshots_of(site.tenant_id, site.property_id)
    assert {key[2:5] for key in stored if key[0] == "pages"} == {(dt.date(2024, 3, 2), dt.date(2024, 3, 31), "web")}


@pytest.mark.parametrize("filters", [FILTERS_RELATIVE, None], ids=["relative-filters", "no-filters"])
def test_zip_range_from_the_request(site, queues, worker, filters):
    job = import_file(
        site,
        queues,
        worker,
        "export.zip",
        full_zip(filters, dates=False),
        range_start="2024-01-01",
        range_end="2024-03-31",
        search_type="video",
    )
    assert job.status == "succeeded", job.failure_reason
    stored = snapshots_of(site.tenant_id, site.property_id)
    expected_type = "web" if filters else "video"
    assert {key[2:5] for key in stored} == {(dt.date(2024, 1, 1), dt.date(2024, 3, 31), expected_type)}


def test_zip_without_any_range_fails_with_a_reason_and_writes_nothing(site, queues, worker):
    job = import_file(site, queues, worker, "export.zip", full_zip(FILTERS_RELATIVE, dates=False))
    assert job.status == "failed"
    assert job.failure_reason is not None
    assert job.failure_reason.startswith("The export's date range is unknown")
    assert "Filters.csv gives the range as 'Last 3 months'" in job.failure_reason
    assert "Create the import with range_start and range_end" in job.failure_reason
    assert snapshots_of(site.tenant_id, site.property_id) == {}
    alone = import_file(site, queues, worker, "Queries.csv", QUERIES.encode())
    assert alone.status == "failed"
    assert "there is no Filters.csv" in (alone.failure_reason or "")


def test_reimport_changes_nothing_and_a_corrected_export_updates_values(site, queues, worker):
    first = import_file(site, queues, worker, "export.zip", full_zip(FILTERS_CUSTOM))
    before = snapshots_of(site.tenant_id, site.property_id)
    again = import_file(site, queues, worker, "export.zip", full_zip(FILTERS_CUSTOM))
    assert again.status == "succeeded"
    assert (again.counters["snapshots_created"], again.counters["snapshots_updated"]) == (0, 0)
    assert again.counters["snapshots_unchanged"] == first.counters["snapshots"]
    assert snapshots_of(site.tenant_id, site.property_id) == before  # same values, ids and writing job

    files = {**REPORT_FILES, "Dates.csv": DATES, "Filters.csv": FILTERS_CUSTOM}
    files["Queries.csv"] = QUERIES.replace("acme,812,4210,19.29%,1.4", "acme,815,4230,19.27%,1.5")
    corrected = ui_zip(files)
    fixed = import_file(site, queues, worker, "export.zip", corrected)
    assert (fixed.counters["snapshots_created"], fixed.counters["snapshots_updated"]) == (0, 1)
    after = snapshots_of(site.tenant_id, site.property_id)
    key = ("queries", "acme", dt.date(2024, 3, 1), dt.date(2024, 3, 31), "image")
    assert after[key][:4] == (815, 4230, round(815 / 4230, 6), 1.5)
    assert after[key][4] == fixed.id
    assert after[key][5] == before[key][5]
    assert {k: v for k, v in after.items() if k != key} == {k: v for k, v in before.items() if k != key}


def test_ui_line_errors_name_the_file_and_keep_the_rest(site, queues, worker):
    files = {**REPORT_FILES, "Dates.csv": DATES + "2024-03-03,5,4,125%,2\n", "Filters.csv": FILTERS_CUSTOM}
    files["Pages.csv"] = PAGES + "https://www.acme.com/x/,1,\n"
    job = import_file(site, queues, worker, "export.zip", ui_zip(files))
    assert job.status == "succeeded_with_errors"
    assert job.error_count == job.counters["rows_rejected"] == 2
    assert {(error.line, error.reason) for error in job.errors} == {
        (4, "Pages.csv: expected 5 fields, found 3"),
        (5, "Dates.csv: CTR: '125%' is above 100%; Clicks (5) exceed Impressions (4)"),
    }
    assert len(snapshots_of(site.tenant_id, site.property_id)) == 15


@pytest.mark.parametrize(
    ("filename", "content", "reason"),
    [
        ("Filters.csv", FILTERS_CUSTOM.encode(), "holds no performance report"),
        ("Queries.csv", b"Top queries,Clicks,Impressions,CTR,Position\n", "a header but no data lines"),
        ("Queries.csv", b"Top queries,Clicks,Impressions,CTR,Position\nx,5,4,1%,2\n", "No valid lines: all 1 lines"),
        ("export.zip", b"PK\x03\x04not really", "not a readable zip"),
        ("Queries.csv", b"phrase,volume\nshoes,100\n", "not a Search Console performance report"),
    ],
    ids=["filters-only", "header-only", "all-invalid", "bad-zip", "wrong-header"],
)
def test_unusable_ui_uploads_fail_the_job(site, queues, worker, filename, content, reason):
    job = import_file(site, queues, worker, filename, content, range_start="2024-01-01", range_end="2024-01-31")
    assert job.status == "failed"
    assert reason in (job.failure_reason or "")
    assert snapshots_of(site.tenant_id, site.property_id) == {}


def test_snapshots_are_tenant_isolated(platform, site, queues, worker):
    other = new_site(platform.owner_url)
    import_file(site, queues, worker, "export.zip", full_zip(FILTERS_CUSTOM))
    mine = snapshots_of(site.tenant_id, site.property_id)
    assert mine
    assert snapshots_of(other.tenant_id, site.property_id) == {}  # RLS: another tenant sees none of them
    files = {**REPORT_FILES, "Filters.csv": FILTERS_CUSTOM}
    files["Queries.csv"] = QUERIES.replace("acme,812", "acme,800")
    import_file(other, queues, worker, "export.zip", ui_zip(files))
    theirs = snapshots_of(other.tenant_id, other.property_id)
    assert theirs[("queries", "acme", dt.date(2024, 3, 1), dt.date(2024, 3, 31), "image")][0] == 800
    assert snapshots_of(site.tenant_id, site.property_id) == mine


@pytest.mark.parametrize(
    ("filename", "compress"), [("rows.csv", False), ("rows.csv.gz", True), ("rows.csv", True)], ids=str
)
def test_bulk_export_becomes_chunks_and_finishes_once_they_load(site, queues, worker, monkeypatch, filename, compress):
    monkeypatch.setattr(importer, "CHUNK_ROWS", 2)
    monkeypatch.setattr(importer, "PARTITION_BYTES", 256)  # several spill partitions
    data = gzip.compress(BULK_CSV.encode()) if compress else BULK_CSV.encode()
    job = import_file(site, queues, worker, filename, data, fmt="bulk_export")
    assert job.status == "running"
    assert job.counters["split_complete"] is True
    assert (job.counters["lines"], job.counters["rows_rejected"]) == (10, 4)
    assert (job.counters["rows"], job.counters["rows_merged"]) == (4, 2)
    assert (job.counters["chunks_total"], job.counters["chunks_done"]) == (2, 0)
    assert job.error_count == 4
    assert {error.line for error in job.errors} == set(BULK_ERRORS)

    keys = chunk_keys(site, job.id)
    assert keys == [gsc_chunks.chunk_key(site.tenant_id, site.property_id, job.id, f"export/{n:05d}") for n in range(2)]
    chunk_rows = [row for key in keys for row in gsc_chunks.read_chunk(CHUNKS_BUCKET, key)]
    assert by_key(chunk_rows) == by_key(BULK_ROWS)
    messages = load_messages(job.id, 2)
    assert [(m.key, m.rows, m.date, m.bucket, m.property_id) for m in messages] == [
        (key, 2, None, CHUNKS_BUCKET, site.property_id) for key in keys
    ]

    gsc_ingest.load_chunk(messages[0])
    assert job_of(site, job.id).status == "running"
    gsc_ingest.load_chunk(messages[1])
    done = job_of(site, job.id)
    assert done.status == "succeeded_with_errors"
    assert done.progress_percent == 100
    assert (done.counters["chunks_done"], done.counters["rows_loaded"]) == (2, 4)
    loaded = gsc_rows_of(site)
    assert [{k: v for k, v in row.items() if k not in ("ctr", "position")} for row in loaded] == [
        {k: v for k, v in row.items() if k not in ("ctr", "position")} for row in by_key(BULK_ROWS)
    ]
    assert [row["position"] for row in loaded] == pytest.approx([row["position"] for row in by_key(BULK_ROWS)])


def test_redelivered_bulk_upload_writes_and_enqueues_nothing_more(site, queues, worker):
    job_id = upload(site, "rows.csv", BULK_CSV.encode(), fmt="bulk_export").id
    messages = receive(queues.url, 1)
    assert deliver(worker, messages, queues, function_name="file_import") == set()
    first = load_messages(job_id, 1)
    assert deliver(worker, messages, queues, function_name="file_import") == set()  # SQS redelivers it
    load_messages(job_id, 0, timeout=2)
    assert chunk_keys(site, job_id) == [first[0].key]
    assert job_of(site, job_id).counters["chunks_total"] == 1


def test_a_bulk_job_cancelled_while_splitting_registers_no_further_chunk(site, queues, worker, monkeypatch):
    monkeypatch.setattr(importer, "CHUNK_ROWS", 2)
    write_chunk = gsc_chunks.write_chunk
    written: list[str] = []

    def write_then_cancel(bucket, key, rows):
        written.append(key)
        if len(written) == 2:  # the user cancels while the second chunk is being written
            with tenant_transaction(site.tenant_id) as session:
                assert progress.cancel(session, job_id)
        return write_chunk(bucket, key, rows)

    monkeypatch.setattr(gsc_chunks, "write_chunk", write_then_cancel)
    job_id = upload(site, "rows.csv", BULK_CSV.encode(), fmt="bulk_export").id
    assert deliver(worker, receive(queues.url, 1), queues, function_name="file_import") == set()
    job = job_of(site, job_id)
    assert job.status == "cancelled"
    assert job.counters["chunks_total"] == 1
    (message,) = load_messages(job_id, 1)
    assert message.key == written[0]
    gsc_ingest.load_chunk(message)  # the loader skips a cancelled job's chunk
    assert job_of(site, job_id).counters["chunks_skipped"] == 1
    assert gsc_rows_of(site) == []


def test_another_upload_to_a_split_job_is_ignored(site, queues, worker):
    job = upload(site, "rows.csv", BULK_CSV.encode(), fmt="bulk_export")
    assert deliver(worker, receive(queues.url, 1), queues, function_name="file_import") == set()
    load_messages(job.id, 1)
    key = f"uploads/{site.tenant_id}/gsc-exports/{job.id}.csv"
    s3().put_object(Bucket=UPLOADS_BUCKET, Key=key, Body=BULK_CSV.replace("acme", "acme shoes").encode())
    assert deliver(worker, receive(queues.url, 1), queues, function_name="file_import") == set()
    load_messages(job.id, 0, timeout=2)
    assert job_of(site, job.id).counters["chunks_total"] == 1


def test_an_export_of_another_property_fails_naming_it(site, queues, worker):
    other = BULK_CSV.replace("https://www.acme.com/,https", "sc-domain:acme.com,https")
    job = import_file(site, queues, worker, "rows.csv", other.encode(), fmt="bulk_export")
    assert job.status == "failed"
    assert job.failure_reason == (
        "No valid lines: all 10 lines have errors (see errors); 9 are rows of sc-domain:acme.com,"
        " not of this property (https://www.acme.com/)."
    )
    reasons = errors_by_line(job.model_dump()["errors"])
    assert reasons[2] == "site_url 'sc-domain:acme.com' is not this import's property (https://www.acme.com/)"
    assert reasons[8] == "expected 13 fields, found 8"
    assert chunk_keys(site, job.id) == []


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (full_zip(), "The file is a zip"),
        (QUERIES.encode(), "It looks like a Search Console UI export"),
        (BULK_HEADER.encode(), "a header but no data lines"),
        (gzip.compress((BULK_HEADER + BULK_LINES[7] + BULK_LINES[8]).encode()), "No valid lines: all 2 lines"),
        (b"\x1f\x8bnot gzip at all", "not readable gzip"),
    ],
    ids=["zip", "ui-csv", "header-only", "all-invalid", "bad-gzip"],
)
def test_unusable_bulk_uploads_fail_without_chunks(site, queues, worker, content, reason):
    job = import_file(site, queues, worker, "rows.csv", content, fmt="bulk_export")
    assert job.status == "failed"
    assert reason in (job.failure_reason or "")
    assert chunk_keys(site, job.id) == []
    load_messages(job.id, 0, timeout=1)
