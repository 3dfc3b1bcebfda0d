"""The crawl's messages, and what the API takes and shows of crawls, pages and the site audit."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from shared.jobs.models import JobStatus, LineError
from shared.models import InputModel, OutputModel

DEFAULT_MAX_PAGES = 500
PATTERN_DESCRIPTION = "Path patterns as in robots.txt: `*` matches any characters, a trailing `$` ends the path."


# ---------------------------------------------------------------- messages of the page_crawl queue


class StartCrawlMessage(BaseModel):
    """Seed a crawl's frontier (robots.txt, sitemaps, Search Console pages, start URLs), then start its batches."""

    kind: Literal["start_crawl"] = "start_crawl"
    tenant_id: str
    job_id: uuid.UUID


class CrawlBatchMessage(BaseModel):
    """Fetch the next batch of a crawl's frontier (URLs of one host); the last batch finishes the crawl."""

    kind: Literal["crawl_batch"] = "crawl_batch"
    tenant_id: str
    job_id: uuid.UUID


class ScheduledCrawlMessage(BaseModel):
    """The weekly schedule (EventBridge): re-crawl every project, once per project and ISO week."""

    kind: Literal["scheduled_crawl"]


CrawlMessage = Annotated[StartCrawlMessage | CrawlBatchMessage | ScheduledCrawlMessage, Field(discriminator="kind")]


# ---------------------------------------------------------------- crawls


class CrawlIn(InputModel):
    """What to crawl. Only the project's domain (``www.`` included) is crawled, its subdomains when asked."""

    start_urls: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Where to start besides the homepage, the sitemaps and the pages Search Console knows.",
    )
    max_pages: int = Field(
        default=DEFAULT_MAX_PAGES, ge=1, description="Pages to fetch at most; capped by the organisation's plan."
    )
    max_depth: int | None = Field(default=None, ge=0, le=100, description="Clicks from a start URL (null: no limit).")
    include: list[str] = Field(
        default_factory=list, max_length=50, description=f"Only paths matching one of these. {PATTERN_DESCRIPTION}"
    )
    exclude: list[str] = Field(
        default_factory=list, max_length=50, description=f"Never paths matching one of these. {PATTERN_DESCRIPTION}"
    )
    include_subdomains: bool = False

    @classmethod
    def of_job(cls, job_input: dict[str, Any]) -> "CrawlIn":
        """The settings a crawl job was started with (its input also holds bookkeeping, such as a schedule key)."""
        return cls.model_validate({name: value for name, value in job_input.items() if name in cls.model_fields})

    @field_validator("include", "exclude")
    @classmethod
    def _patterns_are_paths(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            if not pattern.startswith(("/", "*")):
                raise ValueError(f"{pattern!r} is not a path pattern: start it with / (or *).")
        return patterns


class CrawlProgress(OutputModel):
    """Where a crawl stands, counted from its frontier."""

    discovered: int = Field(description="URLs found and admitted (within max_pages).")
    fetched: int
    failed: int = Field(description="No answer, or an error answer after retries (see the page for why).")
    blocked: int = Field(description="Disallowed by robots.txt: never fetched.")
    queued: int = Field(description="Still to fetch (including those being fetched).")
    percent: int


class CrawlOut(OutputModel):
    id: uuid.UUID
    project_id: uuid.UUID
    status: JobStatus
    settings: CrawlIn
    progress: CrawlProgress
    error_count: int
    errors: list[LineError] = Field(description="Problems of the crawl itself (pages' own errors are on the pages).")
    failure_reason: str | None
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


# ---------------------------------------------------------------- pages


Change = Literal["new", "changed", "unchanged"]


class PageOut(OutputModel):
    """A page as the latest (or the chosen) crawl saw it."""

    id: uuid.UUID = Field(description="The page's id: the same across crawls.")
    crawl_id: uuid.UUID
    url: str
    final_url: str
    status: int | None
    indexable: bool
    indexability_reason: str
    title: str | None
    h1: str | None
    word_count: int | None
    depth: int | None
    inlinks: int
    response_ms: float | None
    in_sitemap: bool
    change: Change | None
    issues: list[str] = Field(description="Codes of the audit's issues on this page.")
    crawled_at: datetime


class HopOut(OutputModel):
    url: str
    status: int


class LinkOut(OutputModel):
    url: str
    text: str
    rel: list[str]
    internal: bool


class PageChangeOut(OutputModel):
    crawl_id: uuid.UUID
    crawled_at: datetime
    field: Literal["title", "h1", "canonical", "indexable"]
    before: Any
    after: Any


class PageDetailOut(PageOut):
    """Everything the crawl recorded about the page, its links, and how it changed across crawls."""

    redirects: list[HopOut]
    content_type: str | None
    bytes: int
    charset: str | None
    truncated: bool
    blocked: bool
    error_code: str | None
    error_message: str | None
    canonical: str | None
    canonical_source: str | None
    meta_robots: str | None
    x_robots_tag: str | None
    title_length: int | None
    meta_description: str | None
    meta_description_length: int | None
    h1s: list[str]
    outline: list[tuple[int, str]]
    lang: str | None
    hreflang: list[tuple[str, str]]
    jsonld_types: list[str]
    open_graph: dict[str, str]
    main_text: str | None
    content_hash: str | None
    images_without_alt: list[str]
    in_search_console: bool
    links: list[LinkOut]
    changes: list[PageChangeOut] = Field(
        description="What changed in this page's title, H1, canonical and indexability."
    )


# ---------------------------------------------------------------- site audit


Severity = Literal["error", "warning", "notice"]


class IssuePageOut(OutputModel):
    url: str
    page_id: uuid.UUID | None
    detail: dict[str, Any]


class IssueOut(OutputModel):
    code: str
    severity: Severity
    title: str
    explanation: str
    threshold: float | None
    count: int
    pages: list[IssuePageOut] = Field(description="The first pages with the issue (all of them: `/pages?issue=`).")


class PageFieldChangeOut(OutputModel):
    url: str
    field: Literal["title", "h1", "canonical", "indexable"]
    before: Any
    after: Any


class AuditIssueRef(OutputModel):
    code: str
    url: str
    detail: dict[str, Any]


class AuditDiffOut(OutputModel):
    """What changed since the project's previous finished crawl (null when there is none)."""

    previous_crawl_id: uuid.UUID | None
    new_issues: list[AuditIssueRef]
    fixed_issues: list[AuditIssueRef]
    page_changes: list[PageFieldChangeOut]


class AuditOut(OutputModel):
    crawl_id: uuid.UUID
    crawled_at: datetime | None
    pages: int = Field(description="Pages the crawl recorded.")
    issues: list[IssueOut] = Field(description="Every issue type found, errors first.")
    changes: AuditDiffOut
