"""On-page facts of HTML pages as sites really serve them, and indexability."""

import hashlib

import pytest

from shared.crawl.extract import BLOCKED_BY_ROBOTS, INDEXABILITY_REASONS, Link, decode_html, extract_page, indexability

URL = "https://demo.example.com/guides/trail-shoes"
ARTICLE = " ".join(
    f"Trail running shoes need grip, protection and a fit that holds the foot on rough ground, sentence {n}."
    for n in range(40)
)
PAGE = f"""<!doctype html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <title>  Trail running shoes:
     a buyer's guide </title>
  <meta name="Description" content="How to choose   trail shoes.">
  <meta name="robots" content="NoArchive">
  <meta name="googlebot" content="max-snippet:50">
  <meta property="og:title" content="Trail shoes">
  <meta property="og:type" content="article">
  <link rel="canonical" href="/guides/trail-shoes#top">
  <link rel="alternate" hreflang="de-DE" href="https://demo.example.com/de/trail-schuhe">
  <link rel="alternate" hreflang="x-default" href="/guides/trail-shoes">
  <script type="application/ld+json">
    {{"@context": "https://schema.org", "@graph": [
      {{"@type": "Article", "author": {{"@type": "Person", "name": "Ana"}}}},
      {{"@type": ["BreadcrumbList", "Thing"]}}]}}
  </script>
  <script type="application/ld+json">{{ not json </script>
</head>
<body>
  <nav><a href="/">Home</a> <a href="#main">Skip</a> <a href="javascript:void(0)">Menu</a></nav>
  <main>
    <h1>Trail running  shoes</h1>
    <h2>Grip</h2><p>{ARTICLE}</p>
    <h3>Lugs</h3><p>Deep lugs bite into mud.</p>
    <h2>Fit</h2><p>Try them on in the afternoon.</p>
    <p><a href="../reviews/x?ref=guide#r" rel="NoFollow UGC">Review <b>X</b></a>
       <a href="https://other.example.org/shoe"><img src="/i/other.png" alt="Other shoe"></a>
       <a href="mailto:team@example.com">Mail</a> <a href="tel:+441234">Call</a></p>
    <img src="/i/a.png"><img src="/i/b.png" alt=""><img src="data:image/png;base64,AAA">
  </main>
  <footer>© Demo</footer>
</body>
</html>"""


def _is_internal(url: str) -> bool:
    return url.startswith("https://demo.example.com/")


def _extract(body: bytes | str, header_charset=None, link_header=None, x_robots_tag=None):
    data = body.encode() if isinstance(body, str) else body
    return extract_page(
        data,
        url=URL,
        header_charset=header_charset,
        link_header=link_header,
        x_robots_tag=x_robots_tag,
        is_internal=_is_internal,
    )


def test_the_facts_of_a_real_page():
    facts = _extract(PAGE)
    assert (facts.charset, facts.decode_error, facts.lang) == ("utf-8", False, "en-GB")
    assert facts.title == "Trail running shoes: a buyer's guide"
    assert facts.meta_description == "How to choose trail shoes."
    assert facts.h1s == ("Trail running shoes",)
    assert facts.outline == ((2, "Grip"), (3, "Lugs"), (2, "Fit"))
    assert (facts.canonical, facts.canonical_source, facts.canonical_conflict) == (URL, "html", False)
    assert facts.hreflang == (("de-de", "https://demo.example.com/de/trail-schuhe"), ("x-default", URL))
    assert facts.jsonld_types == ("Article", "Person", "BreadcrumbList", "Thing")
    assert facts.open_graph == {"og:title": "Trail shoes", "og:type": "article"}
    assert (facts.meta_robots, facts.x_robots_tag, facts.noindex, facts.nofollow) == (
        "noarchive, max-snippet:50",
        None,
        False,
        False,
    )
    assert facts.links == (
        Link("https://demo.example.com/", "Home", (), True),
        Link("https://demo.example.com/reviews/x?ref=guide", "Review X", ("nofollow", "ugc"), True),
        Link("https://other.example.org/shoe", "Other shoe", (), False),
    )
    assert facts.images_without_alt == ("https://demo.example.com/i/a.png",)


def test_main_text_leaves_out_navigation_and_footer():
    facts = _extract(PAGE)
    assert "sentence 39" in facts.main_text
    assert "Home" not in facts.main_text
    assert "© Demo" not in facts.main_text
    assert facts.word_count == len(facts.main_text.split())
    assert facts.word_count > 700


def test_the_content_hash_ignores_navigation_footer_and_whitespace():
    facts = _extract(PAGE)
    assert (
        facts.content_hash == _extract(PAGE.replace("© Demo", "© Demo 2031").replace('">Home', '">Start')).content_hash
    )
    assert facts.content_hash == _extract(PAGE.replace("<h1>Trail", "<h1>\n  Trail")).content_hash
    assert facts.content_hash != _extract(PAGE.replace("sentence 7.", "sentence seven.")).content_hash
    assert facts.content_hash != _extract(PAGE.replace("How to choose", "Choosing")).content_hash
    assert len(facts.content_hash) == 64
    hashlib.sha256(bytes.fromhex(facts.content_hash))  # hex of a sha256


