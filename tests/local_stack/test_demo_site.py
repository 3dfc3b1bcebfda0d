"""The local demo site over real HTTPS: robots.txt, sitemaps, redirects, audit cases, instrumentation, determinism.

Requests go to 127.0.0.1 under the site's own host name (TLS SNI and Host), trusting the server's CA
file, as the crawler does with its pinned-host map.
"""

import datetime as dt
import gzip
import itertools
import json
import threading
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from kestrel_local.config import LocalSettings
from kestrel_local.demo import DEMO_DOMAIN, DEMO_KEYWORDS, DEMO_SITE_URL
from kestrel_local.demo_site import DemoSiteServer, SiteCatalogue, render, site_catalogue
from kestrel_local.search_console import SyntheticConfig, day_rows
from kestrel_local.stack import DemoSite, function_overrides
from shared.crawl.ssrf import AddressPolicy, guarded_client

SITE = f"https://www.{DEMO_DOMAIN}"
SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def client_for(server: DemoSiteServer) -> httpx.Client:
    """The crawler's own SSRF-guarded client, pinned to the server and trusting its CA, as `kestrel up` sets it up."""
    pinned = dict.fromkeys(server.catalogue.hosts, server.address)
    return guarded_client(AddressPolicy(pinned=pinned), ca_file=str(server.ca_file), timeout=30)


@pytest.fixture(scope="module")
def server() -> Iterator[DemoSiteServer]:
    with DemoSiteServer(slow_seconds=0.5) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: DemoSiteServer) -> Iterator[httpx.Client]:
    with client_for(server) as http:
        yield http


@pytest.fixture(scope="module")
def catalogue() -> SiteCatalogue:
    return site_catalogue(DEMO_DOMAIN)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def links_of(catalogue: SiteCatalogue, path: str) -> list[str]:
    page = catalogue.page_for(path)
    assert page is not None
    if page.body is not None:
        return []
    parser = _Links()
    parser.feed(render(catalogue, page).decode(page.charset))
    return parser.hrefs


def sitemap_urls(document: bytes) -> list[str]:
    root = ET.fromstring(document)  # noqa: S314 -- the demo server's own sitemap
    return [loc.text or "" for loc in root.iterfind(".//sm:loc", SITEMAP_NS)]


def test_robots_txt_disallows_checkout_and_search_and_names_the_sitemap(client: httpx.Client) -> None:
    reply = client.get(f"{SITE}/robots.txt")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    lines = reply.text.splitlines()
    assert {"Disallow: /checkout/", "Disallow: /search", "Disallow: /*?sort=", "Crawl-delay: 0.2"} <= set(lines)
    assert f"Sitemap: {SITE}/sitemap.xml" in lines
    with DemoSiteServer(crawl_delay=1.5, tls=False) as plain:
        text = httpx.get(f"{plain.url}/robots.txt", headers={"Host": f"www.{DEMO_DOMAIN}"}).text
        assert "Crawl-delay: 1.5" in text.splitlines()


def test_sitemap_index_and_the_gzip_sitemap(client: httpx.Client, catalogue: SiteCatalogue) -> None:
    index = client.get(f"{SITE}/sitemap.xml")
    assert index.status_code == 200
    assert sitemap_urls(index.content) == [f"{SITE}/sitemaps/pages.xml", f"{SITE}/sitemaps/blog.xml.gz"]
    pages = client.get(f"{SITE}/sitemaps/pages.xml")
    blog = client.get(f"{SITE}/sitemaps/blog.xml.gz")
    assert blog.headers["content-type"] in ("application/gzip", "application/x-gzip")
    assert blog.content[:2] == b"\x1f\x8b"  # gzip bytes, not a transfer encoding httpx undid
    listed = sitemap_urls(pages.content) + sitemap_urls(gzip.decompress(blog.content))
    assert len(listed) == len(set(listed)) > 100
    assert catalogue.cases["orphan"][0] in sitemap_urls(gzip.decompress(blog.content))
    assert catalogue.cases["noindex_meta"][0] in sitemap_urls(pages.content)
    assert f"{SITE}/checkout/" not in listed


def test_redirect_chain_loop_and_apex(client: httpx.Client, catalogue: SiteCatalogue) -> None:
    chain = catalogue.cases["redirect_chain"]
    assert len(chain) == 4  # three hops
    for source, target in itertools.pairwise(chain):
        reply = client.get(source)
        assert reply.status_code == 301
        assert urljoin(source, reply.headers["location"]) == target
    assert client.get(chain[-1]).status_code == 200
    first, second = catalogue.cases["redirect_loop"]
    assert urljoin(first, client.get(first).headers["location"]) == second
    assert urljoin(second, client.get(second).headers["location"]) == first
    apex, www = catalogue.cases["apex_redirect"]
    reply = client.get(f"{apex}blog/?page=2")
    assert (reply.status_code, reply.headers["location"]) == (301, f"{www}blog/?page=2")


