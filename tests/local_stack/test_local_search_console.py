"""The local Search Console API over real HTTP: OAuth2 token grants, searchAnalytics.query, quotas, failures."""

import datetime as dt
import json
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import jwt
import pytest

from kestrel_local.search_console import (
    JWT_BEARER,
    ROWS_PER_DAY_CAP,
    SCOPE_READONLY,
    SearchConsoleServer,
    SyntheticConfig,
    day_rows,
)

TODAY = dt.date(2026, 11, 22)  # a Sunday: final data end on the 19th, "all" on the 21st
SITE = "sc-domain:example.com"
OTHER_SITE = "https://www.acme-tools.io/"
WEEK = {"startDate": "2026-11-09", "endDate": "2026-11-15"}


def call(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 -- http://127.0.0.1
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def token_request(server: SearchConsoleServer, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    return call(server.token_uri, urlencode(form).encode(), {"Content-Type": "application/x-www-form-urlencoded"})


def assertion(key: dict[str, str], *, audience: str | None = None, scope: str = SCOPE_READONLY) -> str:
    now = int(time.time())
    claims = {
        "iss": key["client_email"],
        "scope": scope,
        "aud": audience or key["token_uri"],
        "iat": now,
        "exp": now + 3600,
    }
    return jwt.encode(claims, key["private_key"], algorithm="RS256", headers={"kid": key["private_key_id"]})


def service_account_token(server: SearchConsoleServer, key: dict[str, str]) -> str:
    status, body = token_request(server, {"grant_type": JWT_BEARER, "assertion": assertion(key)})
    assert status == 200, body
    return str(body["access_token"])


def query(
    server: SearchConsoleServer,
    token: str | None,
    body: dict[str, Any],
    *,
    site: str = SITE,
    prefix: str = "webmasters/v3",
) -> tuple[int, dict[str, Any]]:
    url = f"{server.url}/{prefix}/sites/{quote(site, safe='')}/searchAnalytics/query"
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return call(url, json.dumps(body).encode(), headers)


def ok(server: SearchConsoleServer, token: str, body: dict[str, Any], **kwargs: Any) -> list[dict[str, Any]]:
    status, document = query(server, token, body, **kwargs)
    assert status == 200, document
    return list(document.get("rows", []))


def assert_google_error(document: dict[str, Any], code: int, status: str) -> None:
    error = document["error"]
    assert error["code"] == code
    assert error["status"] == status
    assert error["message"]
    assert error["errors"][0]["domain"] == "global"
    assert error["errors"][0]["message"]


@pytest.fixture(scope="module")
def server() -> Iterator[SearchConsoleServer]:
    with SearchConsoleServer(today=TODAY) as running:
        yield running


@pytest.fixture(scope="module")
def key(server: SearchConsoleServer) -> dict[str, str]:
    return server.register_service_account([SITE, OTHER_SITE])


@pytest.fixture(scope="module")
def token(server: SearchConsoleServer, key: dict[str, str]) -> str:
    return service_account_token(server, key)


def test_service_account_key_file_has_googles_fields(server: SearchConsoleServer, key: dict[str, str]) -> None:
    assert key["type"] == "service_account"
    assert key["token_uri"] == f"{server.url}/token"
    assert key["client_email"].endswith(".iam.gserviceaccount.com")
    assert key["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert {"project_id", "private_key_id", "client_id", "auth_uri"} <= key.keys()


def test_jwt_bearer_grant_issues_a_token_and_revocation_ends_it(server: SearchConsoleServer) -> None:
    key = server.register_service_account([SITE])
    status, body = token_request(server, {"grant_type": JWT_BEARER, "assertion": assertion(key)})
    assert status == 200
    assert body["expires_in"] == 3599
    assert body["token_type"] == "Bearer"
    assert ok(server, body["access_token"], WEEK)

    wrong_audience = assertion(key, audience="https://accounts.example.com/token")
    status, error = token_request(server, {"grant_type": JWT_BEARER, "assertion": wrong_audience})
    assert (status, error["error"]) == (400, "invalid_grant")
    forged = {**key, "private_key": server.register_service_account([SITE])["private_key"]}
    status, error = token_request(server, {"grant_type": JWT_BEARER, "assertion": assertion(forged)})
    assert (status, error["error"]) == (400, "invalid_grant")

    server.revoke(key)
    status, document = query(server, body["access_token"], WEEK)
    assert status == 401
    assert_google_error(document, 401, "UNAUTHENTICATED")
    status, error = token_request(server, {"grant_type": JWT_BEARER, "assertion": assertion(key)})
    assert (status, error["error"]) == (400, "invalid_grant")


def test_refresh_token_grant_and_revocation(server: SearchConsoleServer) -> None:
    user = server.register_refresh_token([SITE])
    assert user["type"] == "authorized_user"
    form = {k: user[k] for k in ("client_id", "client_secret", "refresh_token")} | {"grant_type": "refresh_token"}
    status, body = token_request(server, form)
    assert status == 200
    assert body["expires_in"] == 3599
    assert ok(server, body["access_token"], WEEK)

    status, error = token_request(server, {**form, "client_secret": "wrong"})
    assert (status, error["error"]) == (401, "invalid_client")
    status, error = token_request(server, {**form, "refresh_token": "1//unknown"})
    assert (status, error["error"]) == (400, "invalid_grant")
    status, error = token_request(server, {"grant_type": "password"})
    assert (status, error["error"]) == (400, "unsupported_grant_type")

    server.revoke(user["refresh_token"])
    status, error = token_request(server, form)
    assert (status, error["error"]) == (400, "invalid_grant")
    assert query(server, body["access_token"], WEEK)[0] == 401


def test_missing_or_unknown_token_is_401_and_other_sites_403(server: SearchConsoleServer, token: str) -> None:
    status, document = query(server, None, WEEK)
    assert status == 401
    assert_google_error(document, 401, "UNAUTHENTICATED")
    assert query(server, "ya29.not-a-token", WEEK)[0] == 401
    status, document = query(server, token, WEEK, site="sc-domain:not-mine.com")
    assert status == 403
    assert_google_error(document, 403, "PERMISSION_DENIED")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"endDate": "2026-11-10"}, "startDate"),
        ({"startDate": "2026/11/01", "endDate": "2026-11-10"}, "startDate"),
        ({"startDate": "2026-02-30", "endDate": "2026-03-10"}, "startDate"),
        ({"startDate": "2026-11-10", "endDate": "2026-11-01"}, "startDate"),
        ({**WEEK, "rowLimit": 25001}, "rowLimit"),
        ({**WEEK, "rowLimit": 0}, "rowLimit"),
        ({**WEEK, "startRow": -1}, "startRow"),
        ({**WEEK, "dimensions": ["query", "keyword"]}, "dimensions"),
        ({**WEEK, "type": "shopping"}, "type"),
        ({**WEEK, "dataState": "fresh"}, "dataState"),
        ({**WEEK, "aggregationType": "byProperty", "dimensions": ["page"]}, "page"),
        ({**WEEK, "dimensionFilterGroups": [{"filters": [{"dimension": "date", "expression": "x"}]}]}, "dimension"),
        (
            {
                **WEEK,
                "dimensionFilterGroups": [{"filters": [{"dimension": "query", "operator": "like", "expression": "x"}]}],
            },
            "operator",
        ),
        (
            {
                **WEEK,
                "dimensionFilterGroups": [
                    {"filters": [{"dimension": "query", "operator": "includingRegex", "expression": "("}]}
                ],
            },
            "regular expression",
        ),
        ({**WEEK, "sortOrder": "clicks"}, "sortOrder"),
    ],
)
def test_invalid_requests_get_googles_400(
    server: SearchConsoleServer, token: str, body: dict[str, Any], fragment: str
) -> None:
    status, document = query(server, token, body)
    assert status == 400
    assert_google_error(document, 400, "INVALID_ARGUMENT")
    assert document["error"]["errors"][0]["reason"] == "badRequest"
    assert fragment in document["error"]["message"]


