"""The projects API through its real Lambda handler, with API Gateway HTTP API v2 events."""

import uuid

import pytest

from tests.support.api import ApiClient
from tests.support.tenants import new_tenant


@pytest.fixture
def handler(projects_handler):
    return projects_handler


def test_health_reports_database_at_migration_head(handler, platform):
    reply = ApiClient(handler, "api_projects", "unused").get("/v1/health", authenticated=False)
    assert reply.status == 200
    assert reply.json["status"] == "ok"
    database = reply.json["database"]
    assert database["reachable"] is True
    assert database["at_head"] is True
    assert database["revision"] == database["head"]


def test_openapi_document_lists_the_routes(handler):
    reply = ApiClient(handler, "api_projects", "unused").get("/v1/openapi.json", authenticated=False)
    assert reply.status == 200
    document = reply.json
    assert document["openapi"].startswith("3.1")
    assert "/v1/projects/{project_id}/keywords/bulk" in document["paths"]
    assert document["paths"]["/v1/projects"]["post"]["security"] == [{"auth0": ["write:projects"]}]
    assert "auth0" in document["components"]["securitySchemes"]


def test_project_lifecycle(api, project):
    assert project["domain"] == "www.acme.com"
    assert project["name"] == "Acme"
    assert project["brand_terms"] == ["acme"]
    path = f"/v1/projects/{project['id']}"

    assert api.get(path).json == project
    updated = api.patch(path, {"name": "Acme Inc", "brand_terms": ["acme", "acme inc"]})
    assert updated.status == 200
    assert updated.json["name"] == "Acme Inc"
    assert updated.json["domain"] == "www.acme.com"
    assert updated.json["brand_terms"] == ["acme", "acme inc"]
    # how deep the daily rank check looks: 10 unless set, in tens up to 100
    assert project["rank_depth"] == 10
    assert api.patch(path, {"rank_depth": 30}).json["rank_depth"] == 30
    for wrong in (5, 25, 110):
        reply = api.patch(path, {"rank_depth": wrong})
        assert reply.status == 422
        assert [error["field"] for error in reply.json["errors"]] == ["rank_depth"]
    assert api.get(path).json["rank_depth"] == 30

    assert api.delete(path).status == 204
    assert api.get(path).status == 404
    assert api.delete(path).status == 404


def test_duplicate_domain_is_a_conflict(api, project):
    reply = api.post("/v1/projects", {"name": "Again", "domain": "www.acme.com"})
    assert reply.status == 409
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert "www.acme.com" in reply.json["detail"]


def test_validation_errors_are_422_with_field_paths(api, project):
    reply = api.post("/v1/projects", {"name": "", "domain": "not a domain", "extra": 1})
    assert reply.status == 422
    assert reply.headers["Content-Type"] == "application/problem+json"
    fields = {error["field"] for error in reply.json["errors"]}
    assert {"name", "domain", "extra"} <= fields

    bulk = api.post(
        f"/v1/projects/{project['id']}/keywords/bulk",
        {"keywords": [{"text": "ok"}, {"text": "fine", "device": "tablet"}, {"text": "x", "country": "USA"}]},
    )
    assert bulk.status == 422
    fields = {error["field"] for error in bulk.json["errors"]}
    assert "keywords[1].device" in fields
    assert "keywords[2].country" in fields


def test_malformed_json_and_bad_ids_are_client_errors(api, project):
    reply = api.call("POST", "/v1/projects", raw_body="{not json")
    assert reply.status == 422
    assert api.get("/v1/projects/not-a-uuid").status == 422
    assert api.get(f"/v1/projects/{uuid.uuid4()}").status == 404
    assert api.get("/v1/nowhere").status == 404


def test_pagination_walks_every_project_once(api):
    created = {
        api.post("/v1/projects", {"name": f"P{i}", "domain": f"site{i}.example.com"}).json["id"] for i in range(7)
    }
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = api.get("/v1/projects", query=query).json
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == created
    assert api.get("/v1/projects", query={"cursor": "garbage!"}).status == 400
    assert api.get("/v1/projects", query={"limit": "1000"}).status == 422


def test_properties(api, project):
    base = f"/v1/projects/{project['id']}/properties"
    domain = api.post(base, {"site_url": "sc-domain:Acme.com"})
    prefix = api.post(base, {"site_url": "https://www.acme.com/blog"})
    assert domain.status == prefix.status == 201
    assert domain.json["site_url"] == "sc-domain:acme.com"
    assert prefix.json["site_url"] == "https://www.acme.com/blog/"
    assert api.post(base, {"site_url": "sc-domain:acme.com"}).status == 409
    assert api.post(base, {"site_url": "ftp://acme.com"}).status == 422

    listing = api.get(base).json
    assert [item["id"] for item in listing["items"]] == [domain.json["id"], prefix.json["id"]]
    paused = api.patch(f"{base}/{domain.json['id']}", {"status": "paused"})
    assert paused.json["status"] == "paused"
    assert api.delete(f"{base}/{prefix.json['id']}").status == 204
    assert api.get(f"{base}/{prefix.json['id']}").status == 404


