"""Sitemaps (sitemaps.org): the URLs a site says it has, read without trusting the file.

A sitemap comes from the site being crawled, so it is treated as hostile: gzip is recognised by
its magic bytes (servers label it inconsistently) and decompressed only up to ``MAX_UNCOMPRESSED``
(a gzip bomb stops there), and the XML parser resolves no entity, loads no DTD and reaches no
network (an entity-expansion bomb stays unexpanded and XXE reads nothing). A plain-text sitemap,
one URL per line, is accepted too. Whatever is wrong is listed in ``errors``, never raised.
"""

import zlib
from dataclasses import dataclass
from typing import Literal

from lxml import etree

GZIP_MAGIC = b"\x1f\x8b"
MAX_UNCOMPRESSED = 50 * 1024 * 1024  # the sitemaps.org limit for one file
MAX_URLS = 50_000  # likewise


@dataclass(frozen=True)
class Sitemap:
    """A sitemap's kind (a list of pages, or an index of further sitemaps), its URLs and what was wrong."""

    kind: Literal["urlset", "index"]
    urls: tuple[str, ...]
    errors: tuple[str, ...]


def _gunzip(body: bytes, limit: int) -> tuple[bytes, str | None]:
    """The decompressed body up to ``limit`` bytes, and an error when it was cut or corrupt."""
    decompressor = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    try:
        data = decompressor.decompress(body, limit)
    except zlib.error as exc:
        return b"", f"not valid gzip: {exc}"
    if decompressor.unconsumed_tail:
        return data, f"more than {limit} bytes once decompressed; the rest is ignored"
    if not decompressor.eof:
        return data, "not valid gzip: the stream ends early"
    return data, None


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False, remove_comments=True
    )


def _local_name(tag: object) -> str:
    # Namespaces vary (sitemaps.org 0.9, Google's old 0.84, none at all); only the local name matters.
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _plain_text_urls(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith(("http://", "https://"))]


def parse_sitemap(body: bytes, *, url: str, max_urls: int = MAX_URLS) -> Sitemap:
    """The URLs of the sitemap fetched from ``url``: ``<loc>`` of each ``<url>`` or ``<sitemap>``, or text lines."""
    errors: list[str] = []
    if body.startswith(GZIP_MAGIC):
        body, error = _gunzip(body, MAX_UNCOMPRESSED)
        if error:
            errors.append(f"{url}: {error}")
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped.startswith(b"<"):
        urls = _plain_text_urls(stripped.decode("utf-8", errors="replace"))
        if not urls:
            errors.append(f"{url}: neither an XML sitemap nor a list of URLs")
        return _capped(Sitemap("urlset", tuple(urls), tuple(errors)), max_urls, url)
    try:
        root = etree.fromstring(stripped, _parser())
    except etree.XMLSyntaxError as exc:
        return Sitemap("urlset", (), (*errors, f"{url}: not well-formed XML: {exc}"))
    root_name = _local_name(root.tag)
    if root_name not in ("urlset", "sitemapindex"):
        return Sitemap("urlset", (), (*errors, f"{url}: the root element is <{root_name}>, not a sitemap"))
    entry = "url" if root_name == "urlset" else "sitemap"
    urls = []
    for child in root:
        if _local_name(child.tag) != entry:
            continue
        loc = next((el.text for el in child if _local_name(el.tag) == "loc"), None)
        if loc and loc.strip():
            urls.append(loc.strip())
        else:
            errors.append(f"{url}: a <{entry}> without <loc> (line {child.sourceline})")
    kind: Literal["urlset", "index"] = "urlset" if root_name == "urlset" else "index"
    return _capped(Sitemap(kind, tuple(urls), tuple(errors)), max_urls, url)


def _capped(sitemap: Sitemap, max_urls: int, url: str) -> Sitemap:
    if len(sitemap.urls) <= max_urls:
        return sitemap
    error = f"{url}: {len(sitemap.urls)} URLs, more than {max_urls}; the rest are ignored"
    return Sitemap(sitemap.kind, sitemap.urls[:max_urls], (*sitemap.errors, error))
