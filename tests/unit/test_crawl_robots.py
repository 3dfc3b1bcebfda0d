"""robots.txt rules per RFC 9309: longest match, wildcards, crawl delay, sitemaps, and what a failed fetch means."""

import pytest

from shared.crawl.robots import MAX_BYTES, robots_rules

AGENT = "KestrelBot"
ROBOTS = b"""
User-agent: *
Disallow: /private
Allow: /private/public$
Disallow: /*.pdf$
Crawl-delay: 2

User-agent: KestrelBot
Disallow: /private
Allow: /private/public$
Disallow: /*.pdf$
Disallow: /cart
Crawl-delay: 1.5
Sitemap: https://demo-outdoor.example.com/sitemap_index.xml
"""


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/", True),
        ("/blog/trail-running-shoes", True),
        ("/private/orders", False),
        ("/private/public", True),  # the longer Allow wins
        ("/private/public/more", False),  # $ anchors the Allow to the exact path
        ("/guides/packing-list.pdf", False),  # * and $
        ("/guides/packing-list.pdf?download=1", True),
        ("/cart", False),  # the group of our own product token applies, not *'s
    ],
)
def test_longest_match_with_wildcards_for_our_user_agent(path, allowed):
    rules = robots_rules(200, ROBOTS, user_agent=AGENT)
    assert rules.allows(f"https://demo-outdoor.example.com{path}") is allowed


def test_crawl_delay_and_sitemaps():
    rules = robots_rules(200, ROBOTS, user_agent=AGENT)
    assert (rules.source, rules.crawl_delay) == ("fetched", 1.5)
    assert rules.sitemaps == ["https://demo-outdoor.example.com/sitemap_index.xml"]
    assert robots_rules(200, ROBOTS, user_agent="OtherBot").crawl_delay == 2.0


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_no_robots_txt_means_no_rules(status):
    rules = robots_rules(status, b"<html>not found</html>", user_agent=AGENT)
    assert (rules.source, rules.allows("https://demo-outdoor.example.com/private/x")) == ("none", True)
    assert (rules.crawl_delay, rules.sitemaps) == (None, [])


@pytest.mark.parametrize("status", [None, 500, 503])
def test_an_unreachable_robots_txt_means_nothing_may_be_crawled(status):
    rules = robots_rules(status, None, user_agent=AGENT)
    assert (rules.source, rules.allows("https://demo-outdoor.example.com/")) == ("unreachable", False)


def test_only_the_first_500_kib_are_read():
    padding = b"# " + b"x" * (MAX_BYTES + 10) + b"\n"
    late_rule = b"User-agent: *\nDisallow: /\n"
    rules = robots_rules(200, padding + late_rule, user_agent=AGENT)
    assert rules.allows("https://demo-outdoor.example.com/anything")
    assert not robots_rules(200, late_rule, user_agent=AGENT).allows("https://demo-outdoor.example.com/anything")
