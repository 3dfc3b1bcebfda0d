"""URL normalisation (one spelling per page) and the crawl's scope."""

import pytest

from shared.crawl.urls import CrawlScope, host_of, normalize


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("HTTP://Example.COM", "http://example.com/"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
        ("https://example.com/a#section", "https://example.com/a"),
        ("https://example.com/a?b=2&a=1#x", "https://example.com/a?b=2&a=1"),  # the query is kept as it is
        ("https://example.com/%7Euser/%61bc", "https://example.com/~user/abc"),  # escaped unreserved characters
        ("https://example.com/a%2fb%3F", "https://example.com/a%2Fb%3F"),  # reserved ones stay escaped, hex uppercase
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/a/b/..", "https://example.com/a/"),
        ("https://example.com/trail shoes/é", "https://example.com/trail%20shoes/%C3%A9"),
        ("https://bücher.example/", "https://xn--bcher-kva.example/"),
        ("https://Example.com./", "https://example.com/"),
        ("http://[::1]:80/", "http://[::1]/"),
        ("  https://example.com/x  ", "https://example.com/x"),
    ],
)
def test_one_spelling_per_page(url, normalized):
    assert normalize(url) == normalized


@pytest.mark.parametrize(
    ("href", "resolved"),
    [
        ("/b", "https://example.com/b"),
        ("c", "https://example.com/guides/c"),
        ("../c?x=1", "https://example.com/c?x=1"),
        ("//cdn.example.com/i.png", "https://cdn.example.com/i.png"),
        ("?page=2", "https://example.com/guides/list?page=2"),
        ("http://other.example/", "http://other.example/"),
    ],
)
def test_relative_urls_resolve_against_the_base(href, resolved):
    assert normalize(href, base="https://example.com/guides/list") == resolved


@pytest.mark.parametrize("url", ["/relative", "mailto:", "https://example.com:99999/", "http:///nohost"])
def test_what_is_not_an_absolute_url_is_refused(url):
    with pytest.raises(ValueError, match=r"absolute URL|[Pp]ort"):
        normalize(url)


def test_host_of():
    assert host_of("https://WWW.Bücher.example:8443/a") == "www.xn--bcher-kva.example"
    assert host_of("/relative") == ""


@pytest.mark.parametrize(
    ("url", "inside", "inside_with_subdomains"),
    [
        ("https://example.com/", True, True),
        ("http://www.example.com/a", True, True),
        ("https://EXAMPLE.com:8443/a", True, True),
        ("https://shop.example.com/", False, True),
        ("https://notexample.com/", False, False),
        ("https://example.com.evil.test/", False, False),
        ("ftp://example.com/", False, False),
        ("mailto:someone@example.com", False, False),
    ],
)
def test_scope_is_the_domain_its_www_host_and_subdomains_only_when_asked(url, inside, inside_with_subdomains):
    assert CrawlScope("www.example.com").contains(url) is inside
    assert CrawlScope("example.com", include_subdomains=True).contains(url) is inside_with_subdomains


@pytest.mark.parametrize(
    ("path", "admitted"),
    [
        ("/", False),
        ("/blog/", True),
        ("/blog/trail-shoes", True),
        ("/blog/drafts/x", False),  # exclude wins over include
        ("/guides/packing.pdf", False),
        ("/guides/packing", True),
        ("/guides/packing.pdf?dl=1", True),  # $ anchors to the end of path and query
        ("/shop/cart?session=1", False),
    ],
)
def test_include_and_exclude_patterns_like_robots_rules(path, admitted):
    scope = CrawlScope("example.com", include=("/blog/", "/guides/"), exclude=("/blog/drafts", "/*.pdf$", "/*session="))
    assert scope.admits_path(f"https://example.com{path}") is admitted


def test_no_include_pattern_admits_every_path_not_excluded():
    scope = CrawlScope("example.com", exclude=("/private",))
    assert scope.admits_path("https://example.com/anything?q=1")
    assert not scope.admits_path("https://example.com/private/x")