def test_not_found_and_unknown_hosts(server: DemoSiteServer, client: httpx.Client, catalogue: SiteCatalogue) -> None:
    (missing,) = catalogue.cases["not_found"]
    assert client.get(missing).status_code == 404
    (linking,) = catalogue.cases["not_found_linked_from"]
    assert urlsplit(missing).path in links_of(catalogue, urlsplit(linking).path)
    elsewhere = AddressPolicy(pinned={"elsewhere.example.com": server.address})
    with (
        guarded_client(elsewhere, ca_file=str(server.ca_file)) as other,
        pytest.raises(httpx.ConnectError, match=r"not valid for 'elsewhere\.example\.com'"),
    ):
        other.get("https://elsewhere.example.com/")  # the certificate names only the demo domain
    with DemoSiteServer(tls=False) as plain:
        assert httpx.get(plain.url + "/", headers={"Host": "other.example"}).status_code == 421


def test_robots_headers_and_canonicals(client: httpx.Client, catalogue: SiteCatalogue) -> None:
    (header_noindex,) = catalogue.cases["noindex_header"]
    assert client.get(header_noindex).headers["x-robots-tag"] == "noindex"
    (meta_noindex,) = catalogue.cases["noindex_meta"]
    assert '<meta name="robots" content="noindex, follow">' in client.get(meta_noindex).text
    printed, original = catalogue.cases["canonical_header"]
    reply = client.get(printed)
    assert reply.headers["link"] == f'<{original}>; rel="canonical"'
    assert 'rel="canonical"' not in reply.text
    variant, clean = catalogue.cases["canonical_parameter"]
    assert f'<link rel="canonical" href="{clean}">' in client.get(variant).text
    en, de = catalogue.cases["hreflang_missing_return"]
    assert f'hreflang="de" href="{de}"' in client.get(en).text
    assert "hreflang" not in client.get(de).text
    en, de = catalogue.cases["hreflang_pair"]
    assert f'hreflang="de" href="{de}"' in client.get(en).text
    assert f'hreflang="en" href="{en}"' in client.get(de).text


def test_the_flawed_pages(client: httpx.Client, catalogue: SiteCatalogue) -> None:
    cases = catalogue.cases
    legacy = client.get(cases["legacy_charset"][0])
    assert legacy.headers["content-type"] == "text/html"
    assert b'<meta charset="windows-1252">' in legacy.content
    assert "Après-Ski" in legacy.content.decode("windows-1252")
    with pytest.raises(UnicodeDecodeError):
        legacy.content.decode("utf-8")
    assert len(client.get(cases["oversized"][0]).content) > 3 * 1024 * 1024
    pdf = client.get(cases["non_html"][0])
    assert (pdf.headers["content-type"], pdf.content[:5]) == ("application/pdf", b"%PDF-")
    assert "<title>" not in client.get(cases["missing_title"][0]).text
    assert 'name="description"' not in client.get(cases["missing_description"][0]).text
    assert client.get(cases["multiple_h1"][0]).text.count("<h1>") == 2
    assert "<h1>" not in client.get(cases["missing_h1"][0]).text
    malformed = client.get(cases["malformed_html"][0]).text.split("<article>", 1)[1].split("</article>", 1)[0]
    assert "<p>" in malformed
    assert "</p>" not in malformed
    titles = [catalogue.page_for(url) for url in cases["duplicate_title"]]
    assert len({page.title for page in titles if page}) == 1
    descriptions = [catalogue.page_for(url) for url in cases["duplicate_description"]]
    assert len({page.description for page in descriptions if page}) == 1
    for url in cases["thin_content"]:
        page = catalogue.page_for(url)
        assert page is not None
        assert sum(len(text.split()) for text in page.paragraphs) < 150
    cart, checkout = cases["links_to_disallowed"]
    assert urlsplit(checkout).path in links_of(catalogue, urlsplit(cart).path)
    assert all(catalogue.is_disallowed(url) for url in cases["robots_disallowed"])


def test_slow_page_takes_its_time(server: DemoSiteServer, client: httpx.Client, catalogue: SiteCatalogue) -> None:
    server.reset_log()
    assert client.get(catalogue.cases["slow"][0]).status_code == 200
    (entry,) = server.access_log
    assert entry.finished - entry.started >= 0.5


def test_fail_next_answers_with_retry_after(server: DemoSiteServer, client: httpx.Client) -> None:
    server.fail_next("/blog/", 429, times=2, retry_after=3)
    server.fail_next("/tents/", 503, times=1)
    first, second, third = (client.get(f"{SITE}/blog/") for _ in range(3))
    assert [first.status_code, second.status_code, third.status_code] == [429, 429, 200]
    assert first.headers["retry-after"] == "3"
    unavailable = client.get(f"{SITE}/tents/")
    assert unavailable.status_code == 503
    assert "retry-after" not in unavailable.headers
    assert client.get(f"{SITE}/tents/").status_code == 200


