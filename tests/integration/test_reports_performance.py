"""Performance over time through the real api_reports handler, against sums computed here from the loaded rows."""

import csv
import datetime as dt
import io
from collections.abc import Iterable
from typing import Any

import pytest

from shared.dates import utc_today
from shared.reports import performance
from shared.reports.models.base import PerformanceParams
from tests.support.api import ApiClient
from tests.support.reports import ReportSite, expected_measures, load_rows, new_report_site, raw_report, row

D = dt.date
PAGE_A = "https://shop.example/trail"
PAGE_B = "https://shop.example/road"

# Two ISO weeks (Mon 2 to Sun 15 March 2026) and a day of the week before; 7 and 11 March have no data.
ROWS = [
    row(D(2026, 2, 27), "trail shoes", PAGE_A, 4, 40, 3.0),
    *[
        row(D(2026, 3, day), "trail shoes", PAGE_A, day % 4, 10 * day, 2.0 + day / 10, country="usa", device="MOBILE")
        for day in range(2, 16)
        if day not in (7, 11)
    ],
    *[row(D(2026, 3, day), "road shoes", PAGE_B, 1, 5 + day, 8.5, country="gbr") for day in range(4, 14, 3)],
    row(D(2026, 3, 9), "zero impressions", PAGE_B, 0, 0, 0.0, device="TABLET"),
    # A year earlier, for previous_year.
    *[row(D(2025, 3, day), "trail shoes", PAGE_A, 2, 20, 5.0) for day in (2, 3, 10)],
]


@pytest.fixture(scope="module")
def site(platform) -> ReportSite:
    site = new_report_site(platform.owner_url)
    load_rows(site, ROWS)
    return site


@pytest.fixture
def client(site, reports_handler) -> ApiClient:
    return ApiClient(reports_handler, "api_reports", site.tenant_id)


def expected(rows: Iterable[dict[str, Any]], start: D, end: D, **match: str) -> dict[str, Any]:
    selected = [
        r
        for r in rows
        if start.isoformat() <= r["date"] <= end.isoformat() and all(r[k] == v for k, v in match.items())
    ]
    return expected_measures(selected) | {"has_data": bool(selected)}


