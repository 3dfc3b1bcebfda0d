"""Sitemaps as sites serve them: XML or text, gzip or not, namespaced or not, and hostile ones."""

import gzip
import time

from shared.crawl.sitemaps import MAX_UNCOMPRESSED, parse_sitemap

URL = "https://demo.example.com/sitemap.xml"
URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <!-- generated -->
  <url><loc>
      https://demo.example.com/</loc><lastmod>2031-01-01</lastmod></url>
  <url><loc>https://demo.example.com/guides?a=1&amp;b=2</loc></url>
  <url><lastmod>2031-01-01</lastmod></url>
</urlset>"""
INDEX = b"""<sitemapindex xmlns="http://www.google.com/schemas/sitemap/0.84">
  <sitemap><loc>https://demo.example.com/sitemap-posts.xml.gz</loc></sitemap>
  <sitemap><loc>https://demo.example.com/sitemap-pages.xml</loc></sitemap>
</sitemapindex>"""


def test_a_urlset_with_trimmed_locs_and_entities_decoded():
    sitemap = parse_sitemap(URLSET, url=URL)
    assert sitemap.kind == "urlset"
    assert sitemap.urls == ("https://demo.example.com/", "https://demo.example.com/guides?a=1&b=2")
    assert sitemap.errors == (f"{URL}: a <url> without <loc> (line 7)",)


def test_an_index_in_another_namespace():
    sitemap = parse_sitemap(INDEX, url=URL)
    assert (sitemap.kind, sitemap.errors) == ("index", ())
    assert sitemap.urls == (
        "https://demo.example.com/sitemap-posts.xml.gz",
        "https://demo.example.com/sitemap-pages.xml",
    )


def test_without_namespace_and_with_a_bom():
    body = b"\xef\xbb\xbf<urlset><url><loc>https://demo.example.com/a</loc></url></urlset>"
    assert parse_sitemap(body, url=URL).urls == ("https://demo.example.com/a",)


def test_gzip_is_recognised_by_its_magic_bytes_whatever_the_name():
    assert parse_sitemap(gzip.compress(INDEX), url="https://demo.example.com/sitemap.xml").urls == (
        parse_sitemap(INDEX, url=URL).urls
    )


def test_a_gzip_bomb_stops_at_the_limit():
    bomb = gzip.compress(b"<urlset>" + b" " * (MAX_UNCOMPRESSED + 1_000_000) + b"</urlset>")
    assert len(bomb) < 200_000
    sitemap = parse_sitemap(bomb, url=URL)
    assert sitemap.urls == ()
    assert any("more than 52428800 bytes once decompressed" in error for error in sitemap.errors)


def test_corrupt_gzip_is_an_error():
    sitemap = parse_sitemap(b"\x1f\x8b\x08\x00garbage", url=URL)
    assert sitemap.urls == ()
    assert sitemap.errors[0].startswith(f"{URL}: not valid gzip")


def test_a_billion_laughs_does_not_expand():
    entities = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    bomb = f"""<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY lol0 "lol">{entities}]>
<urlset><url><loc>https://demo.example.com/&lol9;</loc></url></urlset>""".encode()
    started = time.perf_counter()
    sitemap = parse_sitemap(bomb, url=URL)
    assert time.perf_counter() - started < 1
    assert all(len(u) < 100 for u in sitemap.urls)


def test_external_entities_are_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    body = f"""<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file://{secret}">]>
<urlset><url><loc>https://demo.example.com/&xxe;</loc></url></urlset>""".encode()
    sitemap = parse_sitemap(body, url=URL)
    assert not any("TOPSECRET" in u for u in sitemap.urls)


def test_a_plain_text_sitemap():
    body = b"https://demo.example.com/a\r\n\r\n  https://demo.example.com/b  \n# comment\n"
    sitemap = parse_sitemap(body, url="https://demo.example.com/sitemap.txt")
    assert (sitemap.kind, sitemap.urls, sitemap.errors) == (
        "urlset",
        ("https://demo.example.com/a", "https://demo.example.com/b"),
        (),
    )


def test_garbage_is_an_error_never_an_exception():
    for body in (b"", b"\x00\x01binary", b"<html><body>Not found</body></html>", b"<urlset><url><loc>x</urlset"):
        sitemap = parse_sitemap(body, url=URL)
        assert sitemap.urls == ()
        assert len(sitemap.errors) == 1


def test_urls_beyond_the_cap_are_dropped_with_an_error():
    body = "".join(f"https://demo.example.com/{n}\n" for n in range(12)).encode()
    sitemap = parse_sitemap(body, url=URL, max_urls=10)
    assert len(sitemap.urls) == 10
    assert sitemap.errors == (f"{URL}: 12 URLs, more than 10; the rest are ignored",)
