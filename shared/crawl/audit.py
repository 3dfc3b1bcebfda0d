"""The site audit as data: each issue type, its severity, threshold and explanation, beside its check.

The worker builds ``AuditPage`` and ``AuditLink`` records from its tables and ``audit`` returns the
findings; the API shows ``ISSUE_TYPES`` as they are. A check is registered with ``@issue`` next to the
data describing it, reads its threshold from its ``IssueType``, and yields at most one finding per
page (details aggregated: every linking page, every missing return link), so ``(code, url)`` identifies
a finding from one crawl to the next and ``compare`` can tell what is new and what was fixed.
"""

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from shared.crawl.fetch import HTML_TYPES, Hop

Severity = Literal["error", "warning", "notice"]
MAX_NAMED = 20  # URLs named in a finding's detail when many share it


@dataclass(frozen=True)
class IssueType:
    code: str
    severity: Severity
    title: str
    explanation: str
    threshold: float | None = None

    @property
    def limit(self) -> float:
        """The threshold of an issue type that has one (a check reading it is registered with it)."""
        if self.threshold is None:
            raise TypeError(f"{self.code} has no threshold")
        return self.threshold


@dataclass(frozen=True)
class AuditPage:
    """One crawled (or robots-blocked) URL, as the worker stored it."""

    url: str
    status: int | None
    redirects: tuple[Hop, ...]
    redirect_loop: bool
    content_type: str | None
    error_code: str | None
    truncated: bool
    blocked: bool
    indexable: bool
    indexability_reason: str
    title: str | None
    meta_description: str | None
    h1s: tuple[str, ...]
    word_count: int | None
    canonical: str | None
    noindex: bool
    hreflang: tuple[tuple[str, str], ...]
    in_sitemap: bool
    in_search_console: bool
    inlinks: int
    response_ms: float | None


@dataclass(frozen=True)
class AuditLink:
    """An internal link, both URLs normalized."""

    source_url: str
    target_url: str


@dataclass(frozen=True)
class Finding:
    code: str
    url: str
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Site:
    pages: Sequence[AuditPage]
    links: Sequence[AuditLink]


Check = Callable[[_Site, IssueType], Iterator[Finding]]
ISSUE_TYPES: dict[str, IssueType] = {}
_CHECKS: list[tuple[IssueType, Check]] = []


def issue(
    code: str, severity: Severity, title: str, explanation: str, threshold: float | None = None
) -> Callable[[Check], Check]:
    """Registers the decorated check under a new issue type."""

    def register(check: Check) -> Check:
        issue_type = IssueType(code, severity, title, explanation, threshold)
        ISSUE_TYPES[code] = issue_type
        _CHECKS.append((issue_type, check))
        return check

    return register


def _is_html_page(page: AuditPage) -> bool:
    """A page that answered 2xx with HTML: the pages on-page checks look at."""
    return page.status is not None and 200 <= page.status < 300 and page.content_type in HTML_TYPES


def _hops(page: AuditPage) -> list[list[Any]]:
    return [[hop.url, hop.status] for hop in page.redirects]


@issue(
    "non_200",
    "error",
    "Page answers with an error",
    "The page answered 4xx or 5xx: visitors and crawlers get an error.",
)
def _non_200(site: _Site, kind: IssueType) -> Iterator[Finding]:
    for page in site.pages:
        if page.status is not None and page.status >= 400:
            yield Finding(kind.code, page.url, {"status": page.status})


@issue(
    "redirect_chain",
    "warning",
    "Redirect chain",
    "The URL redirects more than once before the page: each hop costs time and crawl budget. Link to the final URL.",
    threshold=1,
)
def _redirect_chain(site: _Site, kind: IssueType) -> Iterator[Finding]:
    for page in site.pages:
        if len(page.redirects) > kind.limit and not page.redirect_loop:
            yield Finding(kind.code, page.url, {"hops": _hops(page)})


@issue("redirect_loop", "error", "Redirect loop", "The URL's redirects lead back to a URL already visited, forever.")
def _redirect_loop(site: _Site, kind: IssueType) -> Iterator[Finding]:
    for page in site.pages:
        if page.redirect_loop:
            yield Finding(kind.code, page.url, {"hops": _hops(page)})


@issue(
    "broken_internal_link",
    "error",
    "Broken internal link",
    "Pages of the site link to this URL, which answers 4xx or 5xx. Fix or remove the links.",
)
def _broken_internal_link(site: _Site, kind: IssueType) -> Iterator[Finding]:
    broken = {page.url: page.status for page in site.pages if page.status is not None and page.status >= 400}
    linked_from: dict[str, set[str]] = defaultdict(set)
    for link in site.links:
        if link.target_url in broken:
            linked_from[link.target_url].add(link.source_url)
    for url, sources in linked_from.items():
        detail = {"status": broken[url], "linked_from": sorted(sources)[:MAX_NAMED], "linking_pages": len(sources)}
        yield Finding(kind.code, url, detail)


