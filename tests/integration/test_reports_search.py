"""Breakdown, striking distance, CTR opportunities and cannibalization through the real api_reports handler.

Every expected number is computed here from ``ROWS`` by plain Python (the
reports' definitions, not their code). Positions are multiples of 1/4, so
every sum is exact and the rollup and raw ``gsc_rows`` give identical reports.
"""

import csv
import datetime as dt
import io
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from pydantic import BaseModel

from shared.crawl.tables import CrawledPage
from shared.db import tenant_transaction
from shared.reports.common import encode_offset
from shared.reports.models.search import (
    BreakdownParams,
    CannibalizationParams,
    CtrOpportunitiesParams,
    StrikingDistanceParams,
)
from shared.reports.registry import REPORTS
from shared.runtime.openapi import build_document
from tests.support.api import ApiClient, Reply
from tests.support.reports import ReportSite, load_rows, new_report_site, raw_report, row
from tests.support.reports import expected_measures as measures

D = dt.date
Row = dict[str, Any]

HOME = "https://shop.example/"
TRAIL = "https://shop.example/trail"
ROAD = "https://shop.example/road"
NEW = "https://shop.example/new"  # first seen on 12 March
BLOG = "https://shop.example/blog/Trail-Guide"
BRAND_TERMS = ["acme"]

# 4 March 2026 is a Wednesday, 20 March a Friday: days 4-8 and 16-20 come from the daily aggregates,
# the ISO week of 9-15 March from the weekly one.
START, END = D(2026, 3, 4), D(2026, 3, 20)
RANGE = {"start_date": START.isoformat(), "end_date": END.isoformat()}


def march(day: int) -> D:
    return D(2026, 3, day)


ROWS = [
    # trail shoes: three pages, /new from 12 March; a row without impressions beside the others.
    *[row(march(d), "trail shoes", TRAIL, d % 5, 20 + d, 3.25) for d in range(1, 26)],
    *[row(march(d), "trail shoes", BLOG, 1, 10, 8.25, country="gbr", device="MOBILE") for d in range(2, 26, 2)],
    *[row(march(d), "trail shoes", NEW, 2, 15, 6.0, device="MOBILE") for d in range(12, 26)],
    row(march(9), "trail shoes", TRAIL, 0, 0, 0.0, device="TABLET"),
    # road shoes: its page in two countries, and the home page on odd days.
    *[row(march(d), "road shoes", ROAD, d % 3, 30, 5.5) for d in range(1, 26)],
    *[row(march(d), "road shoes", ROAD, 0, 5, 9.0, country="gbr", device="TABLET") for d in range(1, 26)],
    *[row(march(d), "road shoes", HOME, 1, 12, 4.0) for d in range(1, 26, 2)],
    # hiking shoes: the home page dominates; without it, /trail and /new share the query.
    *[row(march(d), "hiking shoes", HOME, 6, 60, 2.0, country="deu") for d in range(3, 22)],
    *[row(march(d), "hiking shoes", TRAIL, 1, 12, 9.0, country="deu") for d in range(3, 22)],
    *[row(march(d), "hiking shoes", NEW, 0, 8, 11.0, country="deu") for d in range(12, 22)],
    # brand queries (the project's brand term is "acme"; matching ignores case).
    *[row(march(d), "acme shoes", HOME, 10, 40, 1.25) for d in range(1, 26)],
    *[row(march(d), "ACME boots", ROAD, 0, 8, 12.75, device="MOBILE") for d in range(3, 26, 3)],
    # no clicks at position 15.75; far beyond position 20 (the curve's last bucket).
    *[row(march(d), "running shoes", TRAIL, 0, 25, 15.75) for d in range(1, 26)],
    *[row(march(d), "far query", BLOG, int(d == 6), 50, 35.0) for d in range(4, 9)],
    # two queries with the same totals, each on two pages with the same impressions.
    row(march(10), "tie b", TRAIL, 3, 60, 7.0),
    row(march(10), "tie b", BLOG, 0, 60, 7.0),
    row(march(10), "tie a", TRAIL, 0, 60, 7.0),
    row(march(10), "tie a", ROAD, 3, 60, 7.0),
    # LIKE wildcards in filters are literal.
    row(march(5), "sale 50% off", ROAD, 1, 4, 3.0),
    row(march(10), "zero query", ROAD, 0, 0, 0.0),
    # another search type.
    *[row(march(d), "trail shoes", TRAIL, 1, 6, 2.0, search_type="image") for d in range(4, 21, 4)],
    # February: one position with clicks, too few for a CTR curve.
    row(D(2026, 2, 10), "lonely", TRAIL, 1, 10, 2.0),
]

