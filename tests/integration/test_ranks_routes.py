"""api_content's rank routes over snapshots stored directly (the rank_check worker is not needed), and Search
Console rows loaded the real way (chunk, gsc_ingest, rollup).

Every Search Console row lies on the curve ctr = 0.3 / position, so the property's fitted curve is exactly
``a = ln 0.3, b = -1`` and every expected visibility below is worked out by hand from the checks in ``CHECKS``
and the keywords' impressions.
"""

import datetime as dt
import importlib
import math
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select, text

from shared.db import app_engine, tenant_transaction
from shared.projects import keywords as keyword_logic
from shared.projects import projects
from shared.projects.models import KeywordIn, ProjectIn
from shared.ranks.tables import SERP_PARTITIONS, SerpItem, SerpSnapshot
from tests.support.api import ApiClient, Reply
from tests.support.reports import ReportSite, load_rows, new_report_site, row
from tests.support.tenants import owner_connection

D3 = dt.date(2026, 11, 3)
D1, D2 = D3 - dt.timedelta(days=2), D3 - dt.timedelta(days=1)
EARLY1, EARLY2 = D3 - dt.timedelta(days=5), D3 - dt.timedelta(days=4)  # camp chair's checks: before the range
RANGE = {"start_date": D1.isoformat(), "end_date": D3.isoformat()}

KEYWORDS = {
    "k1": KeywordIn(text="trail shoes", country="US", device="desktop", tags=["core"]),
    "k2": KeywordIn(text="hiking boots", country="GB", device="mobile", tags=["core"]),
    "k3": KeywordIn(text="tent pegs", country="US", device="desktop", tags=["core"]),
    "k4": KeywordIn(text="camp stove", country="DE", device="mobile", tags=["gear"]),  # never checked
    "k5": KeywordIn(text="camp chair", country="US", device="desktop", tags=["gear"]),
}


def on_curve(day: dt.date, query: str, impressions: int, position: int, **where: str) -> dict[str, Any]:
    """A Search Console row with the CTR the curve 0.3 / position gives."""
    clicks = impressions * 3 // (10 * position)
    assert clicks * 10 * position == impressions * 3, "choose impressions that make whole clicks"
    # A page per country and device: the curve's buckets are (query, page) pairs, each then at one position.
    page = f"https://site.example/{query.replace(' ', '-')}/{where['country']}-{where['device'].lower()}"
    return row(day, query, page, clicks, impressions, position, **where)


GSC_ROWS = [
    # trail shoes (US desktop): 100 impressions a day at position 2; other countries and devices do not count
    *[on_curve(day, "trail shoes", 100, 2, country="usa", device="DESKTOP") for day in (D1, D2, D3)],
    on_curve(D2, "trail shoes", 1_000, 1, country="gbr", device="DESKTOP"),
    on_curve(D2, "trail shoes", 400, 4, country="usa", device="MOBILE"),
    # hiking boots (GB mobile): 40 a day at position 4
    *[on_curve(day, "hiking boots", 40, 4, country="gbr", device="MOBILE") for day in (D1, D2, D3)],
    # camp chair (US desktop): before the visibility range, at position 1
    *[on_curve(day, "camp chair", 100, 1, country="usa", device="DESKTOP") for day in (EARLY1, EARLY2)],
]
WEIGHTS = {"k1": 300, "k2": 120, "k3": 1}  # k3 has no impressions: it weighs 1


def ctr(position: int) -> float:
    return 0.3 / position


@dataclass(frozen=True)
class Check:
    keyword: str
    day: dt.date
    position: int | None
    url: str | None
    organic: tuple[tuple[str, int], ...]  # other domains' organic results (domain, rank_group)