def _text_checks(
    name: str, label: str, short: int, long: int, what: Callable[[AuditPage], str | None], missing_explanation: str
) -> None:
    """Registers the missing, duplicate, too short and too long checks of a page's title or description."""

    @issue(f"{name}_missing", "error", f"{label} missing", missing_explanation)
    def _missing(site: _Site, kind: IssueType) -> Iterator[Finding]:
        for page in site.pages:
            if _is_html_page(page) and not what(page):
                yield Finding(kind.code, page.url)

    @issue(
        f"{name}_duplicate",
        "warning",
        f"Duplicate {label.lower()}",
        f"Several indexable pages share this {label.lower()}: search results cannot tell them apart.",
    )
    def _duplicate(site: _Site, kind: IssueType) -> Iterator[Finding]:
        # Only indexable pages: a canonicalised copy is expected to repeat its canonical's text.
        by_text: dict[str, list[str]] = defaultdict(list)
        for page in site.pages:
            text = what(page)
            if page.indexable and _is_html_page(page) and text:
                by_text[text].append(page.url)
        for urls in by_text.values():
            if len(urls) > 1:
                for url in urls:
                    # A site-wide title can repeat on thousands of pages: name a few, count them all.
                    others = [other for other in urls[: MAX_NAMED + 1] if other != url][:MAX_NAMED]
                    yield Finding(kind.code, url, {"duplicates": others, "duplicate_count": len(urls) - 1})

    @issue(
        f"{name}_too_short",
        "warning",
        f"{label} too short",
        f"A {label.lower()} under {short} characters says too little.",
        threshold=short,
    )
    def _too_short(site: _Site, kind: IssueType) -> Iterator[Finding]:
        for page in site.pages:
            text = what(page)
            if _is_html_page(page) and text and len(text) < kind.limit:
                yield Finding(kind.code, page.url, {"length": len(text)})

    @issue(
        f"{name}_too_long",
        "warning",
        f"{label} too long",
        f"A {label.lower()} over {long} characters is cut off in search results.",
        threshold=long,
    )
    def _too_long(site: _Site, kind: IssueType) -> Iterator[Finding]:
        for page in site.pages:
            text = what(page)
            if _is_html_page(page) and text and len(text) > kind.limit:
                yield Finding(kind.code, page.url, {"length": len(text)})


_text_checks(
    "title", "Title", 30, 60, lambda page: page.title, "The page has no <title>: search results show a guess instead."
)
_text_checks(
    "description",
    "Meta description",
    70,
    160,
    lambda page: page.meta_description,
    "The page has no meta description: search engines pick a snippet themselves.",
)


@issue("h1_missing", "warning", "H1 missing", "The page has no H1 heading naming its subject.")
def _h1_missing(site: _Site, kind: IssueType) -> Iterator[Finding]:
    for page in site.pages:
        if _is_html_page(page) and not page.h1s:
            yield Finding(kind.code, page.url)


@issue("h1_multiple", "notice", "Several H1s", "The page has more than one H1; one heading should name its subject.")
def _h1_multiple(site: _Site, kind: IssueType) -> Iterator[Finding]:
    for page in site.pages:
        if _is_html_page(page) and len(page.h1s) > 1:
            yield Finding(kind.code, page.url, {"count": len(page.h1s)})


@issue(
    "thin_content",
    "warning",
    "Thin content",
    "The indexable page has little main text (navigation and footer not counted).",
    threshold=200,
)
def _thin_content(site: _Site, kind: IssueType) -> Iterator[Finding]:
    for page in site.pages:
        if page.indexable and _is_html_page(page) and page.word_count is not None and page.word_count < kind.limit:
            yield Finding(kind.code, page.url, {"word_count": page.word_count})


@issue(
    "noindex_in_sitemap",
    "warning",
    "Noindex page in a sitemap",
    "The sitemap asks search engines to index a page that tells them not to.",
)
def _noindex_in_sitemap(site: _Site, kind: IssueType) -> Iterator[Finding]:
    for page in site.pages:
        if page.in_sitemap and page.noindex:
            yield Finding(kind.code, page.url)


@issue(
    "canonicalised",
    "notice",
    "Canonicalised page",
    "The page names another URL as canonical, so that URL is indexed instead of this one.",
)
def _canonicalised(site: _Site, kind: IssueType) -> Iterator[Finding]:
    for page in site.pages:
        if page.indexability_reason == "canonicalised":
            yield Finding(kind.code, page.url, {"canonical": page.canonical})