def test_groupings_sum_to_the_daily_totals(server: SearchConsoleServer, token: str) -> None:
    body = {"startDate": "2026-11-13", "endDate": "2026-11-15"}
    by_date = sorted(ok(server, token, {**body, "dimensions": ["date"]}), key=lambda row: row["keys"])
    assert [row["keys"][0] for row in by_date] == ["2026-11-13", "2026-11-14", "2026-11-15"]
    totals: Counter[str] = Counter()
    for row in by_date:
        totals.update(clicks=row["clicks"], impressions=row["impressions"])
        assert row["ctr"] == pytest.approx(row["clicks"] / row["impressions"])
    (overall,) = ok(server, token, body)
    assert "keys" not in overall
    assert (overall["clicks"], overall["impressions"]) == (totals["clicks"], totals["impressions"])
    weekday, saturday = by_date[0]["impressions"], by_date[1]["impressions"]
    assert saturday < weekday  # weekends are lower

    for dimensions in (["query"], ["date", "query", "page", "country", "device"], ["country", "device"]):
        rows = ok(server, token, {**body, "dimensions": dimensions, "rowLimit": 25000})
        assert len(rows) < 25000
        assert all(len(row["keys"]) == len(dimensions) for row in rows)
        assert len({tuple(row["keys"]) for row in rows}) == len(rows)
        assert sum(row["clicks"] for row in rows) == totals["clicks"]
        assert sum(row["impressions"] for row in rows) == totals["impressions"]
        clicks = [row["clicks"] for row in rows]
        assert clicks == sorted(clicks, reverse=True)
        position = sum(row["position"] * row["impressions"] for row in rows) / totals["impressions"]
        assert position == pytest.approx(overall["position"])

    countries = ok(server, token, {**body, "dimensions": ["country"]})
    assert countries[0]["keys"] == ["usa"]
    assert all(len(row["keys"][0]) == 3 and row["keys"][0].islower() for row in countries)
    devices = {row["keys"][0] for row in ok(server, token, {**body, "dimensions": ["device"]})}
    assert devices == {"DESKTOP", "MOBILE", "TABLET"}
    queries = [row["keys"][0] for row in ok(server, token, {**body, "dimensions": ["query"], "rowLimit": 25000})]
    assert any("example" in q for q in queries)
    assert any("example" not in q for q in queries)