CHECKS = [
    Check("k1", D1, 3, "/a", (("a.example", 1), ("www.b.example", 2))),
    Check("k2", D1, None, None, (("a.example", 1), ("b.example", 5))),
    Check("k3", D1, 1, "/t", (("b.example", 2),)),
    Check("k1", D2, 2, "/b", (("a.example", 1),)),
    Check("k2", D2, 5, "/h", (("a.example", 2), ("b.example", 1))),
    Check("k3", D2, 1, "/t#:~:text=tent%20pegs", (("c.example", 12),)),
    Check("k1", D3, 2, "/a", (("a.example", 3), ("b.example", 1))),
    Check("k2", D3, 4, "/h", (("a.example", 2), ("b.example", 1))),
    Check("k5", EARLY1, 9, "/c", (("d.example", 1),)),
    Check("k5", EARLY2, 9, "/c", (("d.example", 1),)),
]


@dataclass(frozen=True)
class Site:
    report: ReportSite
    domain: str
    keywords: dict[str, uuid.UUID]
    api: ApiClient
    owner_url: str

    @property
    def base(self) -> str:
        return f"/v1/projects/{self.report.project_id}"


def store_checks(tenant_id: str, project_id: uuid.UUID, domain: str, keywords: dict[str, uuid.UUID]) -> None:
    with tenant_transaction(tenant_id) as session:
        for check in CHECKS:
            snapshot_id = uuid.uuid4()
            url = f"https://{domain}{check.url}" if check.url else None
            session.add(
                SerpSnapshot(
                    tenant_id=tenant_id,
                    project_id=project_id,
                    id=snapshot_id,
                    keyword_id=keywords[check.keyword],
                    check_date=check.day,
                    device="desktop",
                    location_code=2840,
                    language_code="en",
                    depth=10,
                    fetched_at=dt.datetime.combine(check.day, dt.time(6), dt.UTC),
                    se_results_count=1_000_000,
                    items_count=len(check.organic) + 2,
                    item_types=["organic", "people_also_ask"],
                    position=check.position,
                    rank_absolute=check.position + 1 if check.position else None,
                    url=url,
                    features_present=["people_also_ask"],
                    features_owned=[],
                )
            )
            session.flush()
            items = [(host, rank) for host, rank in check.organic]
            if check.position is not None:
                items.append((f"www.{domain}", check.position))
            items.sort(key=lambda item: item[1])
            for index, (host, rank) in enumerate(items):
                session.add(
                    SerpItem(
                        tenant_id=tenant_id,
                        project_id=project_id,
                        snapshot_id=snapshot_id,
                        item_index=index,
                        type="organic",
                        rank_group=rank,
                        rank_absolute=rank + 1,
                        domain=host,
                        url=f"https://{host}/{index}",
                        title=f"Result {index}",
                        known=True,
                    )
                )
            session.add(  # a feature: not an organic result, not counted
                SerpItem(
                    tenant_id=tenant_id,
                    project_id=project_id,
                    snapshot_id=snapshot_id,
                    item_index=len(items),
                    type="people_also_ask",
                    rank_group=1,
                    rank_absolute=1,
                    domain="q.example",
                    known=True,
                )
            )


@pytest.fixture(scope="module")
def content_api(platform: Any) -> Any:
    return importlib.import_module("functions.api_content.handler").handler


@pytest.fixture(scope="module")
def site(platform: Any, content_api: Any) -> Site:
    report = new_report_site(platform.owner_url)
    with tenant_transaction(report.tenant_id) as session:
        domain = session.execute(
            text("SELECT domain FROM projects WHERE id = :id"), {"id": report.project_id}
        ).scalar_one()
    keywords = {
        name: keyword_logic.add_keyword(report.principal, report.project_id, item).id for name, item in KEYWORDS.items()
    }
    load_rows(report, GSC_ROWS)
    store_checks(report.tenant_id, report.project_id, domain, keywords)
    api = ApiClient(content_api, "api_content", report.tenant_id, subject="auth0|ranks")
    return Site(report, domain, keywords, api, platform.owner_url)


def ok(reply: Reply) -> Any:
    assert reply.status == 200, reply.raw
    return reply.json


