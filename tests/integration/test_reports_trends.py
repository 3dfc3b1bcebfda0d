"""Winners and losers, content decay and tracked keywords through the real api_reports handler.

Expected answers are computed here, in plain Python over the fixture rows. Positions are multiples of 1/4 so
that sums of position x impressions are exact in any order (rollup == raw compares exactly).
"""

import csv
import datetime as dt
import io
import uuid
from collections import defaultdict
from typing import Any

import pytest

from shared.dates import utc_today
from shared.projects.keywords import add_keywords, list_keywords
from shared.projects.models import KeywordIn
from shared.ranks.countries import by_alpha2
from shared.reports import content_decay, tracked_keywords, winners_losers
from shared.reports.common import encode_offset
from shared.reports.models.trends import ContentDecayParams, TrackedKeywordsParams, WinnersLosersParams
from shared.search_console.models import FRESH_DAYS, HISTORY_DAYS
from tests.support.api import ApiClient
from tests.support.reports import ReportSite, load_rows, new_report_site, raw_report, row
from tests.support.reports import expected_measures as _measures

D = dt.date
DAY = dt.timedelta(days=1)
Rows = list[dict[str, Any]]


def client_for(handler: Any, site: ReportSite) -> ApiClient:
    return ApiClient(handler, "api_reports", site.tenant_id)


def in_range(r: dict[str, Any], start: D, end: D) -> bool:
    return start.isoformat() <= r["date"] <= end.isoformat()


def close(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, float) and actual is not None:
        return abs(actual - wanted) <= 1e-9 * max(1.0, abs(wanted))
    return actual == wanted


def assert_items(actual: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> None:
    assert len(actual) == len(wanted), (actual, wanted)
    for got, want in zip(actual, wanted, strict=True):
        assert got.keys() == want.keys()
        for name in want:
            if isinstance(want[name], list) and want[name] and isinstance(want[name][0], dict):
                assert_items(got[name], want[name])
            else:
                assert close(got[name], want[name]), (name, got, want)


def csv_rows(reply_raw: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(reply_raw)))


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "|".join(value)
    return str(value)