def test_start_row_pages_are_disjoint_and_cover_everything(server: SearchConsoleServer, token: str) -> None:
    body = {**WEEK, "dimensions": ["query", "country"]}
    everything = ok(server, token, {**body, "rowLimit": 25000})
    assert len(everything) > 2000
    pages: list[list[dict[str, Any]]] = []
    start = 0
    while rows := ok(server, token, {**body, "rowLimit": 1000, "startRow": start}):
        pages.append(rows)
        start += 1000
    assert [len(p) for p in pages[:-1]] == [1000] * (len(pages) - 1)
    keys = [tuple(row["keys"]) for page in pages for row in page]
    assert len(keys) == len(set(keys)) == len(everything)
    assert keys == [tuple(row["keys"]) for row in everything]
    status, document = query(server, token, {**body, "startRow": len(everything)})
    assert status == 200
    assert "rows" not in document
    assert document["responseAggregationType"] == "byProperty"


def test_filters(server: SearchConsoleServer, token: str) -> None:
    body = {**WEEK, "dimensions": ["query"], "rowLimit": 25000}
    everything = {row["keys"][0]: row for row in ok(server, token, body)}

    def filtered(*filters: dict[str, str], dimensions: list[str] | None = None) -> list[dict[str, Any]]:
        return ok(
            server,
            token,
            {
                **body,
                "dimensions": dimensions or ["query"],
                "dimensionFilterGroups": [{"groupType": "and", "filters": list(filters)}],
            },
        )

    brand = filtered({"dimension": "query", "operator": "contains", "expression": "EXAMPLE"})
    non_brand = filtered({"dimension": "query", "operator": "notContains", "expression": "example"})
    assert brand
    assert non_brand
    assert {r["keys"][0] for r in brand} == {q for q in everything if "example" in q}
    assert {r["keys"][0] for r in non_brand} == {q for q in everything if "example" not in q}
    top = next(iter(everything))
    (exact,) = filtered({"dimension": "query", "operator": "equals", "expression": top})
    assert exact == everything[top]
    assert top not in {
        r["keys"][0] for r in filtered({"dimension": "query", "operator": "notEquals", "expression": top})
    }
    regex = filtered({"dimension": "query", "operator": "includingRegex", "expression": r"^(how to|what is) "})
    assert regex
    assert all(r["keys"][0].startswith(("how to ", "what is ")) for r in regex)
    excluded = filtered({"dimension": "query", "operator": "excludingRegex", "expression": r"^(how to|what is) "})
    assert len(regex) + len(excluded) == len(everything)
    mobile_usa = filtered(
        {"dimension": "country", "expression": "usa"},
        {"dimension": "device", "expression": "MOBILE"},
        dimensions=["country", "device"],
    )
    assert [row["keys"] for row in mobile_usa] == [["usa", "MOBILE"]]
    page_rows = filtered({"dimension": "page", "operator": "contains", "expression": "/blog/"}, dimensions=["page"])
    assert page_rows
    assert all("/blog/" in row["keys"][0] for row in page_rows)
    status, document = query(
        server, token, {**WEEK, "dimensionFilterGroups": [{"filters": [{"dimension": "page", "expression": "x"}]}]}
    )
    assert status == 200
    assert document["responseAggregationType"] == "byPage"


