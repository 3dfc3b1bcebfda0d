"""The local demo website: "Demo Outdoor", an outdoor-gear shop and blog that the crawler and its tests crawl.

- ``inventory``: what the shop sells and writes about (categories, brands, places, guides);
- ``writing``: body text naming brands, products and places;
- ``catalogue``: every page, redirect and audit case of a site, a pure function of its domain and scale;
- ``render``: a page's HTML; ``sitemaps``: robots.txt and the sitemaps;
- ``server``: ``DemoSiteServer``, the catalogue over HTTPS (a local CA) or HTTP, instrumented for tests.
"""

from kestrel_local.demo_site.catalogue import Image, Link, Page, SiteCatalogue, brand_name, site_catalogue
from kestrel_local.demo_site.render import render
from kestrel_local.demo_site.server import DEFAULT_DOMAIN, AccessLogEntry, DemoSiteServer

__all__ = [
    "DEFAULT_DOMAIN",
    "AccessLogEntry",
    "DemoSiteServer",
    "Image",
    "Link",
    "Page",
    "SiteCatalogue",
    "brand_name",
    "render",
    "site_catalogue",
]
