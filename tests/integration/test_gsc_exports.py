"""Search Console exports through file_import: UI exports become snapshots, bulk exports become row chunks.

Parsing is tested directly on bytes (tests/unit/test_gsc_export_files.py); the end-to-end cases upload through the
presigned URL, receive the S3 notification from a real queue and run the real
file_import handler, then read the database, the chunks bucket and the
gsc_ingest queue.
"""

import datetime as dt
import gzip
import json
import time
import uuid
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
from shared.search_console import progress
from shared.search_console.exports import importer
from shared.search_console.models import GscExportImportIn, LoadChunkMessage
from shared.search_console.tables import GscExportSnapshot, GscRow
from shared.settings import IngestQueue, settings_of
from tests.integration.conftest import CHUNKS_BUCKET
from tests.support.gsc_exports import (
    BULK_CSV,
    BULK_ERRORS,
    BULK_HEADER,
    BULK_LINES,
    BULK_ROWS,
    DATES,
    FILTERS_CUSTOM,
    FILTERS_RELATIVE,
    PAGES,
    QUERIES,
    REPORT_FILES,
    SITE,
    TODAY,
    by_key,
    errors_by_line,
    full_zip,
    ui_zip,
)
from tests.support.queues import (
    create_worker_queues,
    deliver,
    notify_on_uploads,
    put_presigned,
    receive,
    s3,
    sqs,
    worker_handler,
)
from tests.support.tenants import new_tenant

UPLOADS_BUCKET = "kestrel-test-gsc-exports"  # its own bucket: its notifications go to this module's queue
REPORT_OF_FILE = {
    "Queries.csv": "queries",
    "Pages.csv": "pages",
    "Countries.csv": "countries",
    "Devices.csv": "devices",
    "Search appearance.csv": "search_appearance",
    "Dates.csv": "dates",
}


# ---------------------------------------------------------------- end to end through file_import
@pytest.fixture(scope="module")
def queues(platform):
    queues = create_worker_queues(f"gsc-exports-{uuid.uuid4().hex[:6]}", max_receive_count=5)
    notify_on_uploads(UPLOADS_BUCKET, queues)
    return queues


@pytest.fixture(scope="module")
def worker(queues):
    with worker_handler("file_import", queues, uploads_bucket=UPLOADS_BUCKET) as handler:
        yield handler


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
    queue_url = settings_of(IngestQueue).gsc_ingest_queue_url
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


# A German UI's export as a German spreadsheet re-saves it: German file names and headers, semicolons,
# decimal commas, dots grouping thousands, "12,34 %"; Filters.csv in German with a custom range.
GERMAN_FILES = {
    "Suchanfragen.csv": (
        "Häufigste Suchanfragen;Klicks;Impressionen;CTR;Position\n"
        "laufschuhe;1.234;10.000;12,34 %;3,4\n"
        '"trailschuhe; wasserdicht";41;2.980;1,38 %;6,2\n'
    ),
    "Seiten.csv": "Häufigste Seiten;Klicks;Impressionen;CTR;Position\nhttps://www.acme.com/;905;8.120;11,15 %;2,3\n",
    "Länder.csv": "Land;Klicks;Impressionen;CTR;Position\nDeutschland;700;12.000;5,83 %;4,1\n",
    "Geräte.csv": "Gerät;Klicks;Impressionen;CTR;Position\nMobilgerät;400;12.000;3,33 %;5,2\n",
    "Diagramm.csv": (
        "Datum;Klicks;Impressionen;CTR;Position\n31.03.2024;25;640;3,91 %;5,4\n02.03.2024;30;700;4,29 %;5,1\n"
    ),
    "Filter.csv": "Filter;Wert\nSuchtyp;Bilder\nDatum;01.03.2024 - 31.03.2024\n",
}