# ---------------------------------------------------------------- visibility against a hand computation


def test_the_curve_is_the_propertys_own_fit(site: Site) -> None:
    body = ok(site.api.get(f"{site.base}/visibility", query=RANGE))
    curve = body["curve"]
    assert curve["source"] == "property"
    assert curve["a"] == pytest.approx(math.log(0.3))
    assert curve["b"] == pytest.approx(-1.0)
    assert curve["ctr_at_1"] == pytest.approx(0.3)
    assert curve["impressions"] == sum(r["impressions"] for r in GSC_ROWS)
    assert (curve["start_date"], curve["end_date"]) == ((D3 - dt.timedelta(days=89)).isoformat(), D3.isoformat())
    weighting = body["weighting"]
    assert weighting["source"] == "search_console"
    assert weighting["property_id"] == str(site.report.property_id)
    assert (weighting["keywords_weighted"], weighting["keywords_unweighted"]) == (2, 3)


def test_visibility_per_day_against_a_hand_computation(site: Site) -> None:
    body = ok(site.api.get(f"{site.base}/visibility", query=RANGE))
    w1, w2, w3 = WEIGHTS["k1"], WEIGHTS["k2"], WEIGHTS["k3"]
    # day 1: all three keywords; trail shoes at 3, hiking boots nowhere, tent pegs at 1
    day1 = {
        "project": w1 * ctr(3) + w3 * ctr(1),  # 30.3
        "a.example": w1 * ctr(1) + w2 * ctr(1),  # 126
        "b.example": w1 * ctr(2) + w2 * ctr(5) + w3 * ctr(2),  # 52.35
    }
    day2 = {
        "project": w1 * ctr(2) + w2 * ctr(5) + w3 * ctr(1),  # 52.5
        "a.example": w1 * ctr(1) + w2 * ctr(2),  # 108
        "b.example": w2 * ctr(1),  # 36
    }
    day3 = {  # tent pegs not checked
        "project": w1 * ctr(2) + w2 * ctr(4),  # 54
        "a.example": w1 * ctr(3) + w2 * ctr(2),  # 48
        "b.example": w1 * ctr(1) + w2 * ctr(1),  # 126
    }
    denominators = [0.3 * (w1 + w2 + w3), 0.3 * (w1 + w2 + w3), 0.3 * (w1 + w2)]  # 126.3, 126.3, 126
    items = {item["domain"]: item for item in body["items"]}
    assert body["items"][0]["domain"] == site.domain
    assert body["items"][0]["project"] is True
    assert [item["domain"] for item in body["items"]][1:4] == ["a.example", "b.example", "c.example"]
    for key in ("project", "a.example", "b.example"):
        item = items[site.domain if key == "project" else key]
        series = [(point["check_date"], point["visibility"], point["keywords"]) for point in item["series"]]
        expected = [day[key] / den for day, den in zip((day1, day2, day3), denominators, strict=True)]
        assert [s[0] for s in series] == [D1.isoformat(), D2.isoformat(), D3.isoformat()]
        assert [s[2] for s in series] == [3, 3, 2]
        assert [s[1] for s in series] == pytest.approx(expected)
        overall = (day1[key] + day2[key] + day3[key]) / sum(denominators)  # 136.8 / 378.6 for the project
        assert item["visibility"] == pytest.approx(overall)
    assert items["c.example"]["visibility"] == pytest.approx(w3 * ctr(12) / sum(denominators))
    assert items[site.domain]["visibility"] == pytest.approx(136.8 / 378.6)


