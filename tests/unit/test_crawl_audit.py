"""The site audit: each issue type's check on known pages, the diff between crawls, and its speed."""

import dataclasses
import time

import pytest

from shared.crawl.audit import (
    ISSUE_TYPES,
    AuditLink,
    AuditPage,
    Finding,
    PageChange,
    PageState,
    audit,
    compare,
    page_changes,
)
from shared.crawl.fetch import Hop

SITE = "https://demo.example.com"
GOOD = AuditPage(
    url=f"{SITE}/",
    status=200,
    redirects=(),
    redirect_loop=False,
    content_type="text/html",
    error_code=None,
    truncated=False,
    blocked=False,
    indexable=True,
    indexability_reason="indexable",
    title="Trail running shoes for every kind of ground",  # 44 characters
    meta_description="How to choose trail running shoes: grip, protection, fit and drop, tested on real trails.",
    h1s=("Trail running shoes",),
    word_count=900,
    canonical=None,
    noindex=False,
    hreflang=(),
    in_sitemap=True,
    in_search_console=False,
    inlinks=3,
    response_ms=120.0,
)


def page(path: str, **changes) -> AuditPage:
    defaults = {"title": f"{GOOD.title} {path}", "meta_description": f"{GOOD.meta_description} {path}"}
    return dataclasses.replace(GOOD, url=f"{SITE}{path}", **{**defaults, **changes})


def found(pages, links=()) -> set[tuple[str, str]]:
    return {(f.code, f.url.removeprefix(SITE)) for f in audit(pages, links)}


def detail(pages, code, links=()):
    return {f.url.removeprefix(SITE): dict(f.detail) for f in audit(pages, links) if f.code == code}


def test_a_good_page_has_no_finding():
    assert found([page("/a"), page("/b")]) == set()


def test_every_issue_type_is_described():
    assert set(ISSUE_TYPES) == {
        "non_200", "redirect_chain", "redirect_loop", "broken_internal_link", "title_missing", "title_duplicate",
        "title_too_short", "title_too_long", "description_missing", "description_duplicate",
        "description_too_short", "description_too_long", "h1_missing", "h1_multiple", "thin_content",
        "noindex_in_sitemap", "canonicalised", "hreflang_no_return", "orphan_page", "slow_response",
        "blocked_by_robots", "fetch_error", "truncated", "not_html",
    }  # fmt: skip
    assert ISSUE_TYPES["title_too_short"].threshold == 30
    assert ISSUE_TYPES["title_too_long"].threshold == 60
    assert ISSUE_TYPES["description_too_short"].threshold == 70
    assert ISSUE_TYPES["description_too_long"].threshold == 160
    assert ISSUE_TYPES["thin_content"].threshold == 200
    assert ISSUE_TYPES["slow_response"].threshold == 1000
    assert ISSUE_TYPES["blocked_by_robots"].severity == "notice"
    assert all(t.code == code and t.title and t.explanation for code, t in ISSUE_TYPES.items())


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"status": 404, "indexable": False, "content_type": "text/html"}, {"non_200"}),
        ({"status": 503}, {"non_200"}),
        ({"title": None}, {"title_missing"}),
        ({"title": "Shoes"}, {"title_too_short"}),
        ({"title": "x" * 61}, {"title_too_long"}),
        ({"title": "x" * 60}, set()),
        ({"meta_description": ""}, {"description_missing"}),
        ({"meta_description": "Short."}, {"description_too_short"}),
        ({"meta_description": "x" * 161}, {"description_too_long"}),
        ({"h1s": ()}, {"h1_missing"}),
        ({"h1s": ("A", "B")}, {"h1_multiple"}),
        ({"word_count": 199}, {"thin_content"}),
        ({"word_count": 199, "indexable": False, "indexability_reason": "noindex", "noindex": True},
         {"noindex_in_sitemap"}),
        ({"indexable": False, "indexability_reason": "canonicalised", "canonical": f"{SITE}/"}, {"canonicalised"}),
        ({"inlinks": 0}, {"orphan_page"}),
        ({"inlinks": 0, "in_sitemap": False, "in_search_console": True}, {"orphan_page"}),
        ({"inlinks": 0, "in_sitemap": False}, set()),  # found by following links only: not an orphan
        ({"response_ms": 1000.5}, {"slow_response"}),
        ({"blocked": True, "status": None, "indexable": False, "indexability_reason": "blocked_by_robots",
          "in_sitemap": False}, {"blocked_by_robots"}),
        ({"status": None, "error_code": "timeout", "indexable": False, "in_sitemap": False}, {"fetch_error"}),
        ({"truncated": True}, {"truncated"}),
        ({"content_type": "application/pdf", "indexable": False, "indexability_reason": "not_html"}, {"not_html"}),
    ],
)  # fmt: skip
def test_each_check_on_a_known_page(changes, expected):
    assert {code for code, _ in found([page("/p", **changes)])} == expected