def test_a_german_export_is_imported_like_an_english_one(site, queues, worker):
    job = import_file(site, queues, worker, "acme-leistung.zip", ui_zip(GERMAN_FILES, folder="acme.com-Leistung/"))
    assert job.status == "succeeded", job.failure_reason
    assert (job.counters["files"], job.counters["snapshots"], job.counters["rows_rejected"]) == (6, 7, 0)
    stored = snapshots_of(site.tenant_id, site.property_id)
    march = (dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    assert stored[("queries", "laufschuhe", *march, "image")][:4] == (1234, 10000, round(1234 / 10000, 6), 3.4)
    assert stored[("queries", "trailschuhe; wasserdicht", *march, "image")][:2] == (41, 2980)
    assert stored[("pages", "https://www.acme.com/", *march, "image")][:2] == (905, 8120)
    assert stored[("countries", "Deutschland", *march, "image")][:2] == (700, 12000)
    assert stored[("dates", "2024-03-02", dt.date(2024, 3, 2), dt.date(2024, 3, 2), "image")][:2] == (30, 700)


def test_an_export_in_an_unknown_language_fails_naming_its_header(site, queues, worker):
    turkish = "En popüler sorgular,T\u0131klama,Görüntüleme,CTR,Ortalama konum\nayakkab\u0131,1,10,10%,2\n"
    job = import_file(
        site, queues, worker, "Sorgular.csv", turkish.encode(), range_start="2024-03-01", range_end="2024-03-31"
    )
    assert job.status == "failed"
    assert "not a Search Console performance report in a UI language Kestrel reads" in (job.failure_reason or "")
    assert "En popüler sorgular,T\u0131klama,Görüntüleme,CTR,Ortalama konum" in (job.failure_reason or "")
    assert snapshots_of(site.tenant_id, site.property_id) == {}


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


def test_a_bulk_split_shows_its_progress_before_it_ends(site, queues, worker, monkeypatch):
    monkeypatch.setattr(importer, "CHUNK_ROWS", 1)
    monkeypatch.setattr(importer, "SPLIT_PROGRESS_SECONDS", 0)  # a report after every batch and chunk
    monkeypatch.setattr(importer, "READING_SHARE", 60)
    seen: list[tuple[int, dict[str, Any]]] = []
    report = importer._SplitProgress.report

    def report_and_look(self, percent, counters):
        report(self, percent, counters)
        job = job_of(site, self.key.job_id)
        seen.append((job.progress_percent, dict(job.counters)))

    monkeypatch.setattr(importer._SplitProgress, "report", report_and_look)
    data = BULK_CSV.encode()
    job = import_file(site, queues, worker, "rows.csv", data, fmt="bulk_export")
    assert job.status == "running"
    reading, *writing = seen  # one batch of lines, then a report after each chunk
    assert reading == (
        30,  # the split is half the job: 60% of the split (the file read whole) is 30% of the job
        reading[1] | {"bytes_read": len(data), "lines": 10, "rows_rejected": 4, "split_percent": 60},
    )
    assert "split_complete" not in reading[1]
    # 4 summed rows of the 6 read: a chunk of one row is 40% / 6 of the split more each
    assert [percent for percent, _ in writing] == [33, 36, 40, 43]
    assert job.progress_percent == 50  # split: the chunks are left to load
    assert job.progress is not None
    assert (job.progress.bytes_total, job.progress.bytes_read, job.progress.lines_read) == (len(data),) * 2 + (10,)


def test_a_bulk_job_cancelled_while_its_file_is_read_writes_no_chunk(site, queues, worker, monkeypatch):
    monkeypatch.setattr(importer, "SPLIT_PROGRESS_SECONDS", 0)
    report = importer._SplitProgress.report

    def cancel_then_report(self, percent, counters):
        with tenant_transaction(site.tenant_id) as session:
            assert progress.cancel(session, self.key.job_id)
        report(self, percent, counters)

    monkeypatch.setattr(importer._SplitProgress, "report", cancel_then_report)
    job_id = upload(site, "rows.csv", BULK_CSV.encode(), fmt="bulk_export").id
    assert deliver(worker, receive(queues.url, 1), queues, function_name="file_import") == set()
    assert job_of(site, job_id).status == "cancelled"
    assert chunk_keys(site, job_id) == []
    load_messages(job_id, 0, timeout=1)


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
