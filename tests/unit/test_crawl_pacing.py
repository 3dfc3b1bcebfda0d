"""Pure parts of the crawler: the pace at a host, the size of a batch, the robots.txt product token, crawl input."""

import pytest
from pydantic import ValidationError

from shared.crawl.batches import BATCH_SECONDS, batch_size
from shared.crawl.models import CrawlIn
from shared.crawl.politeness import DEFAULT_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS, backoff_seconds, interval_seconds
from shared.crawl.robots_cache import product_token
from shared.settings import Crawling, HostLimit


def crawling(**limits: HostLimit) -> Crawling:
    return Crawling(crawl_user_agent="KestrelBot/1.0 (+https://kestrel.example/bot)", crawl_host_limits=limits)


def test_the_pace_is_the_slower_of_the_hosts_rate_and_its_crawl_delay() -> None:
    limit = HostLimit(concurrency=2, requests_per_second=4)
    assert interval_seconds(limit, None) == 0.25
    assert interval_seconds(limit, 0.1) == 0.25
    assert interval_seconds(limit, 3) == 3


def test_a_host_can_be_given_its_own_limit() -> None:
    settings = crawling(**{"bench.example": HostLimit(concurrency=16, requests_per_second=500)})
    assert settings.limit_for("bench.example").concurrency == 16
    assert settings.limit_for("www.example.com") == settings.crawl_host_limit


def test_a_batch_takes_what_the_hosts_pace_lets_it_fetch_in_time() -> None:
    settings = crawling()
    assert batch_size(settings, "www.example.com", None) == settings.crawl_batch_size
    assert batch_size(settings, "www.example.com", 10) == int(BATCH_SECONDS / 10)
    assert batch_size(settings, "www.example.com", 3600) == 1


def test_back_off_honours_retry_after_within_bounds() -> None:
    assert backoff_seconds(2) == 2
    assert backoff_seconds(None) == DEFAULT_BACKOFF_SECONDS  # no Retry-After: the default
    assert backoff_seconds(10**6) == MAX_BACKOFF_SECONDS
    assert backoff_seconds(-5) == 0


def test_robots_groups_match_the_user_agents_product_token() -> None:
    assert product_token("KestrelBot/1.0 (+https://kestrel.example/bot)") == "KestrelBot"
    assert product_token("KestrelBot") == "KestrelBot"


def test_crawl_input_defaults_and_path_patterns() -> None:
    assert CrawlIn().max_pages == 500
    assert CrawlIn(include=["/blog/*"], exclude=["*.pdf$"]).include == ["/blog/*"]
    with pytest.raises(ValidationError, match="not a path pattern"):
        CrawlIn(include=["blog"])
    with pytest.raises(ValidationError):
        CrawlIn(max_pages=0)
    with pytest.raises(ValidationError):
        CrawlIn.model_validate({"max_pages": 10, "unknown": 1})


def test_a_crawl_jobs_settings_ignore_its_bookkeeping() -> None:
    stored = CrawlIn(max_pages=50).model_dump(mode="json") | {"schedule_key": "crawl_schedule:x:2026-W49"}
    assert CrawlIn.of_job(stored) == CrawlIn(max_pages=50)