def test_visibility_filters_limits_and_csv(site: Site) -> None:
    one = ok(site.api.get(f"{site.base}/visibility", query={**RANGE, "competitors": "1", "tag": "CORE"}))
    assert [item["domain"] for item in one["items"]] == [site.domain, "a.example"]
    gear = ok(site.api.get(f"{site.base}/visibility", query={**RANGE, "tag": "gear"}))
    assert [item["series"] for item in gear["items"]] == [[]]  # the gear keywords were not checked in the range
    assert gear["items"][0]["visibility"] == 0
    csv = site.api.get(f"{site.base}/visibility", query={**RANGE, "format": "csv", "competitors": "2"})
    assert csv.status == 200
    header, *rows = csv.raw.strip().splitlines()
    assert header == "domain,project,visibility,series.check_date,series.visibility,series.keywords"
    assert len(rows) == 3 * 3  # three domains, three days
    assert (
        site.api.get(f"{site.base}/visibility", query={"start_date": "2026-01-01", "end_date": "2026-12-31"}).status
        == 400
    )
    assert (
        site.api.get(f"{site.base}/visibility", query={"start_date": "2026-11-04", "end_date": "2026-11-03"}).status
        == 400
    )


def test_without_a_property_the_fallback_curve_and_uniform_weights(platform: Any, site: Site, content_api: Any) -> None:
    principal = site.report.principal
    bare = projects.create_project(principal, ProjectIn(name="Bare", domain=f"bare-{uuid.uuid4().hex[:8]}.example"))
    body = ok(site.api.get(f"/v1/projects/{bare.id}/visibility", query=RANGE))
    assert body["curve"]["source"] == "fallback"
    assert body["curve"]["ctr_at_1"] == pytest.approx(0.28)
    assert body["weighting"] == {
        "source": "uniform",
        "property_id": None,
        "start_date": None,
        "end_date": None,
        "keywords_weighted": 0,
        "keywords_unweighted": 0,
    }
    assert site.api.get(f"/v1/projects/{bare.id}/ranks/search-console").status == 404


# ---------------------------------------------------------------- competitors


def test_competitors_on_the_latest_checks(site: Site) -> None:
    body = ok(site.api.get(f"{site.base}/competitors", query={"tag": "core"}))
    # latest checks: trail shoes and hiking boots on day 3, tent pegs on day 2
    w1, w2, w3 = WEIGHTS["k1"], WEIGHTS["k2"], WEIGHTS["k3"]
    denominator = 0.3 * (w1 + w2 + w3)
    assert body["keywords_checked"] == 3
    assert body["project_visibility"] == pytest.approx((w1 * ctr(2) + w2 * ctr(4) + w3 * ctr(1)) / denominator)
    assert [(c["domain"], c["keywords"], c["shared_keywords"], c["outranks"]) for c in body["items"]] == [
        ("b.example", 2, 2, 2),
        ("a.example", 2, 2, 1),  # c.example is 12th: not in the top 10
    ]
    b, a = body["items"]
    assert b["average_position"] == 1.0
    assert a["average_position"] == 2.5
    assert b["visibility"] == pytest.approx((w1 * ctr(1) + w2 * ctr(1)) / denominator)
    assert a["visibility"] == pytest.approx((w1 * ctr(3) + w2 * ctr(2)) / denominator)
    everything = ok(site.api.get(f"{site.base}/competitors"))
    assert "d.example" in {c["domain"] for c in everything["items"]}
    first = ok(site.api.get(f"{site.base}/competitors", query={"limit": "1"}))
    assert len(first["items"]) == 1
    rest = ok(site.api.get(f"{site.base}/competitors", query={"limit": "1", "cursor": first["next_cursor"]}))
    assert rest["items"][0]["domain"] == everything["items"][1]["domain"]
    csv = site.api.get(f"{site.base}/competitors", headers={"Accept": "text/csv"})
    assert csv.raw.splitlines()[0] == "domain,keywords,shared_keywords,outranks,average_position,visibility"


# ---------------------------------------------------------------- the ranks list and a keyword's history