def measures(item: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    return {name: item[f"{prefix}{name}"] for name in ("clicks", "impressions", "ctr", "position")}


def same(actual: dict[str, Any], wanted: dict[str, Any]) -> bool:
    for name in ("clicks", "impressions"):
        if actual[name] != wanted[name]:
            return False
    for name in ("ctr", "position"):
        if (actual[name] is None) != (wanted[name] is None):
            return False
        if actual[name] is not None and abs(actual[name] - wanted[name]) > 1e-9:
            return False
    return True


def test_daily_points_and_totals(client, site):
    reply = client.get(f"{site.path}/performance", query={"start_date": "2026-03-02", "end_date": "2026-03-15"})
    assert reply.status == 200, reply.raw
    body = reply.json
    days = [D(2026, 3, day) for day in range(2, 16)]
    with_data = [day for day in days if expected(ROWS, day, day)["has_data"]]
    assert [item["period_start"] for item in body["items"]] == [day.isoformat() for day in with_data]
    for item, day in zip(body["items"], with_data, strict=True):
        assert item["period_end"] == day.isoformat()
        assert same(measures(item), expected(ROWS, day, day)), item
    assert same(body["totals"], expected(ROWS, D(2026, 3, 2), D(2026, 3, 15)))
    assert body["total_items"] == len(with_data)
    assert body["next_cursor"] is None
    assert body["coverage"] == {
        "start": "2026-03-02",
        "end": "2026-03-15",
        "first_date": "2026-03-02",
        "last_date": "2026-03-15",
        "provisional_from": None,
        "provisional": False,
        "rollup_pending_days": 0,
    }
    assert body["comparison"] is None
    assert body["compare_totals"] is None


def test_weeks_start_mid_week_and_months(client, site):
    body = client.get(
        f"{site.path}/performance",
        query={"start_date": "2026-02-27", "end_date": "2026-03-15", "granularity": "week"},
    ).json
    ranges = [(D(2026, 2, 27), D(2026, 3, 1)), (D(2026, 3, 2), D(2026, 3, 8)), (D(2026, 3, 9), D(2026, 3, 15))]
    assert [(i["period_start"], i["period_end"]) for i in body["items"]] == [
        (a.isoformat(), b.isoformat()) for a, b in ranges
    ]
    for item, (start, end) in zip(body["items"], ranges, strict=True):
        assert same(measures(item), expected(ROWS, start, end))

    body = client.get(
        f"{site.path}/performance",
        query={"start_date": "2026-02-01", "end_date": "2026-03-31", "granularity": "month"},
    ).json
    months = [(D(2026, 2, 1), D(2026, 2, 28)), (D(2026, 3, 1), D(2026, 3, 31))]
    for item, (start, end) in zip(body["items"], months, strict=True):
        assert (item["period_start"], item["period_end"]) == (start.isoformat(), end.isoformat())
        assert same(measures(item), expected(ROWS, start, end))


def test_previous_period_and_previous_year(client, site):
    body = client.get(
        f"{site.path}/performance",
        query={"start_date": "2026-03-09", "end_date": "2026-03-15", "compare": "previous_period"},
    ).json
    assert body["comparison"]["start"] == "2026-03-02"
    assert body["comparison"]["end"] == "2026-03-08"
    assert same(body["compare_totals"], expected(ROWS, D(2026, 3, 2), D(2026, 3, 8)))
    by_offset = {}
    for offset in range(7):
        current, previous = D(2026, 3, 9 + offset), D(2026, 3, 2 + offset)
        if expected(ROWS, current, current)["has_data"] or expected(ROWS, previous, previous)["has_data"]:
            by_offset[offset] = (current, previous)
    assert len(body["items"]) == len(by_offset)
    for item, (current, previous) in zip(body["items"], by_offset.values(), strict=True):
        if expected(ROWS, current, current)["has_data"]:
            assert item["period_start"] == current.isoformat()
            assert same(measures(item), expected(ROWS, current, current))
        else:  # 11 March has no data; 4 March has
            assert item["period_start"] is None
            assert item["clicks"] is None
        assert item["compare_period_start"] == previous.isoformat()
        assert same(measures(item, "compare_"), expected(ROWS, previous, previous))

    body = client.get(
        f"{site.path}/performance",
        query={"start_date": "2026-03-02", "end_date": "2026-03-15", "compare": "previous_year", "granularity": "week"},
    ).json
    assert (body["comparison"]["start"], body["comparison"]["end"]) == ("2025-03-02", "2025-03-15")
    assert same(body["compare_totals"], expected(ROWS, D(2025, 3, 2), D(2025, 3, 15)))
    # 2025-03-02 was a Sunday: the comparison's buckets are that Sunday, then the weeks from 3 and 10 March.
    compare_ranges = [(i["compare_period_start"], i["compare_period_end"]) for i in body["items"]]
    assert compare_ranges == [("2025-03-02", "2025-03-02"), ("2025-03-03", "2025-03-09"), ("2025-03-10", "2025-03-15")]


def test_country_and_device_filters(client, site):
    for query, match in (
        ({"country": "gbr"}, {"country": "gbr"}),
        ({"device": "MOBILE"}, {"device": "MOBILE"}),
        ({"country": "usa", "device": "TABLET"}, {"country": "usa", "device": "TABLET"}),
    ):
        body = client.get(
            f"{site.path}/performance", query={"start_date": "2026-03-02", "end_date": "2026-03-15", **query}
        ).json
        assert same(body["totals"], expected(ROWS, D(2026, 3, 2), D(2026, 3, 15), **match)), query


def test_rollup_and_raw_agree(site):
    for params in (
        PerformanceParams(
            start_date=D(2026, 2, 1), end_date=D(2026, 3, 31), granularity="week", compare="previous_year"
        ),
        PerformanceParams(start_date=D(2026, 3, 1), end_date=D(2026, 3, 20), country="usa", compare="previous_period"),
        PerformanceParams(start_date=D(2026, 3, 1), end_date=D(2026, 3, 20), device="MOBILE", granularity="month"),
    ):
        rollup = performance.run(site.principal, site.project_id, site.property_id, params)
        raw = raw_report(performance.run, site, params)
        assert rollup.model_dump() == raw.model_dump()


def test_csv_equals_json_and_pages(client, site):
    query = {"start_date": "2026-03-02", "end_date": "2026-03-15", "compare": "previous_period"}
    body = client.get(f"{site.path}/performance", query=query).json
    for reply in (
        client.get(f"{site.path}/performance", query={**query, "format": "csv"}),
        client.call("GET", f"{site.path}/performance", query=query, headers={"accept": "text/csv"}),
    ):
        assert reply.status == 200
        assert reply.headers["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(reply.raw)))
        assert len(rows) == len(body["items"])
        for csv_row, item in zip(rows, body["items"], strict=True):
            assert csv_row == {key: "" if value is None else str(value) for key, value in item.items()}

    first = client.get(f"{site.path}/performance", query={**query, "limit": "5"}).json
    second = client.get(f"{site.path}/performance", query={**query, "limit": "5", "cursor": first["next_cursor"]}).json
    assert first["items"] + second["items"] == body["items"][:10]


def test_default_range_ends_on_the_latest_day(client, site):
    body = client.get(f"{site.path}/performance").json
    assert body["coverage"]["end"] == "2026-03-15"
    assert body["coverage"]["start"] == "2026-02-16"


def test_bad_requests_and_other_tenants(client, site, platform):
    reply = client.get(f"{site.path}/performance", query={"start_date": "2026-03-15", "end_date": "2026-03-01"})
    assert reply.status == 422
    assert "start_date" in reply.raw
    reply = client.get(f"{site.path}/performance", query={"granularity": "hour"})
    assert reply.status == 422
    assert reply.json["errors"][0]["field"] == "granularity"
    other = new_report_site(platform.owner_url)
    assert client.get(f"{other.path}/performance").status == 404  # another tenant's property
    foreign_property = f"/v1/projects/{site.project_id}/properties/{other.property_id}/reports/performance"
    assert client.get(foreign_property).status == 404


def test_provisional_days_and_pending_rollups(client, platform):
    site = new_report_site(platform.owner_url)
    today = utc_today()
    days = [today - dt.timedelta(days=back) for back in range(6, 0, -1)]
    load_rows(site, [row(day, "fresh", PAGE_A, 1, 10, 4.0) for day in days])
    body = ApiClient(client.handler, "api_reports", site.tenant_id).get(f"{site.path}/performance").json
    coverage = body["coverage"]
    assert coverage["last_date"] == days[-1].isoformat()
    assert coverage["provisional_from"] == (today - dt.timedelta(days=3)).isoformat()
    assert coverage["provisional"] is True
    assert coverage["rollup_pending_days"] == 0

    load_rows(site, [row(days[0], "fresh", PAGE_A, 5, 10, 4.0)], rollup=False)
    body = ApiClient(client.handler, "api_reports", site.tenant_id).get(f"{site.path}/performance").json
    assert body["coverage"]["rollup_pending_days"] == 1