def same_pages(client: ApiClient, path: str, query: dict[str, str], limit: int) -> None:
    """Every page of ``limit`` rows, in turn, is the whole report."""
    whole = client.get(path, query=query).json
    items, cursor, pages = [], None, 0
    while True:
        page = client.get(path, query={**query, "limit": str(limit), **({"cursor": cursor} if cursor else {})}).json
        assert page["total_items"] == whole["total_items"]
        items += page["items"]
        cursor, pages = page["next_cursor"], pages + 1
        if cursor is None:
            break
    assert items == whole["items"]
    assert pages == max(1, -(-whole["total_items"] // limit))


# ---------------------------------------------------------------- winners and losers

# Current period Wed 4 to Tue 17 March 2026 (14 days: whole week 9-15 and days at either end),
# previous period Wed 18 February to Tue 3 March.
CUR = (D(2026, 3, 4), D(2026, 3, 17))
PREV = (D(2026, 2, 18), D(2026, 3, 3))
P1, P2, P3, P_NEW = (
    "https://shop.example/a",
    "https://shop.example/b",
    "https://shop.example/c",
    "https://shop.example/new",
)


def _daily(query: str, page: str, days: list[D], clicks: int, impressions: int, position: float, **kw: Any) -> Rows:
    return [row(day, query, page, clicks, impressions, position, **kw) for day in days]


WL_ROWS: Rows = [
    # "boots" grows: 2 clicks a day before, 5 after, over two pages and devices.
    *_daily("boots", P1, [D(2026, 2, 18) + DAY * n for n in range(0, 14, 2)], 2, 20, 3.5),
    *_daily("boots", P1, [D(2026, 3, 4) + DAY * n for n in range(0, 14, 2)], 4, 30, 2.25),
    *_daily("boots", P2, [D(2026, 3, 5), D(2026, 3, 16)], 3, 10, 6.0, device="MOBILE"),
    # "sandals" falls to nothing: only in the previous period (a loser with current 0, position null).
    *_daily("sandals", P2, [D(2026, 2, 20), D(2026, 2, 27), D(2026, 3, 3)], 7, 40, 5.5),
    # "slippers" is new: only in the current period (a winner with previous 0, relative null), on a new page
    # that appears mid-period.
    *_daily("slippers", P_NEW, [D(2026, 3, 12), D(2026, 3, 13), D(2026, 3, 17)], 6, 25, 1.75, country="gbr"),
    # "clogs" and "mules" tie: both +6 clicks (from 12 and 24: relative 0.5 and 0.25).
    *_daily("clogs", P3, [D(2026, 2, 25), D(2026, 3, 1)], 6, 60, 9.0),
    *_daily("clogs", P3, [D(2026, 3, 9), D(2026, 3, 15)], 9, 60, 8.0),
    *_daily("mules", P3, [D(2026, 2, 19)], 24, 100, 4.0),
    *_daily("mules", P3, [D(2026, 3, 10)], 30, 100, 4.5),
    # "heels": zero impressions now (position null), some before: down.
    *_daily("heels", P1, [D(2026, 3, 7)], 0, 0, 0.0, device="TABLET"),
    *_daily("heels", P1, [D(2026, 2, 22)], 1, 16, 12.25),
    # "flats": a small baseline, +400% (left out of relative rankings under min_previous 10).
    *_daily("flats", P2, [D(2026, 2, 26)], 2, 8, 7.0),
    *_daily("flats", P2, [D(2026, 3, 6)], 10, 8, 7.0),
    # "socks" unchanged clicks, more impressions.
    *_daily("socks", P1, [D(2026, 2, 24)], 3, 10, 2.0),
    *_daily("socks", P1, [D(2026, 3, 11)], 3, 50, 2.5),
    # Outside both periods: never counted.
    *_daily("boots", P1, [D(2026, 2, 17), D(2026, 3, 18)], 100, 100, 1.0),
]


@pytest.fixture(scope="module")
def wl_site(platform) -> ReportSite:
    site = new_report_site(platform.owner_url)
    load_rows(site, WL_ROWS)
    return site


def _sums(rows: Rows, dimension: str, start: D, end: D) -> dict[str, dict[str, float]]:
    sums: dict[str, dict[str, float]] = defaultdict(lambda: {"clicks": 0, "impressions": 0, "weighted": 0.0})
    for r in rows:
        if in_range(r, start, end):
            s = sums[r[dimension]]
            s["clicks"] += r["clicks"]
            s["impressions"] += r["impressions"]
            s["weighted"] += r["position"] * r["impressions"]
    return sums


def expected_winners_losers(
    rows: Rows,
    current: tuple[D, D],
    previous: tuple[D, D],
    *,
    dimension: str = "query",
    metric: str = "clicks",
    direction: str = "winners",
    change: str = "absolute",
    min_previous: int = 10,
) -> list[dict[str, Any]]:
    now, before = _sums(rows, dimension, *current), _sums(rows, dimension, *previous)
    zero = {"clicks": 0, "impressions": 0, "weighted": 0.0}
    items = []
    for key in set(now) | set(before):
        c, p = now.get(key, zero), before.get(key, zero)
        delta = c[metric] - p[metric]
        item = {
            "key": key,
            "clicks": c["clicks"],
            "previous_clicks": p["clicks"],
            "impressions": c["impressions"],
            "previous_impressions": p["impressions"],
            "position": c["weighted"] / c["impressions"] if c["impressions"] else None,
            "previous_position": p["weighted"] / p["impressions"] if p["impressions"] else None,
            "change": delta,
            "change_relative": delta / p[metric] if p[metric] else None,
        }
        if (delta > 0 if direction == "winners" else delta < 0) and (change == "absolute" or p[metric] >= min_previous):
            items.append(item)
    rank = "change" if change == "absolute" else "change_relative"
    sign = -1 if direction == "winners" else 1
    return sorted(items, key=lambda i: (sign * i[rank], i["key"]))


def _wl_query(**extra: str) -> dict[str, str]:
    return {"start_date": CUR[0].isoformat(), "end_date": CUR[1].isoformat(), **extra}


def test_winners_and_losers_by_query(reports_handler, wl_site):
    client = client_for(reports_handler, wl_site)
    path = f"{wl_site.path}/winners-losers"
    body = client.get(path, query=_wl_query()).json
    assert body["report"] == "winners-losers"
    assert (body["comparison"]["start"], body["comparison"]["end"]) == ("2026-02-18", "2026-03-03")
    assert (body["coverage"]["start"], body["coverage"]["end"]) == ("2026-03-04", "2026-03-17")
    assert body["comparison"]["first_date"] == "2026-02-18"
    assert body["comparison"]["last_date"] == "2026-03-03"
    wanted = expected_winners_losers(WL_ROWS, CUR, PREV)
    assert_items(body["items"], wanted)
    assert body["total_items"] == len(wanted)
    assert body["next_cursor"] is None
    keys = [item["key"] for item in body["items"]]
    assert keys.index("clogs") == keys.index("mules") - 1  # a tie, by key
    slippers = body["items"][keys.index("slippers")]
    assert slippers["previous_clicks"] == 0
    assert slippers["change_relative"] is None
    assert slippers["previous_position"] is None

    body = client.get(path, query=_wl_query(direction="losers")).json
    wanted = expected_winners_losers(WL_ROWS, CUR, PREV, direction="losers")
    assert_items(body["items"], wanted)
    by_key = {item["key"]: item for item in body["items"]}
    assert by_key["sandals"]["clicks"] == 0
    assert by_key["sandals"]["position"] is None
    assert by_key["sandals"]["change_relative"] == -1.0
    assert by_key["heels"]["impressions"] == 0
    assert by_key["heels"]["position"] is None
    assert "socks" not in by_key  # unchanged clicks: neither


@pytest.mark.parametrize(
    "options",
    [
        {"change": "relative"},
        {"change": "relative", "direction": "losers"},
        {"change": "relative", "min_previous": 1},
        {"metric": "impressions"},
        {"metric": "impressions", "direction": "losers", "change": "relative", "min_previous": 5},
        {"dimension": "page"},
        {"dimension": "page", "direction": "losers", "metric": "impressions"},
        {"dimension": "page", "change": "relative", "min_previous": 1},
    ],
)
def test_winners_and_losers_options(reports_handler, wl_site, options):
    client = client_for(reports_handler, wl_site)
    query = _wl_query(**{name: str(value) for name, value in options.items()})
    body = client.get(f"{wl_site.path}/winners-losers", query=query).json
    wanted = expected_winners_losers(WL_ROWS, CUR, PREV, **options)
    assert_items(body["items"], wanted)
    assert body["total_items"] == len(wanted)


def test_winners_and_losers_relative_leaves_out_small_baselines(reports_handler, wl_site):
    client = client_for(reports_handler, wl_site)
    keys = [
        i["key"] for i in client.get(f"{wl_site.path}/winners-losers", query=_wl_query(change="relative")).json["items"]
    ]
    assert "flats" not in keys
    assert "slippers" not in keys
    query = _wl_query(change="relative", min_previous="1")
    items = client.get(f"{wl_site.path}/winners-losers", query=query).json["items"]
    assert items[0]["key"] == "flats"
    assert items[0]["change_relative"] == 4.0


def test_winners_and_losers_explicit_comparison(reports_handler, wl_site):
    client = client_for(reports_handler, wl_site)
    previous = (D(2026, 2, 24), D(2026, 3, 1))  # one week (Tue to Sun), against two
    query = _wl_query(compare_start_date="2026-02-24", compare_end_date="2026-03-01", direction="losers")
    body = client.get(f"{wl_site.path}/winners-losers", query=query).json
    assert (body["comparison"]["start"], body["comparison"]["end"]) == ("2026-02-24", "2026-03-01")
    assert_items(body["items"], expected_winners_losers(WL_ROWS, CUR, previous, direction="losers"))


def test_winners_and_losers_pages_and_csv(reports_handler, wl_site):
    client = client_for(reports_handler, wl_site)
    path = f"{wl_site.path}/winners-losers"
    same_pages(client, path, _wl_query(), 2)
    same_pages(client, path, _wl_query(direction="losers", dimension="page"), 1)
    body = client.get(path, query=_wl_query()).json
    reply = client.get(path, query=_wl_query(format="csv"))
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/csv")
    assert csv_rows(reply.raw) == [{k: cell(v) for k, v in item.items()} for item in body["items"]]
    # A cursor past the end: no rows, the same total.
    far = client.get(path, query=_wl_query(limit="2", cursor=_cursor(100))).json
    assert far["items"] == []
    assert far["total_items"] == body["total_items"]
    assert far["next_cursor"] is None


def _cursor(offset: int) -> str:
    return encode_offset(offset)


def test_winners_and_losers_rollup_equals_raw(wl_site):
    for params in (
        WinnersLosersParams(start_date=CUR[0], end_date=CUR[1]),
        WinnersLosersParams(start_date=CUR[0], end_date=CUR[1], direction="losers", dimension="page"),
        WinnersLosersParams(
            start_date=CUR[0], end_date=CUR[1], change="relative", min_previous=1, metric="impressions"
        ),
        WinnersLosersParams(
            start_date=D(2026, 3, 9),
            end_date=D(2026, 3, 15),
            compare_start_date=D(2026, 2, 16),
            compare_end_date=D(2026, 3, 8),
            direction="losers",
        ),
        WinnersLosersParams(start_date=CUR[0], end_date=CUR[1], limit=2, cursor=_cursor(2)),
        WinnersLosersParams(),  # default range: the 28 days up to the latest day
    ):
        rollup = winners_losers.run(wl_site.principal, wl_site.project_id, wl_site.property_id, params)
        raw = raw_report(winners_losers.run, wl_site, params)
        assert rollup.model_dump() == raw.model_dump()
        assert rollup.items or params.cursor


def test_winners_and_losers_bad_requests(reports_handler, wl_site, platform):
    client = client_for(reports_handler, wl_site)
    path = f"{wl_site.path}/winners-losers"
    reply = client.get(path, query=_wl_query(compare_start_date="2026-02-01"))
    assert (reply.status, reply.json["field"]) == (400, "compare_end_date"), reply.raw
    reply = client.get(path, query=_wl_query(compare_end_date="2026-02-01"))
    assert reply.status == 400
    assert reply.json["field"] == "compare_start_date"
    reply = client.get(path, query=_wl_query(compare_start_date="2026-02-10", compare_end_date="2026-02-01"))
    assert reply.status == 400
    assert "compare_start_date" in reply.json["detail"]
    for name, value in (
        ("metric", "ctr"),
        ("direction", "up"),
        ("change", "ratio"),
        ("min_previous", "0"),
        ("dimension", "country"),
    ):
        reply = client.get(path, query=_wl_query(**{name: value}))
        assert (reply.status, reply.json["errors"][0]["field"]) == (422, name), reply.raw
    reply = client.get(path, query={"start_date": "2026-03-15", "end_date": "2026-03-01"})
    assert reply.status == 422
    other = new_report_site(platform.owner_url)
    assert client.get(f"{other.path}/winners-losers").status == 404


# ---------------------------------------------------------------- content decay

PAGE_DECAYED = "https://blog.example/decayed"
PAGE_GONE = "https://blog.example/gone"
PAGE_STEADY = "https://blog.example/steady"
PAGE_SMALL = "https://blog.example/small"
PAGE_LAG = "https://blog.example/lag"
PAGE_EDGE = "https://blog.example/edge-of-history"
PAGE_ANCIENT = "https://blog.example/ancient"
PAGE_TIE = "https://blog.example/one-day"


def decay_dates() -> dict[str, D]:
    today = utc_today()
    end = today - dt.timedelta(days=FRESH_DAYS + 1)  # the last final day
    history_start = end - dt.timedelta(days=HISTORY_DAYS - 1)
    return {"today": today, "end": end, "history_start": history_start}


def decay_rows() -> Rows:
    d = decay_dates()
    end, today = d["end"], d["today"]
    rows: Rows = []
    # Peaked about 200 days ago (10 a day for 5 weeks), 1 click every other day now.
    peak = end - dt.timedelta(days=200)
    rows += [row(peak + DAY * n, "decay", PAGE_DECAYED, 10, 100, 3.0) for n in range(35)]
    rows += [row(end - DAY * n, "decay", PAGE_DECAYED, 1, 50, 9.0) for n in range(0, 28, 2)]
    rows += [row(peak + DAY * n, "decay more", PAGE_DECAYED, 2, 10, 5.0, device="MOBILE") for n in range(0, 35, 5)]
    # Peaked 90 days ago, nothing since.
    rows += [row(end - dt.timedelta(days=90) + DAY * n, "gone", PAGE_GONE, 3, 30, 4.0) for n in range(20)]
    # Steady: 2 clicks a day for 20 weeks up to the last day (many tied windows: the latest is the peak).
    rows += [row(end - DAY * n, "steady", PAGE_STEADY, 2, 20, 2.5) for n in range(140)]
    # A small page: peak 15 clicks (under min_peak_clicks 20), none now.
    rows += [row(end - dt.timedelta(days=60) + DAY * n, "small", PAGE_SMALL, 1, 10, 6.0) for n in range(15)]
    # Reporting lag: a modest peak 70 days ago, 3 clicks in the window, but 90 clicks in the fresh days.
    rows += [row(end - dt.timedelta(days=70) + DAY * n, "lag", PAGE_LAG, 2, 10, 1.5) for n in range(28)]
    rows += [row(end - DAY * 10, "lag", PAGE_LAG, 3, 10, 1.5)]
    rows += [row(today - DAY * n, "lag", PAGE_LAG, 30, 60, 1.25) for n in range(1, FRESH_DAYS + 1)]
    # The edge of the history: clicks only in the 3 weeks before the first window that fits in 16 months,
    # on days inside that window (and one day too old for any window).
    first_window_end = next(
        d["history_start"] + DAY * n for n in range(27, 34) if (d["history_start"] + DAY * n).weekday() == 6
    )
    rows += [row(first_window_end - DAY * n, "edge", PAGE_EDGE, 8, 40, 7.0) for n in (9, 16, 27)]
    rows += [row(d["history_start"] - DAY, "edge", PAGE_EDGE, 500, 600, 7.0)]
    # One day of clicks: the four windows holding it tie, the first is the peak.
    rows += [row(end - dt.timedelta(days=120), "one day", PAGE_TIE, 25, 50, 3.0)]
    # Older than 16 months: no window.
    rows += [row(d["history_start"] - DAY * 3, "ancient", PAGE_ANCIENT, 90, 100, 2.0)]
    return rows


def expected_decay(
    rows: Rows, end: D, *, threshold: float = 0.5, min_peak_clicks: int = 20, search_type: str = "web"
) -> list[dict[str, Any]]:
    history_start = end - dt.timedelta(days=HISTORY_DAYS - 1)
    start = end - dt.timedelta(days=27)
    clicks_by_day: dict[str, dict[D, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        if r["search_type"] == search_type:
            clicks_by_day[r["page"]][D.fromisoformat(r["date"])] += r["clicks"]
    sundays = [history_start + DAY * n for n in range(27, HISTORY_DAYS)]
    sundays = [day for day in sundays if day.weekday() == 6 and day <= end]
    items = []
    for page, days in clicks_by_day.items():
        best: tuple[int, D] | None = None
        for sunday in sundays:
            total = sum(c for day, c in days.items() if sunday - dt.timedelta(days=27) <= day <= sunday)
            if best is None or total > best[0]:  # the earliest of tied windows
                best = (total, sunday)
        current = sum(c for day, c in days.items() if start <= day <= end)
        if best and best[0] >= min_peak_clicks and current < threshold * best[0]:
            items.append(
                {
                    "page": page,
                    "clicks": current,
                    "peak_clicks": best[0],
                    "peak_start": (best[1] - dt.timedelta(days=27)).isoformat(),
                    "peak_end": best[1].isoformat(),
                    "ratio": current / best[0],
                    "clicks_lost": best[0] - current,
                }
            )
    return sorted(items, key=lambda i: (-i["clicks_lost"], i["page"]))


@pytest.fixture(scope="module")
def decay_site(platform) -> ReportSite:
    site = new_report_site(platform.owner_url)
    load_rows(site, decay_rows())
    return site


def test_content_decay(reports_handler, decay_site):
    client = client_for(reports_handler, decay_site)
    end = decay_dates()["end"]
    body = client.get(f"{decay_site.path}/content-decay").json
    assert body["report"] == "content-decay"
    assert body["comparison"] is None
    coverage = body["coverage"]
    assert (coverage["start"], coverage["end"]) == ((end - DAY * 27).isoformat(), end.isoformat())
    assert coverage["provisional"] is False
    assert coverage["last_date"] == end.isoformat()
    wanted = expected_decay(decay_rows(), end)
    assert_items(body["items"], wanted)
    pages = [item["page"] for item in body["items"]]
    assert {PAGE_DECAYED, PAGE_GONE, PAGE_LAG, PAGE_EDGE, PAGE_TIE} == set(pages)  # not steady, small or ancient
    by_page = {item["page"]: item for item in body["items"]}
    assert by_page[PAGE_GONE]["clicks"] == 0
    assert by_page[PAGE_GONE]["ratio"] == 0.0
    assert by_page[PAGE_LAG]["clicks"] == 3  # the fresh days' 90 clicks do not count
    assert by_page[PAGE_EDGE]["peak_clicks"] == 24
    tie_day = end - dt.timedelta(days=120)
    assert by_page[PAGE_TIE]["peak_end"] == (tie_day + DAY * (6 - tie_day.weekday())).isoformat()
    assert body["total_items"] == len(wanted)
    assert body["next_cursor"] is None


def test_content_decay_options(reports_handler, decay_site):
    client = client_for(reports_handler, decay_site)
    d = decay_dates()
    path = f"{decay_site.path}/content-decay"
    for query, kwargs in (
        ({"min_peak_clicks": "10"}, {"min_peak_clicks": 10}),
        ({"threshold": "0.99", "min_peak_clicks": "1"}, {"threshold": 0.99, "min_peak_clicks": 1}),
        ({"threshold": "0.1"}, {"threshold": 0.1}),
    ):
        body = client.get(path, query=query).json
        assert_items(body["items"], expected_decay(decay_rows(), d["end"], **kwargs))
    assert PAGE_SMALL in [i["page"] for i in client.get(path, query={"min_peak_clicks": "10"}).json["items"]]
    steady = client.get(path, query={"threshold": "0.99", "min_peak_clicks": "1"}).json["items"]
    assert PAGE_STEADY not in [i["page"] for i in steady]  # its current window is its peak

    # With end_date, the fresh days count (and start_date is ignored).
    last = d["today"] - DAY
    query = {"end_date": last.isoformat(), "start_date": (last - DAY * 3).isoformat()}
    body = client.get(path, query=query).json
    assert (body["coverage"]["start"], body["coverage"]["end"]) == ((last - DAY * 27).isoformat(), last.isoformat())
    assert_items(body["items"], expected_decay(decay_rows(), last))
    assert PAGE_LAG not in [i["page"] for i in body["items"]]

    body = client.get(path, query={"end_date": (d["end"] - dt.timedelta(days=150)).isoformat()}).json
    assert_items(body["items"], expected_decay(decay_rows(), d["end"] - dt.timedelta(days=150)))


def test_content_decay_pages_and_csv(reports_handler, decay_site):
    client = client_for(reports_handler, decay_site)
    path = f"{decay_site.path}/content-decay"
    same_pages(client, path, {}, 1)
    same_pages(client, path, {"min_peak_clicks": "1", "threshold": "0.9"}, 3)
    body = client.get(path).json
    reply = client.call("GET", path, headers={"accept": "text/csv"})
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/csv")
    assert csv_rows(reply.raw) == [{k: cell(v) for k, v in item.items()} for item in body["items"]]


def test_content_decay_rollup_equals_raw(decay_site):
    d = decay_dates()
    for params in (
        ContentDecayParams(),
        ContentDecayParams(min_peak_clicks=1, threshold=0.99),
        ContentDecayParams(end_date=d["today"] - DAY),
        ContentDecayParams(end_date=d["end"] - dt.timedelta(days=150), min_peak_clicks=5),
        ContentDecayParams(limit=1, cursor=_cursor(1)),
    ):
        site = decay_site
        rollup = content_decay.run(site.principal, site.project_id, site.property_id, params)
        raw = raw_report(content_decay.run, site, params)
        assert rollup.model_dump() == raw.model_dump()
        assert rollup.items


def test_content_decay_bad_requests(reports_handler, decay_site, platform):
    client = client_for(reports_handler, decay_site)
    path = f"{decay_site.path}/content-decay"
    for name, value in (("threshold", "1"), ("threshold", "0"), ("min_peak_clicks", "0"), ("search_type", "x")):
        reply = client.get(path, query={name: value})
        assert (reply.status, reply.json["errors"][0]["field"]) == (422, name), reply.raw
    other = new_report_site(platform.owner_url)
    assert client.get(f"{other.path}/content-decay").status == 404
    foreign = f"/v1/projects/{decay_site.project_id}/properties/{other.property_id}/reports/content-decay"
    assert client.get(foreign).status == 404


def test_content_decay_without_data(reports_handler, platform):
    site = new_report_site(platform.owner_url)
    body = client_for(reports_handler, site).get(f"{site.path}/content-decay").json
    assert body["items"] == []
    assert body["total_items"] == 0
    assert body["coverage"]["end"] == decay_dates()["end"].isoformat()


# ---------------------------------------------------------------- tracked keywords

KW_PAGE_1, KW_PAGE_2 = "https://run.example/trail", "https://run.example/guide"
KW_ROWS: Rows = [
    # "trail shoes" over two pages, countries and devices; 6 and 8 March are Friday and Sunday, 9 March a Monday.
    *[row(D(2026, 3, day), "trail shoes", KW_PAGE_1, day % 3, 20 + day, 4.5) for day in range(2, 20)],
    row(D(2026, 3, 6), "trail shoes", KW_PAGE_2, 2, 8, 10.25, country="gbr", device="MOBILE"),
    row(D(2026, 3, 9), "trail shoes", KW_PAGE_2, 0, 0, 0.0, device="TABLET"),
    # Not the keyword: other queries.
    row(D(2026, 3, 6), "trail shoes review", KW_PAGE_2, 50, 100, 2.0),
    row(D(2026, 3, 6), "trail", KW_PAGE_1, 50, 100, 2.0),
    # "road shoes": two days of data, one of them with zero impressions only.
    row(D(2026, 3, 10), "road shoes", KW_PAGE_2, 4, 16, 3.25),
    row(D(2026, 3, 20), "road shoes", KW_PAGE_2, 0, 0, 0.0),
    # "winter boots" only outside the range.
    row(D(2026, 1, 5), "winter boots", KW_PAGE_1, 9, 9, 1.0),
    # Another search type.
    row(D(2026, 3, 10), "road shoes", KW_PAGE_2, 7, 7, 1.0, search_type="image"),
]
KEYWORDS = [
    KeywordIn(text="Trail  Shoes", country="US", device="desktop", tags=["Running"]),
    KeywordIn(text="trail shoes", country="GB", device="mobile", tags=["running", "UK"]),
    KeywordIn(text="road shoes", tags=["road", "Running"]),
    KeywordIn(text="winter boots", tags=["winter"]),
    KeywordIn(text="alpine gaiters"),
]
KW_RANGE = (D(2026, 3, 1), D(2026, 3, 20))


@pytest.fixture(scope="module")
def kw_site(platform) -> ReportSite:
    site = new_report_site(platform.owner_url)
    load_rows(site, KW_ROWS)
    add_keywords(site.principal, site.project_id, KEYWORDS)
    return site


def expected_keywords(
    site: ReportSite,
    rows: Rows,
    start: D,
    end: D,
    *,
    granularity: str = "week",
    tag: str | None = None,
    search_type: str = "web",
) -> list[dict[str, Any]]:
    keywords = list_keywords(
        site.principal, site.project_id, limit=200, cursor=None, tag=None, text_contains=None
    ).items
    if tag:
        keywords = [k for k in keywords if tag in k.tags]
    periods = []
    day = start
    while day <= end:
        last = day if granularity == "day" else min(end, day + DAY * (6 - day.weekday()))
        periods.append((day, last))
        day = last + DAY
    items = []
    for keyword in sorted(keywords, key=lambda k: (k.text, k.id)):
        # the keyword's own market: its country in Search Console's alpha-3 and its device, upper case
        market = (keyword.text, by_alpha2(keyword.country).alpha3.lower(), keyword.device.upper(), search_type)
        matching = [r for r in rows if (r["query"], r["country"], r["device"], r["search_type"]) == market]
        series = []
        for first, last in periods:
            selected = [r for r in matching if in_range(r, first, last)]
            if selected:
                series.append(
                    {"period_start": first.isoformat(), "period_end": last.isoformat(), **_measures(selected)}
                )
        items.append(
            {
                "keyword_id": str(keyword.id),
                "keyword": keyword.text,
                "country": keyword.country,
                "device": keyword.device,
                "tags": keyword.tags,
                **_measures([r for r in matching if in_range(r, start, end)]),
                "series": series,
            }
        )
    return items


def _kw_query(**extra: str) -> dict[str, str]:
    return {"start_date": KW_RANGE[0].isoformat(), "end_date": KW_RANGE[1].isoformat(), **extra}


def test_tracked_keywords(reports_handler, kw_site):
    client = client_for(reports_handler, kw_site)
    body = client.get(f"{kw_site.path}/tracked-keywords", query=_kw_query()).json
    assert body["report"] == "tracked-keywords"
    wanted = expected_keywords(kw_site, KW_ROWS, *KW_RANGE)
    assert_items(body["items"], wanted)
    assert body["total_items"] == 5
    assert body["next_cursor"] is None
    assert [i["keyword"] for i in body["items"]] == [
        "alpine gaiters",
        "road shoes",
        "trail shoes",
        "trail shoes",
        "winter boots",
    ]
    by_country = {i["country"]: i for i in body["items"] if i["keyword"] == "trail shoes"}
    # like for like: GB mobile is the one gbr MOBILE row; US desktop the usa DESKTOP rows (not the TABLET one)
    assert (by_country["GB"]["clicks"], by_country["GB"]["impressions"]) == (2, 8)
    assert by_country["GB"]["position"] == 10.25
    us_desktop = [
        r for r in KW_ROWS if r["query"] == "trail shoes" and r["device"] == "DESKTOP" and r["country"] == "usa"
    ]
    assert (
        by_country["US"]["impressions"]
        == sum(r["impressions"] for r in us_desktop)
        == sum(20 + d for d in range(2, 20))
    )
    assert body["items"][0]["series"] == []
    assert body["items"][0]["clicks"] == 0
    assert body["items"][0]["ctr"] is None
    assert body["items"][4]["series"] == []
    assert body["items"][4]["impressions"] == 0
    road = body["items"][1]["series"]
    assert [p["period_start"] for p in road] == ["2026-03-09", "2026-03-16"]
    assert road[1]["impressions"] == 0
    assert road[1]["position"] is None
    assert road[1]["ctr"] is None


def test_tracked_keywords_options(reports_handler, kw_site):
    client = client_for(reports_handler, kw_site)
    path = f"{kw_site.path}/tracked-keywords"
    cases: list[tuple[dict[str, str], dict[str, Any], tuple[D, D]]] = [
        ({"granularity": "day"}, {"granularity": "day"}, KW_RANGE),
        ({"tag": "running"}, {"tag": "running"}, KW_RANGE),
        ({"tag": " UK "}, {"tag": "uk"}, KW_RANGE),
        ({"tag": "none-such"}, {"tag": "none-such"}, KW_RANGE),
        ({"search_type": "image"}, {"search_type": "image"}, KW_RANGE),
        ({"start_date": "2026-03-04", "end_date": "2026-03-12"}, {}, (D(2026, 3, 4), D(2026, 3, 12))),
    ]
    for query, kwargs, (start, end) in cases:
        body = client.get(path, query=_kw_query(**query)).json
        wanted = expected_keywords(kw_site, KW_ROWS, start, end, **kwargs)
        assert_items(body["items"], wanted)
        assert body["total_items"] == len(wanted)
    assert client.get(path, query=_kw_query(tag="uk")).json["total_items"] == 1


def test_tracked_keywords_pages_and_csv(reports_handler, kw_site):
    client = client_for(reports_handler, kw_site)
    path = f"{kw_site.path}/tracked-keywords"
    same_pages(client, path, _kw_query(), 2)
    same_pages(client, path, _kw_query(tag="running", granularity="day"), 1)
    body = client.get(path, query=_kw_query()).json
    reply = client.get(path, query=_kw_query(format="csv"))
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/csv")
    wanted = []
    for item in body["items"]:
        base = {k: cell(v) for k, v in item.items() if k != "series"}
        points = item["series"] or [
            dict.fromkeys(("period_start", "period_end", "clicks", "impressions", "ctr", "position"))
        ]
        wanted += [base | {f"series.{k}": cell(v) for k, v in point.items()} for point in points]
    assert csv_rows(reply.raw) == wanted
    assert len(wanted) > len(body["items"])


def test_tracked_keywords_rollup_equals_raw(kw_site):
    for params in (
        TrackedKeywordsParams(start_date=KW_RANGE[0], end_date=KW_RANGE[1]),
        TrackedKeywordsParams(start_date=KW_RANGE[0], end_date=KW_RANGE[1], granularity="day", tag="running"),
        TrackedKeywordsParams(start_date=D(2026, 1, 1), end_date=D(2026, 3, 31), limit=2, cursor=_cursor(2)),
        TrackedKeywordsParams(),
    ):
        site = kw_site
        rollup = tracked_keywords.run(site.principal, site.project_id, site.property_id, params)
        raw = raw_report(tracked_keywords.run, site, params)
        assert rollup.model_dump() == raw.model_dump()
        assert any(item.series for item in rollup.items)


def test_tracked_keywords_bad_requests(reports_handler, kw_site, platform):
    client = client_for(reports_handler, kw_site)
    path = f"{kw_site.path}/tracked-keywords"
    for name, value in (("granularity", "month"), ("tag", ""), ("limit", "0")):
        reply = client.get(path, query={name: value})
        assert (reply.status, reply.json["errors"][0]["field"]) == (422, name), reply.raw
    reply = client.get(path, query={"cursor": "nonsense"})
    assert reply.status == 400
    other = new_report_site(platform.owner_url)
    assert client.get(f"{other.path}/tracked-keywords").status == 404
    other_client = client_for(reports_handler, other)
    assert other_client.get(path).status == 404  # kw_site's property, asked by another tenant
    assert uuid.UUID(client.get(path).json["property_id"]) == kw_site.property_id