def test_length_details():
    assert detail([page("/p", title="x" * 72)], "title_too_long") == {"/p": {"length": 72}}


def test_redirect_chains_and_loops():
    two_hops = (Hop(f"{SITE}/a", 301), Hop(f"{SITE}/b", 302))
    pages = [
        page("/one", redirects=(Hop(f"{SITE}/one", 301),), status=200),
        page("/chain", redirects=two_hops, status=200),
        page("/loop", redirects=two_hops, redirect_loop=True, status=301, error_code="redirect_loop"),
    ]
    assert found(pages) == {("redirect_chain", "/chain"), ("redirect_loop", "/loop")}
    assert detail(pages, "redirect_chain") == {"/chain": {"hops": [[f"{SITE}/a", 301], [f"{SITE}/b", 302]]}}


def test_a_broken_internal_link_names_its_linking_pages():
    pages = [page("/a"), page("/b"), page("/gone", status=404, indexable=False, in_sitemap=False)]
    links = [
        AuditLink(f"{SITE}/b", f"{SITE}/gone"),
        AuditLink(f"{SITE}/a", f"{SITE}/gone"),
        AuditLink(f"{SITE}/a", f"{SITE}/gone"),
        AuditLink(f"{SITE}/a", f"{SITE}/b"),
    ]
    assert detail(pages, "broken_internal_link", links) == {
        "/gone": {"status": 404, "linked_from": [f"{SITE}/a", f"{SITE}/b"], "linking_pages": 2}
    }


def test_duplicates_among_indexable_pages_only():
    pages = [
        page("/a", title="Trail running shoes for every kind of ground"),
        page("/b", title="Trail running shoes for every kind of ground"),
        page("/c", title="Trail running shoes for every kind of ground", indexable=False,
             indexability_reason="canonicalised", canonical=f"{SITE}/a"),
    ]  # fmt: skip
    assert detail(pages, "title_duplicate") == {
        "/a": {"duplicates": [f"{SITE}/b"], "duplicate_count": 1},
        "/b": {"duplicates": [f"{SITE}/a"], "duplicate_count": 1},
    }


def test_hreflang_without_return_link():
    en, de, fr = f"{SITE}/en", f"{SITE}/de", f"{SITE}/fr"
    pages = [
        page("/en", hreflang=(("en", en), ("de", de), ("fr", fr), ("es", f"{SITE}/es-not-crawled"))),
        page("/de", hreflang=(("en", en), ("de", de))),
        page("/fr", hreflang=(("fr", fr),)),
    ]
    assert detail(pages, "hreflang_no_return") == {"/en": {"no_return_from": [fr]}}


def test_compare_tells_new_from_fixed_findings():
    previous = [Finding("title_missing", "/a"), Finding("h1_missing", "/a"), Finding("non_200", "/b", {"status": 404})]
    current = [Finding("h1_missing", "/a"), Finding("non_200", "/b", {"status": 500}), Finding("title_missing", "/c")]
    diff = compare(previous, current)
    assert diff.new == [Finding("title_missing", "/c")]
    assert diff.fixed == [Finding("title_missing", "/a")]


def test_page_changes_field_by_field():
    before = {
        "/a": PageState("Old title", "Shoes", None, True),
        "/b": PageState("B", "B", None, True),
        "/gone": PageState("G", "G", None, True),
    }
    after = {
        "/a": PageState("New title", "Shoes", "/x", False),
        "/b": PageState("B", "B", None, True),
        "/new": PageState("N", "N", None, True),
    }
    assert page_changes(before, after) == [
        PageChange("/a", "title", "Old title", "New title"),
        PageChange("/a", "canonical", None, "/x"),
        PageChange("/a", "indexable", True, False),
    ]


def test_ten_thousand_pages_and_half_a_million_links_in_well_under_a_few_seconds():
    pages = [
        page(f"/p{n}", status=404 if n % 100 == 0 else 200, title="Same title for a whole section of pages x"
             if n % 10 == 0 else f"{GOOD.title} {n}", hreflang=((("en", f"{SITE}/p{n + 1}"),) if n % 7 == 0 else ()))
        for n in range(10_000)
    ]  # fmt: skip
    links = [AuditLink(f"{SITE}/p{n % 10_000}", f"{SITE}/p{(n * 7) % 10_000}") for n in range(500_000)]
    started = time.perf_counter()
    findings = audit(pages, links)
    elapsed = time.perf_counter() - started
    assert sum(f.code == "non_200" for f in findings) == 100
    assert sum(f.code == "broken_internal_link" for f in findings) == 100
    assert elapsed < 2.0, f"audit took {elapsed:.2f}s"