def test_the_ranks_list(site: Site) -> None:
    body = ok(site.api.get(f"{site.base}/ranks"))
    by_text = {item["keyword"]: item for item in body["items"]}
    assert list(by_text) == ["camp chair", "camp stove", "hiking boots", "tent pegs", "trail shoes"]
    boots = by_text["hiking boots"]
    assert (boots["check_date"], boots["position"], boots["previous_position"]) == (D3.isoformat(), 4, 5)
    assert (boots["change"], boots["movement"], boots["best_position"]) == (1, "up", 4)
    assert boots["url"] == f"https://{site.domain}/h"
    assert boots["features_present"] == ["people_also_ask"]
    assert by_text["camp stove"]["movement"] == "unchecked"
    assert by_text["camp stove"]["position"] is None
    assert (by_text["trail shoes"]["movement"], by_text["trail shoes"]["best_position"]) == ("same", 2)
    assert by_text["tent pegs"]["check_date"] == D2.isoformat()
    paged, cursor = [], None
    while True:
        page = ok(site.api.get(f"{site.base}/ranks", query={"limit": "2", **({"cursor": cursor} if cursor else {})}))
        paged += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == body["items"]
    gear = ok(site.api.get(f"{site.base}/ranks", query={"tag": "gear", "device": "desktop"}))
    assert [item["keyword"] for item in gear["items"]] == ["camp chair"]
    csv = site.api.get(f"{site.base}/ranks", query={"format": "csv"})
    header, *rows = csv.raw.strip().splitlines()
    assert header.startswith("keyword_id,keyword,locale,country,device,tags,active,check_date,position")
    assert len(rows) == 5
    assert site.api.get(f"{site.base}/ranks", query={"cursor": "nonsense"}).status == 400


def test_a_keywords_history(site: Site) -> None:
    path = f"{site.base}/keywords/{site.keywords['k1']}/ranks"
    body = ok(site.api.get(path, query=RANGE))
    assert (body["keyword"], body["country"], body["best_position"]) == ("trail shoes", "US", 2)
    assert [(p["check_date"], p["position"]) for p in body["items"]] == [
        (D1.isoformat(), 3),
        (D2.isoformat(), 2),
        (D3.isoformat(), 2),
    ]
    assert (
        ok(site.api.get(path, query={"start_date": D3.isoformat(), "end_date": D3.isoformat()}))["items"][0]["url"]
        == f"https://{site.domain}/a"
    )
    csv = site.api.get(path, query={**RANGE, "format": "csv"}).raw.strip().splitlines()
    assert csv[0].startswith("check_date,position,rank_absolute,url")
    assert len(csv) == 4
    assert site.api.get(f"{site.base}/keywords/{uuid.uuid4()}/ranks").status == 404


# ---------------------------------------------------------------- rank against Search Console, URL changes


def test_ranks_against_search_console(site: Site) -> None:
    body = ok(site.api.get(f"{site.base}/ranks/search-console"))
    assert (body["start_date"], body["end_date"]) == ((D3 - dt.timedelta(days=6)).isoformat(), D3.isoformat())
    assert body["property_id"] == str(site.report.property_id)
    by_text = {item["keyword"]: item for item in body["items"]}
    shoes = by_text["trail shoes"]
    assert (shoes["search_console_country"], shoes["search_console_device"]) == ("usa", "DESKTOP")
    assert (shoes["impressions"], shoes["clicks"], shoes["search_console_position"]) == (300, 45, 2.0)
    assert shoes["average_position"] == pytest.approx(7 / 3)
    assert (shoes["checks"], shoes["position"], shoes["status"], shoes["flagged"]) == (3, 2, "agree", False)
    boots = by_text["hiking boots"]
    assert (boots["search_console_country"], boots["search_console_device"]) == ("gbr", "MOBILE")
    assert (boots["average_position"], boots["search_console_position"], boots["status"]) == (4.5, 4.0, "agree")
    chair = by_text["camp chair"]
    assert (chair["average_position"], chair["search_console_position"]) == (9.0, 1.0)
    assert (chair["difference"], chair["threshold"], chair["status"], chair["flagged"]) == (8.0, 3.0, "disagree", True)
    assert (by_text["tent pegs"]["status"], by_text["camp stove"]["status"]) == ("serp_only", "unchecked")
    flagged = ok(site.api.get(f"{site.base}/ranks/search-console", query={"flagged": "true", "limit": "1"}))
    assert [item["keyword"] for item in flagged["items"]] == ["camp chair"]
    assert flagged["next_cursor"]
    after = ok(
        site.api.get(f"{site.base}/ranks/search-console", query={"flagged": "true", "cursor": flagged["next_cursor"]})
    )
    assert after == {**after, "items": [], "next_cursor": None}