def test_base_href_resolves_relative_links_and_images():
    page = '<base href="https://cdn.demo.example.com/en/"><a href="shop">Shop</a><img src="x.png">'
    facts = _extract(page)
    assert [link.url for link in facts.links] == ["https://cdn.demo.example.com/en/shop"]
    assert facts.images_without_alt == ("https://cdn.demo.example.com/en/x.png",)


def test_malformed_html_still_yields_facts():
    facts = _extract("<title>Broken</title><h1>Heading<p>text <a href=/x>link</b></div></div><h1>Second")
    assert (facts.title, facts.h1s) == ("Broken", ("Heading text link", "Second"))
    # As in a browser, the unclosed <a> is reopened around the next heading's text.
    assert [(link.url, link.text) for link in facts.links] == [
        ("https://demo.example.com/x", "link"),
        ("https://demo.example.com/x", "Second"),
    ]
    # An unclosed <title> swallows the rest of the page as text, as in a browser.
    assert _extract("<title>Broken<h1>x").title == "Broken<h1>x"
    empty = _extract(b"")
    assert (empty.title, empty.h1s, empty.links, empty.word_count) == (None, (), (), 0)


@pytest.mark.parametrize(
    ("body", "header", "charset", "text"),
    [
        ("<p>café</p>".encode("cp1252"), "ISO-8859-1", "cp1252", "café"),  # latin-1 means windows-1252
        (b"\xef\xbb\xbf<p>caf\xc3\xa9</p>", "iso-8859-1", "utf-8", "café"),  # the BOM wins
        ('<meta charset="windows-1252"><p>café</p>'.encode("cp1252"), None, "cp1252", "café"),
        (
            '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-15"><p>€</p>'.encode("iso-8859-15"),
            None,
            "iso8859-15",
            "€",
        ),
        ("<p>café</p>".encode(), "no-such-charset", "utf-8", "café"),  # an unknown label is ignored
        ("<p>café</p>".encode(), None, "utf-8", "café"),
    ],
)
def test_the_charset_comes_from_bom_header_meta_then_utf8(body, header, charset, text):
    decoded, found, error = decode_html(body, header)
    assert (found, error) == (charset, False)
    assert text in decoded


def test_an_undecodable_page_is_decoded_with_replacement():
    facts = _extract(b"<title>caf\xe9 \xff</title>", header_charset="utf-8")
    assert (facts.charset, facts.decode_error, facts.title) == ("utf-8", True, "caf\ufffd \ufffd")


def test_robots_directives_from_meta_and_the_header():
    assert _extract('<meta name="ROBOTS" content="NOINDEX, follow">').noindex
    assert _extract('<meta name="googlebot" content="none">').nofollow
    assert not _extract('<meta name="bingbot" content="noindex">').noindex
    header = _extract("<p>x</p>", x_robots_tag="otherbot: noindex, nofollow, googlebot: nofollow, noarchive")
    assert (header.x_robots_tag, header.noindex, header.nofollow) == ("nofollow, noarchive", False, True)
    dated = _extract("<p>x</p>", x_robots_tag="unavailable_after: 2031-01-01, NoIndex")
    assert dated.x_robots_tag == "unavailable_after: 2031-01-01, noindex"
    assert dated.noindex


def test_the_canonical_from_the_link_header_when_the_html_has_none():
    header = '<https://demo.example.com/a>; rel="canonical", </de/a>; rel="alternate"; hreflang="de"'
    facts = _extract("<p>x</p>", link_header=header)
    assert (facts.canonical, facts.canonical_source, facts.canonical_conflict) == (
        "https://demo.example.com/a",
        "header",
        False,
    )
    assert facts.hreflang == (("de", "https://demo.example.com/de/a"),)
    both = _extract('<link rel="canonical" href="/b">', link_header=header)
    assert (both.canonical, both.canonical_source, both.canonical_conflict) == (
        "https://demo.example.com/b",
        "html",
        True,
    )


def test_main_text_falls_back_to_the_main_region_when_trafilatura_finds_nothing():
    facts = _extract("<body><nav>Menu</nav><main><p>Two words</p></main></body>")
    assert (facts.main_text, facts.word_count) == ("Two words", 2)


@pytest.mark.parametrize(
    ("status", "content_type", "page", "reason"),
    [
        (None, None, None, "not_fetched"),
        (301, "text/html", None, "redirect"),
        (404, "text/html", None, "client_error"),
        (503, "text/html", None, "server_error"),
        (200, "application/pdf", None, "not_html"),
        (200, "text/html", '<meta name="robots" content="noindex">', "noindex"),
        (200, "text/html", '<link rel="canonical" href="/other">', "canonicalised"),
        (
            200,
            "text/html",
            '<link rel="canonical" href="HTTPS://Demo.example.com:443/guides/trail-shoes">',
            "indexable",
        ),
        (200, "application/xhtml+xml", "<p>x</p>", "indexable"),
    ],
)
def test_indexability(status, content_type, page, reason):
    facts = None if page is None else _extract(page)
    result = indexability(status, content_type, facts, URL)
    assert (result.indexable, result.reason) == (reason == "indexable", reason)
    assert reason in INDEXABILITY_REASONS


def test_header_noindex_makes_a_page_not_indexable():
    facts = _extract("<p>x</p>", x_robots_tag="noindex")
    assert indexability(200, "text/html", facts, URL).reason == "noindex"
    assert (BLOCKED_BY_ROBOTS.indexable, BLOCKED_BY_ROBOTS.reason) == (False, "blocked_by_robots")