@issue(
    "hreflang_no_return",
    "warning",
    "Hreflang without return link",
    "The page names alternates that do not name it back; search engines ignore one-way hreflang pairs.",
)
def _hreflang_no_return(site: _Site, kind: IssueType) -> Iterator[Finding]:
    alternates_of = {page.url: {alternate for _, alternate in page.hreflang} for page in site.pages if page.status}
    for page in site.pages:
        missing = sorted(
            {
                alternate
                for _, alternate in page.hreflang
                if alternate != page.url and alternate in alternates_of and page.url not in alternates_of[alternate]
            }
        )
        if missing:
            yield Finding(kind.code, page.url, {"no_return_from": missing})


@issue(
    "orphan_page",
    "warning",
    "Orphan page",
    "The page is in a sitemap or gets search traffic, but no page of the site links to it.",
)
def _orphan_page(site: _Site, kind: IssueType) -> Iterator[Finding]:
    for page in site.pages:
        if (page.in_sitemap or page.in_search_console) and page.status is not None and page.inlinks == 0:
            yield Finding(
                kind.code, page.url, {"in_sitemap": page.in_sitemap, "in_search_console": page.in_search_console}
            )


@issue(
    "slow_response",
    "warning",
    "Slow response",
    "The page took over a second to arrive in full.",
    threshold=1000,
)
def _slow_response(site: _Site, kind: IssueType) -> Iterator[Finding]:
    for page in site.pages:
        if page.response_ms is not None and page.response_ms > kind.limit:
            yield Finding(kind.code, page.url, {"response_ms": round(page.response_ms)})


@issue("blocked_by_robots", "notice", "Blocked by robots.txt", "robots.txt forbids crawling this URL.")
def _blocked_by_robots(site: _Site, kind: IssueType) -> Iterator[Finding]:
    for page in site.pages:
        if page.blocked:
            yield Finding(kind.code, page.url)


@issue(
    "fetch_error",
    "error",
    "Page could not be fetched",
    "Fetching the page failed (timeout, TLS, connection, DNS, a refused redirect): nobody can read it.",
)
def _fetch_error(site: _Site, kind: IssueType) -> Iterator[Finding]:
    for page in site.pages:
        # A loop has its own issue type.
        if page.error_code is not None and page.error_code != "redirect_loop":
            yield Finding(kind.code, page.url, {"error": page.error_code})


@issue("truncated", "warning", "Page too large", "The page is larger than the crawl reads; the rest was not audited.")
def _truncated(site: _Site, kind: IssueType) -> Iterator[Finding]:
    for page in site.pages:
        if page.truncated:
            yield Finding(kind.code, page.url)


@issue("not_html", "notice", "Not an HTML page", "The URL answered with another type of content (PDF, image...).")
def _not_html(site: _Site, kind: IssueType) -> Iterator[Finding]:
    for page in site.pages:
        if page.status is not None and 200 <= page.status < 300 and page.content_type not in HTML_TYPES:
            yield Finding(kind.code, page.url, {"content_type": page.content_type})


def audit(pages: Sequence[AuditPage], links: Sequence[AuditLink]) -> list[Finding]:
    """Every finding of the crawl, issue type by issue type in ``ISSUE_TYPES`` order."""
    site = _Site(pages, links)
    return [finding for issue_type, check in _CHECKS for finding in check(site, issue_type)]


@dataclass(frozen=True)
class AuditDiff:
    new: list[Finding]
    fixed: list[Finding]


def compare(previous: Sequence[Finding], current: Sequence[Finding]) -> AuditDiff:
    """What the current crawl found that the previous did not, and what it no longer finds, by (code, url)."""
    before = {(f.code, f.url) for f in previous}
    after = {(f.code, f.url) for f in current}
    return AuditDiff(
        new=[f for f in current if (f.code, f.url) not in before],
        fixed=[f for f in previous if (f.code, f.url) not in after],
    )


@dataclass(frozen=True)
class PageState:
    """What a page's history tracks between crawls (``h1``: its first H1)."""

    title: str | None
    h1: str | None
    canonical: str | None
    indexable: bool


@dataclass(frozen=True)
class PageChange:
    url: str
    field: str
    before: Any
    after: Any


def page_changes(previous: Mapping[str, PageState], current: Mapping[str, PageState]) -> list[PageChange]:
    """The tracked fields that changed on pages both crawls saw, by URL then field."""
    names = [f.name for f in fields(PageState)]
    return [
        PageChange(url, name, getattr(previous[url], name), getattr(current[url], name))
        for url in sorted(previous.keys() & current.keys())
        for name in names
        if getattr(previous[url], name) != getattr(current[url], name)
    ]
