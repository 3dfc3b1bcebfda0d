"""The DataForSEO stand-in as `kestrel up` runs it, and the competitor sites its SERPs link.

`kestrel up` starts the stand-in on its port (tasks kept in the state directory, a log line per request),
stores its login as the stage's DataForSEO secret and gives the functions its URL; the demo site's server
answers for the competitors' hosts too, pinned and trusted like the demo site, so what a SERP links can be
fetched through the crawler's own SSRF-guarded client.
"""

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from kestrel_local.config import LocalSettings
from kestrel_local.dataforseo import LOCAL_LOGIN, LOCAL_PASSWORD, SerpRequest, build_serp
from kestrel_local.demo import DEMO_DOMAIN, DEMO_SITE_URL
from kestrel_local.demo_site import DemoSiteServer
from kestrel_local.demo_site.competitors import COMPETITORS, serp_url
from kestrel_local.moto_server import MotoServer, free_port
from kestrel_local.stack import (
    DATAFORSEO_LOG,
    DATAFORSEO_URL_VARIABLE,
    DEFAULT_DATAFORSEO_SECRET,
    LocalStack,
    function_overrides,
)
from kestrel_local.template import load_stack
from shared.crawl.ssrf import AddressPolicy, guarded_client
from shared.ranks.dataforseo import DataForSeoClient, SerpTaskIn
from shared.settings import DataForSeo
from tests.support.local_stack import REGION, local_template


@pytest.fixture(scope="module")
def demo_site() -> Iterator[DemoSiteServer]:
    with DemoSiteServer(competitors=COMPETITORS) as running:
        yield running


@pytest.fixture(scope="module")
def client(demo_site: DemoSiteServer) -> Iterator[httpx.Client]:
    pinned = dict.fromkeys(demo_site.hosts, demo_site.address)
    with guarded_client(AddressPolicy(pinned=pinned), ca_file=str(demo_site.ca_file), timeout=30) as http:
        yield http


def test_the_competitors_a_serp_links_are_served_as_virtual_hosts(
    demo_site: DemoSiteServer, client: httpx.Client
) -> None:
    request = SerpRequest("best hiking boots", 2840, "en", "desktop", 20)
    serp = build_serp(request, check_date=dt.date(2026, 12, 5), sites=[DEMO_SITE_URL])
    organic = [item for item in serp.items if item["type"] == "organic"]
    competitors = {site.host for site in COMPETITORS}
    fetched = 0
    for item in organic:
        if item["domain"] in competitors or item["domain"] == f"www.{DEMO_DOMAIN}":
            response = client.get(item["url"])
            assert response.status_code == 200, item["url"]
            assert "<title>" in response.text
            fetched += 1
    assert fetched >= 8
    assert {item["domain"] for item in organic[:10]} & competitors


def test_competitor_sites_have_a_home_robots_redirects_and_404s(client: httpx.Client) -> None:
    site = COMPETITORS[0]
    home = client.get(site.base_url)
    assert home.status_code == 200
    assert site.name in home.text
    assert client.get(f"https://{site.domain}/", follow_redirects=False).status_code == 301
    assert client.get(f"{site.base_url}robots.txt").text.startswith("User-agent: *")
    assert client.get(f"{site.base_url}no/such/page").status_code == 404
    page = client.get(serp_url(site, "ultralight tent"))
    assert page.status_code == 200
    assert "Ultralight tent" in page.text
    assert client.get(f"https://www.{DEMO_DOMAIN}/").status_code == 200  # the demo site is still itself


def test_up_runs_the_stand_in_stores_its_login_and_points_the_functions_at_it(moto: MotoServer, tmp_path: Path) -> None:
    settings = LocalSettings(state_dir=tmp_path, dataforseo_port=free_port(), aws_endpoint_url=moto.endpoint)
    stack = LocalStack(settings)
    url = stack._start_dataforseo()
    try:
        assert url == f"http://{settings.host}:{settings.dataforseo_port}"
        stack.spec = load_stack(local_template(), stage="local", region=REGION, secrets_dir=tmp_path / "secrets")
        name = stack._store_dataforseo_login()
        template_names = {
            function.environment["KESTREL_DATAFORSEO_SECRET_NAME"]
            for function in stack.spec.functions.values()
            if "KESTREL_DATAFORSEO_SECRET_NAME" in function.environment
        }
        assert name in (template_names or {DEFAULT_DATAFORSEO_SECRET})
        secrets = boto3.client(
            "secretsmanager", region_name=REGION, endpoint_url=moto.endpoint, aws_access_key_id="local",
            aws_secret_access_key="local",
        )  # fmt: skip
        stored = json.loads(secrets.get_secret_value(SecretId=name)["SecretString"])
        assert stored == {"login": LOCAL_LOGIN, "password": LOCAL_PASSWORD}
        assert stack._store_dataforseo_login() == name  # again: updated, not duplicated
        overrides = function_overrides("postgresql://x@127.0.0.1:9/x", moto.endpoint, settings, dataforseo_api=url)
        assert overrides[DATAFORSEO_URL_VARIABLE] == url
        dataforseo = DataForSeo(dataforseo_api_base_url=url, dataforseo_secret_name=name)
        client = DataForSeoClient(dataforseo, login=(stored["login"], stored["password"]))
        (posted,) = client.post_tasks([SerpTaskIn("up-1", "trekking poles", 2840, "en", "desktop")])
        assert client.task_get_advanced(posted.task_id or "").tag == "up-1"
        status = stack.status()["dataforseo"]
        assert (status["url"], status["stand_in"], status["tasks"]) == (url, True, 1)
        lines = (stack.paths.logs / DATAFORSEO_LOG).read_text().splitlines()
        assert [json.loads(line)["path"].rsplit("/", 2)[-2:] for line in lines][:1] == [["organic", "task_post"]]
        assert stack.paths.dataforseo_state.exists()
    finally:
        assert stack.dataforseo is not None
        stack.dataforseo.stop()


def test_a_real_api_base_url_starts_no_stand_in(tmp_path: Path) -> None:
    settings = LocalSettings(state_dir=tmp_path, dataforseo_api_base_url="https://api.dataforseo.com/")
    stack = LocalStack(settings)
    assert stack._start_dataforseo() == "https://api.dataforseo.com"
    assert stack.dataforseo is None