CRAWLED = {
    TRAIL: ("Trail Shoes for Every Runner", None),
    ROAD: ("Road running", "Road SHOES"),
    HOME: ("Acme", "Acme shoes and boots"),
}


@pytest.fixture(scope="module")
def site(platform) -> ReportSite:
    site = new_report_site(platform.owner_url, brand_terms=BRAND_TERMS)
    load_rows(site, ROWS)
    with tenant_transaction(site.tenant_id) as session:
        for url, (title, h1) in CRAWLED.items():
            session.add(CrawledPage(tenant_id=site.tenant_id, project_id=site.project_id, url=url, title=title, h1=h1))
    return site


@pytest.fixture
def client(site, reports_handler) -> ApiClient:
    return ApiClient(reports_handler, "api_reports", site.tenant_id)


# Independent computation over ROWS


def selected(start: D = START, end: D = END, search_type: str | None = "web") -> list[Row]:
    return [
        r
        for r in ROWS
        if start.isoformat() <= r["date"] <= end.isoformat()
        and (search_type is None or r["search_type"] == search_type)
    ]


def group(rows: Iterable[Row], key: Callable[[Row], Any]) -> dict[Any, list[Row]]:
    groups: dict[Any, list[Row]] = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    return groups


def is_brand(query: str) -> bool:
    return any(term.lower() in query.lower() for term in BRAND_TERMS)


def same(actual: Any, wanted: Any) -> bool:
    """Equal, floats to 1e-9 (relative), through dicts and lists."""
    if isinstance(wanted, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == wanted.keys()
            and all(same(actual[k], wanted[k]) for k in wanted)
        )
    if isinstance(wanted, list):
        return isinstance(actual, list) and len(actual) == len(wanted) and all(map(same, actual, wanted))
    if isinstance(wanted, float) and not isinstance(actual, bool) and isinstance(actual, int | float):
        return math.isclose(actual, wanted, rel_tol=1e-9, abs_tol=1e-12)
    return actual == wanted and type(actual) is type(wanted)


def by_measure(items: list[dict[str, Any]], sort: str = "clicks", order: str = "desc") -> list[dict[str, Any]]:
    """Sorted by a measure (without one: last), ties by key in code point order."""
    sign = -1 if order == "desc" else 1
    return sorted(items, key=lambda i: (i[sort] is None, sign * (i[sort] or 0), i["key"]))


def breakdown_expected(
    dimension: str = "query",
    *,
    keep: Callable[[Row], bool] = lambda r: True,
    segment: str = "all",
    sort: str = "clicks",
    order: str = "desc",
) -> list[dict[str, Any]]:
    rows = [r for r in selected(search_type=None if dimension == "search_type" else "web") if keep(r)]
    if segment != "all":
        rows = [r for r in rows if is_brand(r["query"]) == (segment == "brand")]

    def key(r: Row) -> str:
        if dimension == "brand":
            return "brand" if is_brand(r["query"]) else "non_brand"
        return str(r[dimension])

    items = [
        {"key": k, **measures(rs), "brand": is_brand(k) if dimension == "query" else None}
        for k, rs in group(rows, key).items()
    ]
    return by_measure(items, sort, order)


