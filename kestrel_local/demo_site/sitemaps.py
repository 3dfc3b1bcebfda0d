"""robots.txt and the sitemaps of a catalogue: an index at /sitemap.xml naming a plain and a gzip sitemap."""

import gzip
from html import escape

from kestrel_local.demo_site.catalogue import SiteCatalogue

SITEMAPS = {"/sitemaps/pages.xml": "pages", "/sitemaps/blog.xml.gz": "blog"}
_LASTMOD = "2026-01-15"  # fixed, so the files are the same bytes on every run


def robots_txt(catalogue: SiteCatalogue, *, crawl_delay: float) -> str:
    rules = "".join(f"Disallow: {rule}\n" for rule in catalogue.disallowed)
    return (
        f"# robots.txt for {catalogue.base_url}\n"
        f"User-agent: *\n{rules}Crawl-delay: {crawl_delay:g}\n\n"
        "User-agent: MegaIndex\nDisallow: /\n\n"
        f"Sitemap: {catalogue.url('/sitemap.xml')}\n"
    )


def sitemap_index(catalogue: SiteCatalogue) -> bytes:
    entries = "".join(
        f"  <sitemap><loc>{escape(catalogue.url(path))}</loc><lastmod>{_LASTMOD}</lastmod></sitemap>\n"
        for path in SITEMAPS
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{entries}</sitemapindex>\n"
    ).encode()


def sitemap(catalogue: SiteCatalogue, path: str) -> bytes:
    """The sitemap at ``path`` (one of ``SITEMAPS``), gzip-compressed when its name ends in .gz."""
    name = SITEMAPS[path]
    entries = "".join(
        f"  <url><loc>{escape(catalogue.url(page.path))}</loc><lastmod>{_LASTMOD}</lastmod></url>\n"
        for page in catalogue.pages.values()
        if page.sitemap == name
    )
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{entries}</urlset>\n"
    ).encode()
    return gzip.compress(document, mtime=0) if path.endswith(".gz") else document
