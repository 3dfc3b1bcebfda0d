"""The demo shop's competitors: a fixed cast of outdoor-gear sites that outrank it in the DataForSEO stand-in.

Every SERP the stand-in (``kestrel_local.dataforseo``) builds names these sites' pages, and the demo site
server answers for their hosts too (virtual hosts, same TLS authority, pinned like the demo site), so
screenshots and content briefs can fetch what the SERP shows. A site's pages are a function of its
domain and the request path:

* ``/``: the home page, linking a handful of evergreen articles (``ARTICLE_TOPICS``);
* ``/{section}/{slug}/`` (``section`` is the site's, e.g. ``/reviews/`` for ``peakgear.example``): an
  article about the words of the slug: the page a SERP links for the keyword ``slug`` spells;
* anything else: 404.

``serp_url(site, keyword)`` is the URL a SERP shows for a keyword; ``competitor_page`` renders it.
"""

import hashlib
import random
import re
from dataclasses import dataclass
from functools import lru_cache

from kestrel_local.demo_site.catalogue import Link, Page, SiteCatalogue, slugify
from kestrel_local.demo_site.inventory import CATEGORIES, PLACES
from kestrel_local.demo_site.writing import paragraphs


@dataclass(frozen=True)
class CompetitorSite:
    domain: str  # without www.
    name: str
    kind: str  # "shop", "reviews", "wiki", "forum", "video", "magazine"
    section: str  # the path segment of its articles
    tagline: str

    @property
    def host(self) -> str:
        return f"www.{self.domain}"

    @property
    def base_url(self) -> str:
        return f"https://{self.host}/"


COMPETITORS: tuple[CompetitorSite, ...] = (
    CompetitorSite("summit-supply.example", "Summit Supply", "shop", "gear", "Outdoor gear, shipped free"),
    CompetitorSite("trailhead-outfitters.example", "Trailhead Outfitters", "shop", "shop", "Kit for every trail"),
    CompetitorSite("peakgear.example", "PeakGear", "reviews", "reviews", "Independent gear reviews"),
    CompetitorSite("basecamp-journal.example", "Basecamp Journal", "magazine", "guides", "Stories from the hills"),
    CompetitorSite("outdoorpedia.example", "Outdoorpedia", "wiki", "wiki", "The free outdoor encyclopedia"),
    CompetitorSite("trailtalk-forum.example", "TrailTalk", "forum", "t", "The hikers' forum"),
    CompetitorSite("trailtube.example", "TrailTube", "video", "watch", "Outdoor videos"),
    CompetitorSite("ridgeline-co-op.example", "Ridgeline Co-op", "shop", "products", "Member-owned since 1972"),
)
BY_HOST: dict[str, CompetitorSite] = {host: site for site in COMPETITORS for host in (site.host, site.domain)}
ARTICLE_TOPICS = (
    "best hiking boots",
    "trail running shoes",
    "how to choose a sleeping bag",
    "waterproof hiking jacket",
    "ultralight tent",
)
_SLUG = re.compile(r"^/([a-z]+)/([a-z0-9]+(?:-[a-z0-9]+)*)/?$")


def serp_url(site: CompetitorSite, keyword: str) -> str:
    """The page of ``site`` a SERP shows for ``keyword`` (fetchable from the demo site server)."""
    return f"{site.base_url}{site.section}/{slugify(keyword) or 'gear'}/"


def serp_title(site: CompetitorSite, keyword: str) -> str:
    subject = keyword.strip().capitalize()
    return {
        "shop": f"{subject} | Shop at {site.name}",
        "reviews": f"The 9 Best {keyword.strip().removeprefix('best ').title()} of 2026 | {site.name}",
        "magazine": f"{subject}: an expert guide - {site.name}",
        "wiki": f"{keyword.strip().title()} - {site.name}",
        "forum": f"{subject}? Advice please : {site.name}",
        "video": f"{subject} - tested on the trail | {site.name}",
    }[site.kind]


def serp_description(site: CompetitorSite, keyword: str) -> str:
    return {
        "shop": f"Shop {keyword} at {site.name}. Free delivery over £50, 60-day returns and price match.",
        "reviews": f"We tested 27 {keyword} over 400 miles. Here are the ones worth your money in 2026.",
        "magazine": f"Everything to know about {keyword}: what matters, what doesn't, and our picks.",
        "wiki": f"{keyword.capitalize()} are a category of outdoor equipment. This article covers history and types.",
        "forum": f"I've been looking at {keyword} for a trip next month. Anyone have experience? 48 replies.",
        "video": f"We put {keyword} through a week of rain, scree and river crossings. Watch the results.",
    }[site.kind]


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()[:8], "big")


@lru_cache(maxsize=16)
def competitor_catalogue(domain: str) -> SiteCatalogue:
    """A competitor's site: its home page and evergreen articles (the SERP pages are made on request)."""
    site = BY_HOST[domain.lower()]
    pages = {"/": _home(site)}
    for topic in ARTICLE_TOPICS:
        page = _article(site, f"/{site.section}/{slugify(topic)}/")
        if page is not None:
            pages[page.path] = page
    navigation = (Link("/", "Home"), *(Link(f"/{site.section}/{slugify(t)}/", t.capitalize()) for t in ARTICLE_TOPICS))
    return SiteCatalogue(
        domain=site.domain,
        brand=site.name,
        scale=1,
        pages=pages,
        redirects={},
        navigation=navigation,
        footer=(("About", (Link("/", site.tagline),)),),
        cases={},
        disallowed=(),
    )


def competitor_page(domain: str, path: str) -> Page | None:
    """The page at ``path`` of a competitor's site, or None (404)."""
    catalogue = competitor_catalogue(domain)
    return catalogue.pages.get(path) or _article(BY_HOST[domain.lower()], path)


def _home(site: CompetitorSite) -> Page:
    links = tuple(Link(f"/{site.section}/{slugify(topic)}/", topic.capitalize()) for topic in ARTICLE_TOPICS)
    return Page(
        path="/",
        kind="home",
        title=f"{site.name} | {site.tagline}",
        description=f"{site.name}: {site.tagline.lower()}.",
        h1s=(site.name,),
        paragraphs=(f"{site.name}. {site.tagline}.",),
        links=links,
    )


@lru_cache(maxsize=2048)
def _article(site: CompetitorSite, path: str) -> Page | None:
    match = _SLUG.match(path)
    if match is None or match.group(1) != site.section:
        return None
    keyword = match.group(2).replace("-", " ")
    rng = random.Random(_seed(site.domain, path))  # noqa: S311 -- deterministic demo content
    words = set(keyword.split())
    category = max(CATEGORIES, key=lambda c: len(words & set(c.keyword.split())))
    products = [f"{brand} {model}" for brand, model in category.models[:6]] or [category.name]
    body = paragraphs(rng, rng.randint(4, 7), category=category, products=products, place=rng.choice(PLACES))
    title = serp_title(site, keyword)
    return Page(
        path=f"/{site.section}/{match.group(2)}/",
        kind="article",
        title=title,
        description=serp_description(site, keyword),
        h1s=(title.split(" | ")[0].split(" - ")[0],),
        outline=tuple((2, heading) for heading in ("What to look for", f"Our {keyword} picks", "The verdict")),
        paragraphs=body,
        keyword=keyword,
        canonical=f"{site.base_url}{site.section}/{match.group(2)}/",
    )