def test_fifty_thousand_rows_per_day_cap() -> None:
    config = SyntheticConfig(rows_per_day=70_000, queries=20_000)
    day = dt.date(2026, 11, 2)
    generated = day_rows(SITE, day, "web", config)
    assert len(generated) > ROWS_PER_DAY_CAP
    with SearchConsoleServer(today=TODAY, config=config) as big:
        token = service_account_token(big, big.register_service_account([SITE]))
        body = {
            "startDate": "2026-11-02",
            "endDate": "2026-11-02",
            "dimensions": ["query", "page", "country", "device"],
        }
        returned: list[dict[str, Any]] = []
        for start in (0, 25_000, 50_000):
            returned += ok(big, token, {**body, "rowLimit": 25_000, "startRow": start})
        assert len(returned) == ROWS_PER_DAY_CAP
        assert returned[0]["clicks"] == generated[0][5]
        assert returned[-1]["clicks"] >= generated[ROWS_PER_DAY_CAP][5]


def test_quota_per_site_per_minute() -> None:
    now = [1000.0]
    with SearchConsoleServer(today=TODAY, queries_per_minute=3, clock=lambda: now[0]) as limited:
        token = service_account_token(limited, limited.register_service_account([SITE, OTHER_SITE]))
        for _ in range(3):
            assert query(limited, token, WEEK)[0] == 200
        status, document = query(limited, token, WEEK)
        assert status == 429
        assert_google_error(document, 429, "RESOURCE_EXHAUSTED")
        assert query(limited, token, WEEK, site=OTHER_SITE)[0] == 200
        now[0] += 61
        assert query(limited, token, WEEK)[0] == 200
        assert limited.requests["searchAnalytics.query.429"] == 1


def test_injected_failures(server: SearchConsoleServer, token: str) -> None:
    server.fail_next(2, status=503)
    first, second = query(server, token, WEEK), query(server, token, WEEK)
    assert [first[0], second[0]] == [503, 503]
    assert_google_error(first[1], 503, "UNAVAILABLE")
    assert query(server, token, WEEK)[0] == 200
    server.fail_next(1, status=500)
    status, document = query(server, token, WEEK)
    assert status == 500
    assert_google_error(document, 500, "INTERNAL")


def test_determinism_and_sites_differ(server: SearchConsoleServer, token: str) -> None:
    body = {**WEEK, "dimensions": ["query", "device"], "rowLimit": 500}
    first = ok(server, token, body)
    assert first == ok(server, token, body)
    assert first == ok(server, token, body, prefix="v1")
    other = ok(server, token, body, site=OTHER_SITE)
    assert other != first
    assert any("acme tools" in row["keys"][0] for row in other)
    images = ok(server, token, {**body, "type": "image"})
    assert sum(r["impressions"] for r in images) < sum(r["impressions"] for r in first)


def test_data_state_final_excludes_the_fresh_days(server: SearchConsoleServer, token: str) -> None:
    body = {"startDate": "2026-11-15", "endDate": "2026-11-22", "dimensions": ["date"]}
    status, final = query(server, token, body)
    assert status == 200
    assert "metadata" not in final
    final_days = sorted(row["keys"][0] for row in final["rows"])
    assert final_days == ["2026-11-15", "2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19"]
    status, everything = query(server, token, {**body, "dataState": "all"})
    all_days = sorted(row["keys"][0] for row in everything["rows"])
    assert all_days == [*final_days, "2026-11-20", "2026-11-21"]
    assert everything["metadata"] == {"first_incomplete_date": "2026-11-20"}
    fresh = [row for row in everything["rows"] if row["keys"][0] >= "2026-11-20"]
    assert [row for row in everything["rows"] if row not in fresh] == final["rows"]
    (total_final,) = ok(server, token, {**body, "dimensions": []})
    (total_all,) = ok(server, token, {**body, "dimensions": [], "dataState": "all"})
    assert total_all["impressions"] == total_final["impressions"] + sum(row["impressions"] for row in fresh)


def test_a_day_is_a_few_thousand_rows_in_clicks_order() -> None:
    # How fast a day is generated belongs to the benchmarks, not to a timed test.
    rows = day_rows("sc-domain:speed-test.example", dt.date(2026, 10, 7), "web")
    assert 1_000 < len(rows) < 10_000
    clicks = [row[5] for row in rows]
    assert clicks == sorted(clicks, reverse=True)
    assert all(0 <= row[5] <= row[6] for row in rows)