def test_ranking_url_changes(site: Site) -> None:
    body = ok(site.api.get(f"{site.base}/ranks/url-changes", query=RANGE))
    page = f"https://{site.domain}"
    assert [
        (c["keyword"], c["previous_date"], c["check_date"], c["previous_url"], c["url"], c["changes"])
        for c in body["items"]
    ] == [
        ("trail shoes", D2.isoformat(), D3.isoformat(), f"{page}/b", f"{page}/a", 2),
        ("trail shoes", D1.isoformat(), D2.isoformat(), f"{page}/a", f"{page}/b", 2),
    ]  # tent pegs' featured-snippet fragment is the same page
    one = ok(site.api.get(f"{site.base}/ranks/url-changes", query={**RANGE, "limit": "1"}))
    assert one["items"] == body["items"][:1]
    assert ok(site.api.get(f"{site.base}/ranks/url-changes", query={**RANGE, "tag": "gear"}))["items"] == []


# ---------------------------------------------------------------- tenants


def test_another_tenants_rank_data_is_not_found(platform: Any, site: Site, content_api: Any) -> None:
    stranger_site = new_report_site(platform.owner_url)
    stranger = ApiClient(content_api, "api_content", stranger_site.tenant_id, subject="auth0|stranger")
    for path in (
        f"{site.base}/ranks",
        f"{site.base}/ranks/search-console",
        f"{site.base}/ranks/url-changes",
        f"{site.base}/keywords/{site.keywords['k1']}/ranks",
        f"{site.base}/visibility",
        f"{site.base}/competitors",
    ):
        assert stranger.get(path).status == 404, path
    # the stranger's own project with the other tenant's keyword or property: not found either
    own = f"/v1/projects/{stranger_site.project_id}"
    assert stranger.get(f"{own}/keywords/{site.keywords['k1']}/ranks").status == 404
    assert stranger.get(f"{own}/visibility", query={"property_id": str(site.report.property_id)}).status == 404
    assert ok(stranger.get(f"{own}/ranks"))["items"] == []
    assert ok(stranger.get(f"{own}/competitors"))["items"] == []
    with tenant_transaction(stranger_site.tenant_id) as session:
        assert session.scalar(select(func.count()).select_from(SerpSnapshot)) == 0
        assert session.scalar(select(func.count()).select_from(SerpItem)) == 0


def test_snapshots_and_items_sit_in_one_partition_under_forced_rls(site: Site) -> None:
    for table in ("serp_snapshots", "serp_items"):
        with owner_connection(site.owner_url) as conn:
            partitions = conn.execute(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_inherits i"
                " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
                (table,),
            ).fetchall()
            conn.execute("SELECT set_config('app.tenant_id', %s, true)", (site.report.tenant_id,))
            placed = conn.execute(
                f"SELECT DISTINCT tableoid::regclass::text FROM {table} WHERE project_id = %s",
                (site.report.project_id,),
            ).fetchall()
        assert len(partitions) == SERP_PARTITIONS
        assert all(secure and forced for _, secure, forced in partitions)
        assert len(placed) == 1
        with pytest.raises(Exception, match="permission denied"), app_engine().connect() as conn:
            conn.execute(text(f"SELECT count(*) FROM {partitions[0][0]}"))