def test_access_log_and_peak_in_flight(server: DemoSiteServer, catalogue: SiteCatalogue) -> None:
    server.reset_log()
    slow = catalogue.cases["slow"][0]
    barrier = threading.Barrier(4)

    def fetch() -> None:
        with client_for(server) as http:
            barrier.wait()
            http.get(slow, headers={"User-Agent": "KestrelBot/1.0"})

    workers = [threading.Thread(target=fetch) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert server.peak_in_flight == {f"www.{DEMO_DOMAIN}": 4}
    assert len(server.access_log) == 4
    assert {(e.host, e.method, e.target, e.status, e.user_agent) for e in server.access_log} == {
        (f"www.{DEMO_DOMAIN}", "GET", "/store-finder/", 200, "KestrelBot/1.0")
    }
    # all four were being answered at once
    assert max(e.started for e in server.access_log) < min(e.finished for e in server.access_log)


def test_same_bytes_twice_and_from_two_servers(server: DemoSiteServer, client: httpx.Client) -> None:
    paths = ["/", "/trail-running-shoes/", "/blog/best-hiking-boots/", "/sitemaps/blog.xml.gz", "/robots.txt"]
    first = [client.get(SITE + path).content for path in paths]
    assert first == [client.get(SITE + path).content for path in paths]
    with DemoSiteServer() as other, client_for(other) as other_client:
        assert first == [other_client.get(SITE + path).content for path in paths]


def test_catalogue_cases_exist_and_every_page_but_the_orphan_is_reachable(catalogue: SiteCatalogue) -> None:
    assert 120 <= len(catalogue.pages) <= 190
    assert len(site_catalogue(DEMO_DOMAIN, scale=15).pages) >= 2_000
    expected = {
        "robots_disallowed", "links_to_disallowed", "redirect_chain", "redirect_loop", "apex_redirect", "not_found",
        "not_found_linked_from", "noindex_meta", "noindex_header", "canonical_parameter", "canonical_header",
        "hreflang_missing_return", "hreflang_pair", "thin_content", "duplicate_title", "duplicate_description",
        "missing_title", "missing_description", "multiple_h1", "missing_h1", "orphan", "slow", "non_html",
        "legacy_charset", "oversized", "malformed_html",
    }  # fmt: skip
    assert set(catalogue.cases) == expected
    for name, urls in catalogue.cases.items():
        for url in urls:
            path = urlsplit(url).path
            exists = catalogue.page_for(url) is not None or path in catalogue.redirects
            assert exists != (name == "not_found") or name == "apex_redirect", (name, url)

    # follow links from the home page, through redirects, staying on the site
    seen: set[str] = set()
    queue = ["/"]
    while queue:
        path = queue.pop()
        while path in catalogue.redirects and path not in seen:
            seen.add(path)
            path = catalogue.redirects[path]
        if path in seen or catalogue.page_for(path) is None:
            continue
        seen.add(path)
        for href in links_of(catalogue, path):
            parts = urlsplit(urljoin(SITE + path, href))
            if parts.hostname == f"www.{DEMO_DOMAIN}":
                queue.append(parts.path)
    unreachable = set(catalogue.pages) - seen
    assert unreachable == {urlsplit(catalogue.cases["orphan"][0]).path}


def test_search_console_describes_the_same_site(catalogue: SiteCatalogue) -> None:
    rows: list[tuple[Any, ...]] = []
    for offset in range(7):
        rows += day_rows(DEMO_SITE_URL, dt.date(2026, 11, 9) + dt.timedelta(days=offset), "web", SyntheticConfig())
    pages = {row[1] for row in rows}
    known = {catalogue.url(path) for path in catalogue.pages} | set(catalogue.cases["not_found"])
    assert pages <= known
    assert catalogue.cases["orphan"][0] in pages
    impressions: dict[str, Counter[str]] = {}
    for query, page, *_, count, _position in ((r[0], r[1], r[6], r[7]) for r in rows):
        impressions.setdefault(query, Counter())[page] += count
    for keyword, _tags in DEMO_KEYWORDS:
        assert keyword in impressions, keyword
        landing, _ = impressions[keyword].most_common(1)[0]
        page = catalogue.page_for(landing)
        assert page is not None
        assert keyword in f"{page.title} {' '.join(page.h1s)}".lower(), (keyword, landing)


def test_functions_reach_the_demo_site_through_the_pinned_hosts(tmp_path: Path) -> None:
    site = DemoSite(f"{SITE}/", (f"www.{DEMO_DOMAIN}", DEMO_DOMAIN), "127.0.0.1:3003", str(tmp_path / "ca.pem"))
    overrides = function_overrides(
        "postgresql://app@localhost/kestrel", "http://127.0.0.1:4566", LocalSettings(), demo_site=site
    )
    assert json.loads(overrides["KESTREL_CRAWL_PINNED_HOSTS"]) == {
        f"www.{DEMO_DOMAIN}": "127.0.0.1:3003",
        DEMO_DOMAIN: "127.0.0.1:3003",
    }
    assert overrides["KESTREL_CRAWL_CA_FILE"] == str(tmp_path / "ca.pem")
