"""Seeding a crawl: the homepage and start URLs, the sitemaps robots.txt names (or /sitemap.xml), and the pages
Search Console knows. Sitemap indexes are followed one level down; gzip sitemaps are read as such."""

import time
from dataclasses import dataclass

from shared.crawl import job as crawl_job
from shared.crawl import robots_cache
from shared.crawl.data import seeds
from shared.crawl.data.frontier import Discovered
from shared.crawl.fetch import fetch
from shared.crawl.job import CrawlJob
from shared.crawl.politeness import pacer
from shared.crawl.sitemaps import parse_sitemap
from shared.crawl.urls import host_of, normalize
from shared.db import TenantSession
from shared.settings import Crawling, settings_of

MAX_SITEMAPS = 50
MAX_SITEMAP_BYTES = 10 * 1024 * 1024
SEEDING_SECONDS = 120.0


@dataclass(frozen=True)
class SitemapUrls:
    urls: list[str]
    problems: list[tuple[str, str]]  # (sitemap URL, what went wrong)


def seed_urls(tenant_id: str, crawl: CrawlJob) -> tuple[list[Discovered], list[tuple[str, str]]]:
    """Every seed of the crawl, in scope, and what went wrong reading sitemaps (reported on the job)."""
    deadline = time.monotonic() + SEEDING_SECONDS
    scope = crawl.scope
    found: list[Discovered] = []
    for url in [crawl.homepage, *crawl.settings.start_urls]:
        normal = normalize(url)
        if scope.contains(normal):
            found.append(Discovered(normal, host_of(normal), 0))
    rules = robots_cache.rules_for(tenant_id, crawl.job_id, crawl.homepage, deadline=deadline)
    sitemap_urls = rules.sitemaps or [f"{crawl.homepage}sitemap.xml"]
    sitemaps = read_sitemaps(tenant_id, crawl, sitemap_urls, max_urls=crawl.settings.max_pages, deadline=deadline)
    found += [
        Discovered(url, host_of(url), None, in_sitemap=True)
        for url in map(normalize, sitemaps.urls)
        if scope.contains(url) and scope.admits_path(url)
    ]
    return found, sitemaps.problems


def gsc_seeds(session: TenantSession, crawl: CrawlJob) -> list[Discovered]:
    scope = crawl.scope
    pages = seeds.search_console_pages(session, crawl.project_id, limit=crawl.settings.max_pages)
    return [
        Discovered(url, host_of(url), None, in_search_console=True)
        for url in map(normalize, pages)
        if scope.contains(url) and scope.admits_path(url)
    ]


def read_sitemaps(tenant_id: str, crawl: CrawlJob, urls: list[str], *, max_urls: int, deadline: float) -> SitemapUrls:
    """The page URLs of the sitemaps at ``urls``, an index's sitemaps read in turn (one level down, at most
    ``MAX_SITEMAPS`` files in all)."""
    pace = pacer(settings_of(Crawling), deadline=deadline)
    pending = [(url, True) for url in urls]  # (sitemap, whether it may be an index)
    found: list[str] = []
    problems: list[tuple[str, str]] = []
    read = 0
    while pending and read < MAX_SITEMAPS and len(found) < max_urls:
        url, may_be_index = pending.pop(0)
        read += 1
        # the sitemap's host's robots.txt first: its Crawl-delay paces the sitemap's fetch too
        robots_cache.rules_for(tenant_id, crawl.job_id, url, deadline=deadline)
        result = fetch(crawl_job.http_client(), url, max_bytes=MAX_SITEMAP_BYTES, pace=pace)
        if result.error is not None:
            problems.append((url, result.error.message))
            continue
        if result.status != 200:
            problems.append((url, f"answered {result.status}"))
            continue
        parsed = parse_sitemap(result.body, url=url, max_urls=max_urls)
        problems += [(url, error) for error in parsed.errors]
        if parsed.kind == "urlset":
            found += parsed.urls
        elif may_be_index:
            pending += [(child, False) for child in parsed.urls]
        else:
            problems.append((url, "a sitemap index inside a sitemap index (not followed)"))
    return SitemapUrls(list(dict.fromkeys(found))[:max_urls], problems)
