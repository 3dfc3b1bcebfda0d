"""page_crawl: seed a crawl, crawl one batch of its frontier, or fan the weekly re-crawl out."""

from shared.crawl import crawler
from shared.crawl.models import CrawlMessage
from shared.runtime.worker import Worker
from shared.settings import Crawling, CrawlQueue, Database, NlpEntitiesQueue, RawPages

worker = Worker(
    "page_crawl",
    CrawlMessage,
    crawler.run,
    units=crawler.units_of,
    idempotency=crawler.rule_for,
    settings=(Database, Crawling, CrawlQueue, RawPages, NlpEntitiesQueue),
)
handler = worker.lambda_handler()