def test_keywords_bulk_reports_duplicates_instead_of_failing(api, project):
    base = f"/v1/projects/{project['id']}/keywords"
    first = api.post(base, {"text": "Running Shoes", "tags": ["Shoes", "brand"]})
    assert first.status == 201
    assert first.json["text"] == "running shoes"
    assert first.json["tags"] == ["brand", "shoes"]
    assert api.post(base, {"text": "running  shoes"}).status == 409

    bulk = api.post(
        f"{base}/bulk",
        {
            "keywords": [
                {"text": "trail shoes"},
                {"text": "RUNNING SHOES"},  # already tracked
                {"text": "trail shoes"},  # repeated in this request
                {"text": "trail shoes", "device": "mobile"},  # another device is another keyword
            ]
        },
    )
    assert bulk.status == 200
    assert [kw["text"] for kw in bulk.json["created"]] == ["trail shoes", "trail shoes"]
    assert bulk.json["duplicates"] == [
        {"index": 1, "text": "running shoes", "reason": "already tracked"},
        {"index": 2, "text": "trail shoes", "reason": "repeated in request"},
    ]
    too_many = api.post(f"{base}/bulk", {"keywords": [{"text": f"kw {i}"} for i in range(1001)]})
    assert too_many.status == 422


def test_bulk_add_of_a_thousand_keywords(api, project):
    base = f"/v1/projects/{project['id']}/keywords"
    reply = api.post(f"{base}/bulk", {"keywords": [{"text": f"keyword {i}"} for i in range(1000)]})
    assert reply.status == 200
    assert len(reply.json["created"]) == 1000
    assert reply.json["duplicates"] == []


def test_keyword_filters_and_updates(api, project):
    base = f"/v1/projects/{project['id']}/keywords"
    api.post(
        f"{base}/bulk",
        {
            "keywords": [
                {"text": "blue running shoes", "tags": ["shoes"]},
                {"text": "red running shoes", "tags": ["shoes", "red"]},
                {"text": "red dress", "tags": ["red"]},
                {"text": "100% cotton"},
            ]
        },
    )
    by_tag = api.get(base, query={"tag": "red"}).json["items"]
    assert sorted(kw["text"] for kw in by_tag) == ["red dress", "red running shoes"]
    by_text = api.get(base, query={"q": "running"}).json["items"]
    assert sorted(kw["text"] for kw in by_text) == ["blue running shoes", "red running shoes"]
    both = api.get(base, query={"q": "running", "tag": "red"}).json["items"]
    assert [kw["text"] for kw in both] == ["red running shoes"]
    assert [kw["text"] for kw in api.get(base, query={"q": "%"}).json["items"]] == ["100% cotton"]

    keyword = by_tag[0]
    patched = api.patch(f"{base}/{keyword['id']}", {"tags": ["Sale"], "target_url": "https://acme.com/red"})
    assert patched.status == 200
    assert patched.json["tags"] == ["sale"]
    assert patched.json["target_url"] == "https://acme.com/red"
    assert patched.json["active"] is True
    paused = api.patch(f"{base}/{keyword['id']}", {"active": False})
    assert (paused.json["active"], paused.json["tags"]) == (False, ["sale"])
    assert api.get(f"{base}/{keyword['id']}").json["active"] is False
    assert api.delete(f"{base}/{keyword['id']}").status == 204
    assert api.get(f"{base}/{keyword['id']}").status == 404


def test_missing_permission_is_403(api, project):
    reply = api.post("/v1/projects", {"name": "x", "domain": "x.example.com"}, permissions=("read:projects",))
    assert reply.status == 403
    assert "write:projects" in reply.json["detail"]
    assert api.get("/v1/projects", permissions=()).status == 403
    assert api.get("/v1/projects", permissions=("read:projects",)).status == 200


def test_unauthenticated_or_unprovisioned_callers_get_403(api):
    assert api.get("/v1/projects", authenticated=False).status == 403
    reply = api.get("/v1/projects", tenant_id="org_doesnotexist")
    assert reply.status == 403
    assert "no Kestrel account" in reply.json["detail"]


def test_another_tenants_ids_answer_404_and_leak_nothing(platform, handler, api, project):
    other = ApiClient(handler, "api_projects", new_tenant(platform.owner_url), subject="auth0|intruder")
    project_path = f"/v1/projects/{project['id']}"
    keyword = api.post(f"{project_path}/keywords", {"text": "secret keyword"}).json
    prop = api.post(f"{project_path}/properties", {"site_url": "sc-domain:acme.com"}).json

    probes = [
        other.get(project_path),
        other.patch(project_path, {"name": "pwned"}),
        other.delete(project_path),
        other.get(f"{project_path}/keywords"),
        other.post(f"{project_path}/keywords", {"text": "planted"}),
        other.post(f"{project_path}/keywords/bulk", {"keywords": [{"text": "planted"}]}),
        other.get(f"{project_path}/keywords/{keyword['id']}"),
        other.patch(f"{project_path}/keywords/{keyword['id']}", {"tags": ["x"]}),
        other.delete(f"{project_path}/keywords/{keyword['id']}"),
        other.get(f"{project_path}/properties"),
        other.get(f"{project_path}/properties/{prop['id']}"),
        other.delete(f"{project_path}/properties/{prop['id']}"),
        other.post(f"{project_path}/keyword-imports", {}),
    ]
    assert [probe.status for probe in probes] == [404] * len(probes)
    assert all("secret" not in probe.raw and "acme" not in probe.raw for probe in probes)
    assert other.get("/v1/projects").json["items"] == []
    # and the owner's data is untouched
    assert api.get(project_path).json["name"] == "Acme"
    assert api.get(f"{project_path}/keywords").json["items"][0]["text"] == "secret keyword"
