"""Search Console export files as Search Console writes them: the UI export's CSVs and zip, a bulk export.

Shared by the parsing unit tests (tests/unit/test_gsc_export_files.py) and the end-to-end imports
through file_import (tests/integration/test_gsc_exports.py).
"""

import datetime as dt
import io
import zipfile
from typing import Any

from shared.jobs.models import JobErrors
from tests.support.reports import row

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


def bulk_row(date, search_type, query, page, country, device, clicks, impressions, sum_position) -> dict[str, Any]:
    """A summed bulk-export row as its chunk holds it (the export's positions are zero-based sums)."""
    return row(
        date,
        query,
        page,
        clicks,
        impressions,
        sum_position / impressions + 1,
        country=country,
        device=device,
        search_type=search_type,
    )


BULK_ROWS = [
    bulk_row("2024-03-01", "web", "acme", "https://www.acme.com/", "usa", "DESKTOP", 25, 150, 50),
    bulk_row("2024-03-01", "web", "", "https://www.acme.com/running/", "deu", "MOBILE", 1, 50, 250),
    bulk_row(
        "2024-03-02", "image", "running shoes", "https://www.acme.com/running/", "gbr", "TABLET", 3, 1200, 10800.5
    ),
    bulk_row("2024-03-02", "googleNews", "acme", "https://www.acme.com/", "usa", "DESKTOP", 1, 10, 5),
]


def by_key(rows):
    return sorted(rows, key=lambda row: (row["date"], row["search_type"], row["query"], row["page"], row["device"]))


def errors_by_line(errors) -> dict[int, str]:
    items = errors.items if isinstance(errors, JobErrors) else errors
    return {error["line"]: error["reason"] for error in items}
