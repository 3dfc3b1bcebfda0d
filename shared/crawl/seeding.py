"""Seeding a crawl: the homepage and start URLs, the sitemaps robots.txt names (or /sitemap.xml), and the pages
Search Console knows. Sitemap indexes are followed one level down; gzip sitemaps are read as such."""

import time
from collections.abc import Iterator
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
from shared.observability import logger
from shared.settings import Crawling, settings_of

MAX_SITEMAPS = 50
MAX_SITEMAP_BYTES = 10 * 1024 * 1024
SEEDING_SECONDS = 120.0


@dataclass(frozen=True)
class SitemapUrls:
    urls: list[str]
    problems: list[str]


def seed_urls(tenant_id: str, crawl: CrawlJob) -> tuple[list[Discovered], list[str]]:
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
    found: list[str] = []
    problems: list[str] = []
    for sitemap_url, body, problem in _fetch_all(tenant_id, crawl, urls, deadline):
        if problem:
            problems.append(problem)
            continue
        parsed = parse_sitemap(body, url=sitemap_url, max_urls=max_urls)
        problems += [f"{sitemap_url}: {error}" for error in parsed.errors]
        if parsed.kind == "index":
            for child, child_body, child_problem in _fetch_all(tenant_id, crawl, list(parsed.urls), deadline):
                if child_problem:
                    problems.append(child_problem)
                    continue
                child_map = parse_sitemap(child_body, url=child, max_urls=max_urls)
                problems += [f"{child}: {error}" for error in child_map.errors]
                found += [url for url in child_map.urls if child_map.kind == "urlset"]
        else:
            found += parsed.urls
        if len(found) >= max_urls:
            break
    return SitemapUrls(list(dict.fromkeys(found))[:max_urls], problems)


def _fetch_all(
    tenant_id: str, crawl: CrawlJob, urls: list[str], deadline: float
) -> Iterator[tuple[str, bytes, str | None]]:
    pace = pacer(settings_of(Crawling), deadline=deadline)
    for url in urls[:MAX_SITEMAPS]:
        # the sitemap's host's robots.txt first: its Crawl-delay paces the sitemap's fetch too
        robots_cache.rules_for(tenant_id, crawl.job_id, url, deadline=deadline)
        result = fetch(crawl_job.http_client(), url, max_bytes=MAX_SITEMAP_BYTES, pace=pace)
        if result.error is not None:
            yield url, b"", f"{url}: {result.error.message}"
        elif result.status != 200:
            yield url, b"", f"{url}: answered {result.status}"
        else:
            logger.debug("Sitemap read", extra={"url": url, "bytes": len(result.body)})
            yield url, result.body, None