def pages_of(rows: list[Row]) -> dict[str, dict[str, Any]]:
    return {page: measures(rs) for page, rs in group(rows, lambda r: r["page"]).items()}


def contains(text: str | None, query: str) -> bool | None:
    return None if text is None else query.lower() in text.lower()


def striking_expected(
    min_position: float = 4, max_position: float = 20, min_impressions: int = 100
) -> list[dict[str, Any]]:
    items = []
    for query, rows in group(selected(), lambda r: r["query"]).items():
        total = measures(rows)
        if not total["impressions"] or total["impressions"] < min_impressions:
            continue
        if not min_position <= total["position"] <= max_position:
            continue
        pages = pages_of(rows)
        page = min(pages, key=lambda p: (-pages[p]["impressions"], p))
        title, h1 = CRAWLED.get(page, (None, None))
        items.append(
            {
                "query": query,
                **total,
                "page": page,
                "page_clicks": pages[page]["clicks"],
                "page_impressions": pages[page]["impressions"],
                "page_position": pages[page]["position"],
                "in_title": contains(title, query),
                "in_h1": contains(h1, query),
            }
        )
    return sorted(items, key=lambda i: (-i["impressions"], i["query"]))


def ctr_expected(
    start: D = START, end: D = END, level: str = "query", min_impressions: int = 100
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    rows = selected(start, end)
    buckets: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for pair in group(rows, lambda r: (r["query"], r["page"])).values():
        m = measures(pair)
        if m["impressions"]:
            bucket = min(20, max(1, math.floor(m["position"] + 0.5)))
            buckets[bucket][0] += m["clicks"]
            buckets[bucket][1] += m["impressions"]
    usable = [(p, c, i) for p, (c, i) in buckets.items() if c > 0]
    if len(usable) < 2:
        return None, []
    # Weighted least squares, in its centred form.
    total_weight = sum(i for _, _, i in usable)
    x_mean = sum(i * math.log(p) for p, _, i in usable) / total_weight
    y_mean = sum(i * math.log(c / i) for p, c, i in usable) / total_weight
    b = sum(i * (math.log(p) - x_mean) * (math.log(c / i) - y_mean) for p, c, i in usable) / sum(
        i * (math.log(p) - x_mean) ** 2 for p, _, i in usable
    )
    a = y_mean - b * x_mean

    def expected(position: float) -> float:
        return min(1.0, math.exp(a) * position**b)

    curve = {
        "a": a,
        "b": b,
        "points": [
            {"position": p, "impressions": i, "clicks": c, "observed_ctr": c / i, "expected_ctr": expected(p)}
            for p, (c, i) in sorted(buckets.items())
        ],
    }
    keys = {"query": ("query",), "page": ("page",), "query_page": ("query", "page")}[level]
    items = []
    for key, rs in group(rows, lambda r: tuple(r[k] for k in keys)).items():
        m = measures(rs)
        if not m["impressions"] or m["impressions"] < min_impressions:
            continue
        extra = expected(m["position"]) * m["impressions"] - m["clicks"]
        if extra > 0:
            names = dict(zip(keys, key, strict=True))
            items.append(
                {
                    "query": names.get("query"),
                    "page": names.get("page"),
                    **m,
                    "expected_ctr": expected(m["position"]),
                    "extra_clicks": extra,
                }
            )
    return curve, sorted(items, key=lambda i: (-i["extra_clicks"], i["query"] or "", i["page"] or ""))


def cannibalization_expected(
    min_share: float = 0.1, min_impressions: int = 100, exclude_homepage: bool = False, min_pages: int = 2
) -> list[dict[str, Any]]:
    rows = [r for r in selected() if not (exclude_homepage and re.fullmatch(r"https?://[^/]+/?", r["page"]))]
    items = []
    for query, rs in group(rows, lambda r: r["query"]).items():
        total = measures(rs)
        if not total["impressions"] or total["impressions"] < min_impressions:
            continue
        pages = [
            {"page": page, "clicks": m["clicks"], "impressions": m["impressions"]}
            | {"share": m["impressions"] / total["impressions"], "position": m["position"]}
            for page, m in pages_of(rs).items()
            if m["impressions"] / total["impressions"] >= min_share
        ]
        if len(pages) >= min_pages:
            pages.sort(key=lambda p: (-p["impressions"], p["page"]))
            items.append(
                {"query": query, **{k: total[k] for k in ("clicks", "impressions", "position")}, "pages": pages}
            )
    return sorted(items, key=lambda i: (-i["impressions"], i["query"]))


def get(client: ApiClient, site: ReportSite, report: str, **query: Any) -> dict[str, Any]:
    reply = client.get(
        f"{site.path}/{report}", query={**RANGE, "limit": "5000", **{k: str(v) for k, v in query.items()}}
    )
    assert reply.status == 200, reply.raw
    return reply.json


def rejected_field(reply: Reply) -> str | None:
    """The field a 422 names (None for any other answer)."""
    return reply.json["errors"][0]["field"] if reply.status == 422 else None


# Breakdown


def test_breakdown_by_query_page_and_brand(client, site):
    body = get(client, site, "breakdown")
    assert same(body["items"], breakdown_expected())
    assert body["total_items"] == len(body["items"])
    assert body["next_cursor"] is None
    assert body["coverage"]["start"] == START.isoformat()
    assert body["coverage"]["last_date"] == END.isoformat()
    keys = [item["key"] for item in body["items"]]
    assert keys.index("tie a") + 1 == keys.index("tie b")  # same clicks: by key
    zero = next(item for item in body["items"] if item["key"] == "zero query")
    assert zero == {"key": "zero query", "clicks": 0, "impressions": 0, "ctr": None, "position": None, "brand": False}
    assert next(item for item in body["items"] if item["key"] == "ACME boots")["brand"] is True

    assert same(get(client, site, "breakdown", dimension="page")["items"], breakdown_expected("page"))
    body = get(client, site, "breakdown", dimension="brand")
    assert [item["key"] for item in body["items"]] == ["non_brand", "brand"]
    assert same(body["items"], breakdown_expected("brand"))


def test_breakdown_by_country_device_and_search_type(client, site):
    for dimension in ("country", "device", "search_type"):
        body = get(client, site, "breakdown", dimension=dimension)
        assert same(body["items"], breakdown_expected(dimension)), dimension
    keys = {item["key"] for item in get(client, site, "breakdown", dimension="search_type")["items"]}
    assert keys == {"web", "image"}  # every search type, whatever search_type says


@pytest.mark.parametrize(
    ("name", "value", "keep"),
    [
        ("query_contains", "SHOES", lambda r: "shoes" in r["query"].lower()),
        ("query_contains", "50%", lambda r: "50%" in r["query"]),
        ("query_contains", "_", lambda r: False),  # LIKE's "any character": literal here
        ("query_not_contains", "Shoes", lambda r: "shoes" not in r["query"].lower()),
        ("query_regex", "^(trail|tie) ", lambda r: re.search("^(trail|tie) ", r["query"]) is not None),
        ("query_regex", "^acme", lambda r: r["query"].startswith("acme")),
        ("query_exact", "ACME boots", lambda r: r["query"] == "ACME boots"),
        ("query_exact", "acme boots", lambda r: False),  # exact: case matters
        ("page_contains", "TRAIL", lambda r: "trail" in r["page"].lower()),
        ("page_not_contains", "/blog/", lambda r: "/blog/" not in r["page"]),
        ("page_regex", "/(road|trail)$", lambda r: re.search("/(road|trail)$", r["page"]) is not None),
        ("page_regex", "trail-guide", lambda r: False),  # regex: case matters
        ("page_exact", HOME, lambda r: r["page"] == HOME),
    ],
)
def test_breakdown_text_filters(client, site, name, value, keep):
    for dimension in ("query", "page"):
        wanted = breakdown_expected(dimension, keep=keep)
        body = get(client, site, "breakdown", dimension=dimension, **{name: value})
        assert same(body["items"], wanted), (dimension, body["items"])
        assert wanted != breakdown_expected(dimension)  # the filter leaves something out


def test_breakdown_filters_combine_and_segments(client, site):
    body = get(client, site, "breakdown", query_contains="shoes", page_not_contains="trail", page_regex="/$")
    assert same(
        body["items"],
        breakdown_expected(
            keep=lambda r: "shoes" in r["query"] and "trail" not in r["page"].lower() and r["page"] == HOME
        ),
    )
    assert [item["key"] for item in body["items"]] == ["acme shoes", "hiking shoes", "road shoes"]
    for segment in ("brand", "non_brand"):
        for dimension in ("query", "page", "brand"):
            body = get(client, site, "breakdown", dimension=dimension, segment=segment)
            assert same(body["items"], breakdown_expected(dimension, segment=segment)), (segment, dimension)
    assert [i["key"] for i in get(client, site, "breakdown", segment="brand")["items"]] == ["acme shoes", "ACME boots"]


def test_breakdown_sorts(client, site):
    for sort in ("clicks", "impressions", "ctr", "position"):
        for order in ("desc", "asc"):
            body = get(client, site, "breakdown", sort=sort, order=order)
            wanted = breakdown_expected(sort=sort, order=order)
            assert [i["key"] for i in body["items"]] == [i["key"] for i in wanted], (sort, order)
            assert body["items"][-1]["key"] == "zero query" or sort in ("clicks", "impressions")  # nulls last
    ascending = [i["key"] for i in get(client, site, "breakdown", sort="impressions", order="asc")["items"]]
    assert ascending[:2] == ["zero query", "sale 50% off"]


def test_breakdown_pages(client, site):
    everything = get(client, site, "breakdown")["items"]
    seen, cursor = [], None
    while True:
        query = {**RANGE, "limit": "4"} | ({"cursor": cursor} if cursor else {})
        body = client.get(f"{site.path}/breakdown", query=query).json
        assert body["total_items"] == len(everything)
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == everything
    body = client.get(f"{site.path}/breakdown", query={**RANGE, "cursor": encode_offset(1000)}).json
    assert body["items"] == []
    assert body["total_items"] == len(everything)
    assert body["next_cursor"] is None


def test_breakdown_bad_requests(client, site):
    path = f"{site.path}/breakdown"
    for query, field in (
        ({"dimension": "region"}, "dimension"),
        ({"sort": "name"}, "sort"),
        ({"order": "up"}, "order"),
        ({"segment": "brands"}, "segment"),
        ({"query_contains": "x" * 501}, "query_contains"),
        ({"page_regex": "x" * 501}, "page_regex"),
    ):
        reply = client.get(path, query={**RANGE, **query})
        assert rejected_field(reply) == field, reply.raw
    for query, words in (
        ({"dimension": "country", "query_contains": "shoes"}, ["query_contains", "country"]),
        ({"dimension": "device", "page_exact": HOME}, ["page_exact", "device"]),
        ({"dimension": "search_type", "segment": "brand"}, ["segment", "search_type"]),
        ({"query_regex": "(unclosed"}, ["query_regex", "regular expression"]),
        ({"page_regex": "a{2,1}"}, ["page_regex", "regular expression"]),
        ({"cursor": "not-a-cursor"}, ["cursor"]),
    ):
        reply = client.get(path, query={**RANGE, **query})
        assert reply.status == 400, reply.raw
        assert all(word in reply.json["detail"] for word in words), reply.json


# Striking distance


def test_striking_distance(client, site):
    body = get(client, site, "striking-distance")
    wanted = striking_expected()
    assert same(body["items"], wanted)
    # hiking shoes ranks at 3.6 on average, acme shoes at 1.25: above the band.
    assert [i["query"] for i in wanted] == ["trail shoes", "road shoes", "running shoes", "tie a", "tie b"]
    by_query = {i["query"]: i for i in body["items"]}
    assert (by_query["trail shoes"]["in_title"], by_query["trail shoes"]["in_h1"]) == (True, None)
    assert (by_query["road shoes"]["in_title"], by_query["road shoes"]["in_h1"]) == (False, True)
    assert by_query["tie a"]["page"] == ROAD
    assert by_query["tie b"]["page"] == BLOG
    assert by_query["tie b"]["in_title"] is None  # not crawled

    for query in (
        {"min_position": 1, "max_position": 100, "min_impressions": 0},
        {"min_position": 5.5, "max_position": 7, "min_impressions": 50},
        {"min_position": 12.75, "max_position": 12.75, "min_impressions": 40},
    ):
        assert same(get(client, site, "striking-distance", **query)["items"], striking_expected(**query)), query
    assert [i["query"] for i in striking_expected(12.75, 12.75, 40)] == ["ACME boots"]

    first = get(client, site, "striking-distance", limit=4)
    second = get(client, site, "striking-distance", limit=4, cursor=first["next_cursor"])
    assert first["items"] + second["items"] == body["items"]
    assert second["next_cursor"] is None
    assert first["total_items"] == second["total_items"] == len(wanted)


def test_striking_distance_bad_requests(client, site):
    path = f"{site.path}/striking-distance"
    reply = client.get(path, query={**RANGE, "min_position": "10", "max_position": "5"})
    assert reply.status == 400
    assert "min_position" in reply.json["detail"]
    for query, field in (({"min_position": "0.5"}, "min_position"), ({"min_impressions": "-1"}, "min_impressions")):
        reply = client.get(path, query={**RANGE, **query})
        assert rejected_field(reply) == field, reply.raw


# CTR opportunities


def test_ctr_opportunities(client, site):
    for level in ("query", "page", "query_page"):
        for min_impressions in (100, 0):
            body = get(client, site, "ctr-opportunities", level=level, min_impressions=min_impressions)
            curve, items = ctr_expected(level=level, min_impressions=min_impressions)
            assert same(body["curve"], curve)
            assert same(body["items"], items), (level, min_impressions)
            assert body["total_items"] == len(items)
    assert curve is not None
    assert [p["position"] for p in curve["points"]] == [1, 2, 3, 4, 6, 7, 8, 9, 11, 13, 16, 20]
    queries = [i["query"] for i in ctr_expected(level="query", min_impressions=0)[1]]
    assert queries.index("tie a") + 1 == queries.index("tie b")  # same shortfall: by query
    assert all(i["page"] is None for i in get(client, site, "ctr-opportunities")["items"])
    assert all(i["query"] is None for i in get(client, site, "ctr-opportunities", level="page")["items"])

    first = get(client, site, "ctr-opportunities", level="query_page", min_impressions=0, limit=3)
    rest = get(client, site, "ctr-opportunities", level="query_page", min_impressions=0, cursor=first["next_cursor"])
    everything = get(client, site, "ctr-opportunities", level="query_page", min_impressions=0)
    assert first["items"] + rest["items"] == everything["items"]
    assert first["curve"] == everything["curve"]


def test_ctr_opportunities_without_a_curve(client, site):
    for start, end in ((D(2026, 2, 1), D(2026, 2, 28)), (D(2025, 1, 1), D(2025, 1, 31))):  # one position; none
        assert ctr_expected(start, end, min_impressions=0) == (None, [])
        body = get(client, site, "ctr-opportunities", start_date=start, end_date=end, min_impressions=0)
        assert body["curve"] is None
        assert body["items"] == []
        assert body["total_items"] == 0


def test_ctr_opportunities_bad_requests(client, site):
    for query, field in (({"level": "site"}, "level"), ({"min_impressions": "-5"}, "min_impressions")):
        reply = client.get(f"{site.path}/ctr-opportunities", query={**RANGE, **query})
        assert rejected_field(reply) == field, reply.raw


# Cannibalization


def test_cannibalization(client, site):
    body = get(client, site, "cannibalization")
    wanted = cannibalization_expected()
    assert same(body["items"], wanted)
    assert [i["query"] for i in wanted] == ["hiking shoes", "trail shoes", "road shoes", "tie a", "tie b"]
    assert [p["page"] for p in wanted[1]["pages"]] == [TRAIL, NEW, BLOG]  # /new: only from 12 March
    assert [p["page"] for p in wanted[3]["pages"]] == [ROAD, TRAIL]  # same impressions: by URL

    for query in (
        {"exclude_homepage": "true"},
        {"min_share": 0.15},
        {"min_share": 0.5, "min_impressions": 0},
        {"min_pages": 3},
        {"min_share": 0.05, "min_pages": 3, "exclude_homepage": "true"},
    ):
        params: dict[str, Any] = {k: True if v == "true" else v for k, v in query.items()}
        assert same(get(client, site, "cannibalization", **query)["items"], cannibalization_expected(**params)), query
    without_home = cannibalization_expected(exclude_homepage=True)
    assert "road shoes" not in [i["query"] for i in without_home]
    hiking = next(i for i in without_home if i["query"] == "hiking shoes")
    assert [p["page"] for p in hiking["pages"]] == [TRAIL, NEW]  # shares among the pages left

    first = get(client, site, "cannibalization", limit=2)
    second = get(client, site, "cannibalization", limit=2, cursor=first["next_cursor"])
    assert first["items"] + second["items"] == body["items"][:4]
    assert second["total_items"] == len(wanted)


def test_cannibalization_bad_requests(client, site):
    for query, field in (
        ({"min_share": "0"}, "min_share"),
        ({"min_share": "0.6"}, "min_share"),
        ({"min_pages": "1"}, "min_pages"),
        ({"exclude_homepage": "maybe"}, "exclude_homepage"),
    ):
        reply = client.get(f"{site.path}/cannibalization", query={**RANGE, **query})
        assert rejected_field(reply) == field, reply.raw


# Every report


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@pytest.mark.parametrize(
    ("report", "query"),
    [
        ("breakdown", {"sort": "ctr"}),
        ("breakdown", {"dimension": "device"}),
        ("striking-distance", {"min_impressions": "0"}),
        ("ctr-opportunities", {"level": "query_page"}),
        ("cannibalization", {}),
    ],
)
def test_csv_equals_json(client, site, report, query):
    body = get(client, site, report, **query)
    assert body["items"]
    wanted = []
    for item in body["items"]:
        flat = {k: cell(v) for k, v in item.items() if k != "pages"}
        pages = item.get("pages") or [{}]  # cannibalization: one row per page
        wanted += [flat | {f"pages.{k}": cell(v) for k, v in page.items()} for page in pages]
    for reply in (
        client.get(f"{site.path}/{report}", query={**RANGE, **query, "format": "csv"}),
        client.call("GET", f"{site.path}/{report}", query={**RANGE, **query}, headers={"accept": "text/csv"}),
    ):
        assert (reply.status, reply.headers.get("Content-Type", "")[:8]) == (200, "text/csv"), reply.raw
        assert list(csv.DictReader(io.StringIO(reply.raw))) == wanted
        assert reply.headers["X-Kestrel-Total-Items"] == str(body["total_items"])
    if report == "cannibalization":
        assert len(wanted) == sum(len(i["pages"]) for i in body["items"]) > len(body["items"])


@pytest.mark.parametrize(
    "params",
    [
        BreakdownParams(start_date=START, end_date=END),
        BreakdownParams(start_date=D(2026, 3, 2), end_date=D(2026, 3, 22), dimension="page", sort="position"),
        BreakdownParams(start_date=D(2026, 3, 3), end_date=D(2026, 3, 24), dimension="brand", page_contains="trail"),
        BreakdownParams(start_date=START, end_date=END, segment="non_brand", query_regex="s$", sort="ctr", limit=3),
        BreakdownParams(start_date=D(2026, 3, 1), end_date=D(2026, 3, 25), dimension="country", order="asc"),
        BreakdownParams(start_date=START, end_date=END, dimension="device", sort="position"),
        BreakdownParams(start_date=D(2026, 3, 5), end_date=D(2026, 3, 11), dimension="search_type"),
        StrikingDistanceParams(start_date=START, end_date=END),
        StrikingDistanceParams(start_date=D(2026, 3, 1), end_date=D(2026, 3, 31), min_position=1, min_impressions=0),
        StrikingDistanceParams(start_date=D(2026, 3, 10), end_date=D(2026, 3, 16), min_impressions=10, limit=2),
        CtrOpportunitiesParams(start_date=START, end_date=END),
        CtrOpportunitiesParams(start_date=D(2026, 3, 2), end_date=D(2026, 3, 29), level="page", min_impressions=0),
        CtrOpportunitiesParams(start_date=D(2026, 3, 7), end_date=D(2026, 3, 19), level="query_page", limit=4),
        CannibalizationParams(start_date=START, end_date=END),
        CannibalizationParams(start_date=D(2026, 3, 1), end_date=D(2026, 3, 31), exclude_homepage=True, min_share=0.05),
        CannibalizationParams(start_date=D(2026, 3, 9), end_date=D(2026, 3, 15), min_share=0.05, min_pages=3),
    ],
    ids=lambda params: type(params).__name__,
)
def test_rollup_and_raw_agree(site, params: BaseModel):
    run = next(spec.run for spec in REPORTS.values() if spec.params is type(params))
    rollup = run(site.principal, site.project_id, site.property_id, params)
    raw = raw_report(run, site, params)
    assert rollup.items, params  # each set has rows to compare
    assert rollup.model_dump() == raw.model_dump()


def test_every_registered_report_is_served_and_documented_from_its_spec(client, site, platform):
    from functions.api_reports.handler import app

    document = build_document({"api_reports": app})
    other = new_report_site(platform.owner_url)
    for name, spec in REPORTS.items():
        assert spec.name == name
        reply = client.get(f"{site.path}/{name}", query=RANGE)
        assert reply.status == 200, (name, reply.raw)
        assert spec.response.model_validate(reply.json).report == name
        csv_reply = client.get(f"{site.path}/{name}", query={**RANGE, "format": "csv"})
        assert (csv_reply.status, csv_reply.headers["Content-Type"][:8]) == (200, "text/csv"), name
        assert client.get(f"{other.path}/{name}").status == 404  # another tenant's property
        operation = document["paths"][spec.path]["get"]
        assert operation["summary"] == spec.summary
        assert operation["description"].startswith(spec.description)
        assert spec.csv_rows in operation["description"]
        parameters = {parameter["name"] for parameter in operation["parameters"]}
        assert set(spec.params.model_fields) <= parameters, name
    assert {path for path in document["paths"] if "/reports/" in path} == {spec.path for spec in REPORTS.values()}


def test_registered_and_other_tenants(client, site, platform):
    for name, params in (
        ("breakdown", BreakdownParams),
        ("striking-distance", StrikingDistanceParams),
        ("ctr-opportunities", CtrOpportunitiesParams),
        ("cannibalization", CannibalizationParams),
    ):
        assert REPORTS[name].params is params
    other = new_report_site(platform.owner_url)
    for report in ("breakdown", "striking-distance", "ctr-opportunities", "cannibalization"):
        assert client.get(f"{other.path}/{report}").status == 404  # another tenant's property
        foreign = f"/v1/projects/{site.project_id}/properties/{other.property_id}/reports/{report}"
        assert client.get(foreign).status == 404
        assert client.get(f"{site.path}/{report}", query=RANGE).status == 200
