"""The demo site as data: every page, redirect and audit case, a pure function of the domain and a scale.

``site_catalogue("demo-outdoor.example.com")`` is "Demo Outdoor", an outdoor-gear shop and blog at
``https://www.demo-outdoor.example.com/``: about 180 pages at scale 1 (home, categories, products,
trip reports, buying guides, help pages) and the problems a site audit must find, each listed in
``cases`` with the URLs involved so tests know the answers. ``scale`` multiplies the products and
articles (scale 15 is over 2,000 pages, for benchmarks); the cases do not change with it.
"""

import itertools
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from kestrel_local.demo_site.inventory import (
    ARTICLE_TITLES,
    BRAND_SITES,
    CATEGORIES,
    EDITIONS,
    GUIDES,
    PLACES,
    SEASONS,
    Category,
    Place,
)
from kestrel_local.demo_site.writing import paragraphs

PRODUCTS_PER_CATEGORY = 10
ARTICLES = 24
LISTING_PAGE_SIZE = 12
# robots.txt rules for every crawler (RFC 9309 patterns)
DISALLOWED = ("/checkout/", "/search", "/*?sort=")
OVERSIZED_BYTES = 3_200_000  # over the crawler's 3 MB limit


@dataclass(frozen=True)
class Link:
    href: str  # a path on the site, or an absolute URL elsewhere
    text: str
    rel: str | None = None


@dataclass(frozen=True)
class Image:
    src: str
    alt: str | None  # None: the image has no alt attribute


@dataclass(frozen=True)
class Page:
    path: str
    kind: str
    title: str | None
    description: str | None
    h1s: tuple[str, ...]
    outline: tuple[tuple[int, str], ...] = ()  # (2 or 3, heading) in document order
    paragraphs: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()  # the page's own links; navigation and footer are the site's
    images: tuple[Image, ...] = ()
    json_ld: tuple[Mapping[str, Any], ...] = ()
    keyword: str | None = None  # the search phrase the page is written for (in its title or H1)
    canonical: str | None = None  # <link rel="canonical">, absolute
    header_canonical: str | None = None  # Link: <...>; rel="canonical" instead
    robots: str | None = None  # <meta name="robots">
    x_robots_tag: str | None = None
    hreflang: tuple[tuple[str, str], ...] = ()  # (language, absolute URL)
    lang: str = "en"
    charset: str = "utf-8"
    min_bytes: int = 0  # padded with a gear table up to this size
    malformed: bool = False  # closing tags left out
    slow: bool = False
    sitemap: str | None = None  # "pages" or "blog": the sitemap that lists the page
    content_type: str = "text/html"
    body: bytes | None = None  # a non-HTML page's bytes


@dataclass(frozen=True)
class SiteCatalogue:
    domain: str
    brand: str
    scale: int
    pages: Mapping[str, Page]  # by path; a query string never selects another page
    redirects: Mapping[str, str]  # path -> path (301)
    navigation: tuple[Link, ...]
    footer: tuple[tuple[str, tuple[Link, ...]], ...]
    cases: Mapping[str, tuple[str, ...]]  # audit case -> the absolute URLs involved
    disallowed: tuple[str, ...] = DISALLOWED

    @property
    def base_url(self) -> str:
        return f"https://www.{self.domain}/"

    @property
    def hosts(self) -> tuple[str, str]:
        return f"www.{self.domain}", self.domain

    def url(self, path: str) -> str:
        return self.base_url + path.removeprefix("/")

    def page_for(self, target: str) -> Page | None:
        """The page a request target (path and query, or a URL on the site) is answered with."""
        return self.pages.get(urlsplit(target).path or "/")

    def is_disallowed(self, target: str) -> bool:
        parts = urlsplit(target)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return any(re.match(re.escape(rule).replace(r"\*", ".*"), path) for rule in self.disallowed)

    def indexable_pages(self) -> tuple[Page, ...]:
        """HTML pages a search engine may index: allowed, not noindex, their own canonical."""
        return tuple(
            page
            for path, page in self.pages.items()
            if page.content_type == "text/html"
            and not self.is_disallowed(path)
            and "noindex" not in f"{page.robots} {page.x_robots_tag}"
            and page.header_canonical is None
            and page.canonical in (None, self.url(path))
        )


def brand_name(domain: str) -> str:
    """``demo-outdoor.example.com`` → ``Demo Outdoor``."""
    label = domain.lower().removeprefix("www.").split(".", 1)[0]
    return " ".join(word.capitalize() for word in label.split("-") if word) or "Outdoor"


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "")).strip("-")


@lru_cache(maxsize=16)
def site_catalogue(domain: str, *, scale: int = 1) -> SiteCatalogue:
    if scale < 1:
        raise ValueError("scale is 1 or more")
    return _Builder(domain.lower().removeprefix("www."), scale).build()


@dataclass(frozen=True)
class _Product:
    path: str
    name: str
    brand: str
    category: Category
    index: int


class _Builder:
    def __init__(self, domain: str, scale: int) -> None:
        self.domain = domain
        self.scale = scale
        self.brand = brand_name(domain)
        self.base = f"https://www.{domain}/"
        self.pages: dict[str, Page] = {}
        self.redirects: dict[str, str] = {}
        self.products = self._products()
        self.by_category = {c.slug: [p for p in self.products if p.category is c] for c in CATEGORIES}

    def rng(self, *parts: object) -> random.Random:
        return random.Random("\x1f".join(map(str, (self.domain, *parts))))  # noqa: S311 -- deterministic content

    def url(self, path: str) -> str:
        return self.base + path.removeprefix("/")

    def add(self, page: Page, *, self_canonical: bool = True) -> Page:
        if page.path in self.pages:
            raise ValueError(f"two pages at {page.path}")
        if self_canonical and page.canonical is None and page.header_canonical is None:
            page = replace(page, canonical=self.url(page.path))
        self.pages[page.path] = page
        return page

    # -- products ---------------------------------------------------------------------------------

    def _products(self) -> list[_Product]:
        products = []
        for category in CATEGORIES:
            for index in range(PRODUCTS_PER_CATEGORY * self.scale):
                brand, model = category.models[index % len(category.models)]
                generation = index // len(category.models)
                edition = EDITIONS[generation % len(EDITIONS)]
                year = f" {2024 + generation // len(EDITIONS)}" if generation >= len(EDITIONS) else ""
                name = f"{brand} {model}{f' {edition}' if edition else ''}{year}"
                products.append(_Product(f"/products/{slugify(name)}", name, brand, category, index))
        return products

    def _product_page(self, product: _Product) -> Page:
        rng = self.rng("product", product.path)
        category = product.category
        siblings = [p for p in self.by_category[category.slug] if p is not product]
        related = rng.sample(siblings, k=min(3, len(siblings)))
        place = rng.choice(PLACES)
        price = rng.choice((29, 49, 79, 99, 129, 159, 189, 229, 279, 349, 449, 599)) + 0.95
        specs = [(name, _spec_value(rng, name)) for name in category.specs]
        guide = next((g for g in GUIDES if g[3] == category.slug), None)
        rel = ("nofollow", "sponsored", None)[product.index % 3]
        links = [
            Link(f"/{category.slug}/", f"All {category.name.lower()}"),
            *(Link(p.path, p.name) for p in related),
            Link(BRAND_SITES[product.brand], f"{product.brand} website", rel),
        ]
        if guide:
            links.append(Link(f"/guides/{guide[0]}/", guide[1]))
        description = (
            f"{product.name}: {category.singular} tested in {place.name}. £{price:.2f}, free delivery over £50 "
            f"and 60-day returns at {self.brand}."
        )
        text = paragraphs(rng, 3, category=category, products=[product.name, *(p.name for p in related)], place=place)
        image = f"/images/products/{product.path.rsplit('/', 1)[1]}"
        return Page(
            path=product.path,
            kind="product",
            title=f"{product.name} | {category.name} | {self.brand}",
            description=description,
            h1s=(product.name,),
            outline=(
                (2, "Why we like it"),
                (2, "Specifications"),
                *((3, name) for name, _ in specs),
                (2, "Reviews"),
            ),
            paragraphs=(*text, "Specifications: " + "; ".join(f"{name}: {value}" for name, value in specs) + "."),
            links=tuple(links),
            images=(
                Image(f"{image}-1.jpg", product.name),
                Image(f"{image}-2.jpg", None if product.index % 3 == 0 else f"{product.name} in use"),
            ),
            json_ld=(
                {
                    "@context": "https://schema.org",
                    "@type": "Product",
                    "name": product.name,
                    "brand": {"@type": "Brand", "name": product.brand},
                    "sku": f"DO-{slugify(category.slug)[:4].upper()}-{product.index:04d}",
                    "image": self.url(f"{image}-1.jpg"),
                    "description": description,
                    "offers": {
                        "@type": "Offer",
                        "price": f"{price:.2f}",
                        "priceCurrency": "GBP",
                        "availability": "https://schema.org/InStock",
                        "url": self.url(product.path),
                    },
                    "aggregateRating": {
                        "@type": "AggregateRating",
                        "ratingValue": f"{rng.uniform(3.6, 4.9):.1f}",
                        "reviewCount": rng.randint(3, 480),
                    },
                },
                self._breadcrumbs((category.name, f"/{category.slug}/"), (product.name, product.path)),
            ),
            keyword=product.name.lower(),
            sitemap="pages",
        )

    # -- categories -------------------------------------------------------------------------------

    def _category_pages(self, category: Category) -> list[Page]:
        products = self.by_category[category.slug]
        chunks = [products[i : i + LISTING_PAGE_SIZE] for i in range(0, len(products), LISTING_PAGE_SIZE)]
        guide = next((g for g in GUIDES if g[3] == category.slug), None)
        brands = ", ".join(sorted({brand for brand, _ in category.models}))
        pages = []
        for number, chunk in enumerate(chunks, start=1):
            path = f"/{category.slug}/" if number == 1 else f"/{category.slug}/page/{number}/"
            rng = self.rng("category", path)
            links = [Link(p.path, p.name) for p in chunk]
            links += [
                Link(f"/{category.slug}/?sort=price", "Sort by price"),
                Link(f"/{category.slug}/?sort=rating", "Sort by rating"),
            ]
            if number < len(chunks):
                links.append(Link(f"/{category.slug}/page/{number + 1}/", "Next page"))
            if guide:
                links.append(Link(f"/guides/{guide[0]}/", guide[1]))
            suffix = "" if number == 1 else f" (page {number})"
            pages.append(
                Page(
                    path=path,
                    kind="category",
                    title=f"{category.name}{suffix} | {self.brand}",
                    description=f"Shop {category.name.lower()} from {brands} at {self.brand}: "
                    "expert advice, free delivery over £50 and 60-day returns.",
                    h1s=(category.name + suffix,),
                    outline=((2, "Our top picks"), (2, f"How to choose a {category.singular}")),
                    paragraphs=paragraphs(
                        rng, 2, category=category, products=[p.name for p in chunk], place=rng.choice(PLACES)
                    ),
                    links=tuple(links),
                    images=(Image(f"/images/categories/{category.slug}.jpg", category.name),),
                    json_ld=(self._breadcrumbs((category.name, f"/{category.slug}/")),),
                    keyword=category.keyword if number == 1 else None,
                    sitemap="pages",
                )
            )
        return pages

    # -- articles and guides ----------------------------------------------------------------------

    def _article_subjects(self) -> list[tuple[str, Place, Category]]:
        """Titles for the trip reports and best-of lists, with the place and category each is about."""
        rng = self.rng("articles")
        subjects: dict[str, tuple[Place, Category]] = {}
        for template, place, season in itertools.product(ARTICLE_TITLES, PLACES, SEASONS):
            place_title = place.name.removeprefix("the ")
            title = template.format(
                place_title=place_title[0].upper() + place_title[1:],
                route=_title(place.route),
                town=place.town,
                season=season,
            )
            subjects.setdefault(title, (place, rng.choice(CATEGORIES)))
        for category, place in itertools.product(CATEGORIES, PLACES):
            subjects.setdefault(f"Best {category.name} for {_title(place.name)}", (place, category))
        chosen = rng.sample(sorted(subjects), k=min(len(subjects), ARTICLES * self.scale - 1))
        return [(title, *subjects[title]) for title in chosen]

    def _article(
        self, path: str, title: str, place: Place, category: Category, *, kind: str = "article", keyword: str
    ) -> Page:
        rng = self.rng(kind, path)
        products = rng.sample(self.by_category[category.slug], k=3)
        guide = next((g for g in GUIDES if g[3] == category.slug), GUIDES[0])
        links = [
            *(Link(p.path, p.name) for p in products),
            Link(f"/{category.slug}/", category.name),
            Link(BRAND_SITES[products[0].brand], products[0].brand, "nofollow" if rng.random() < 0.5 else None),
        ]
        if kind == "article":
            links.append(Link(f"/guides/{guide[0]}/", guide[1]))
        published = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        image = f"/images/{kind}s/{path.rstrip('/').rsplit('/', 1)[1]}.jpg"
        sections = (
            ("Getting there", "The route", "What we packed", "Where to stay")
            if kind == "article"
            else ("What to look for", "Our picks", "Care and repair")
        )
        return Page(
            path=path,
            kind=kind,
            title=f"{title} | {self.brand}",
            description=f"{title}: routes, conditions and the gear our team used in {place.name}, "
            f"with {products[0].name} and {products[1].name}.",
            h1s=(title,),
            outline=(*((2, section) for section in sections), (3, products[0].name), (3, products[1].name)),
            paragraphs=paragraphs(rng, 6, category=category, products=[p.name for p in products], place=place),
            links=tuple(links),
            images=(
                Image(image, title),
                Image(image.replace(".jpg", "-2.jpg"), None if rng.random() < 0.25 else place.route),
            ),
            json_ld=(
                {
                    "@context": "https://schema.org",
                    "@type": "Article",
                    "headline": title,
                    "datePublished": published,
                    "author": {"@type": "Person", "name": rng.choice(("Isla Fraser", "Marco Bernardi", "Jess Okafor"))},
                    "publisher": {"@type": "Organization", "name": self.brand},
                    "image": self.url(image),
                },
                self._breadcrumbs(
                    ("Blog" if kind == "article" else "Guides", f"/{'blog' if kind == 'article' else 'guides'}/"),
                    (title, path),
                ),
            ),
            keyword=keyword,
            sitemap="blog",
        )

    def _listing(self, section: str, name: str, entries: list[Page]) -> list[Page]:
        chunks = [entries[i : i + LISTING_PAGE_SIZE] for i in range(0, len(entries), LISTING_PAGE_SIZE)]
        pages = []
        for number, chunk in enumerate(chunks, start=1):
            path = f"/{section}/" if number == 1 else f"/{section}/page/{number}/"
            links = [Link(page.path, page.h1s[0] if page.h1s else page.path) for page in chunk]
            if number < len(chunks):
                links.append(Link(f"/{section}/page/{number + 1}/", "Older posts"))
            suffix = "" if number == 1 else f" (page {number})"
            pages.append(
                Page(
                    path=path,
                    kind="listing",
                    title=f"{name}{suffix} | {self.brand}",
                    description=f"{name} from the {self.brand} team: trip reports, gear lists and buying advice.",
                    h1s=(name + suffix,),
                    paragraphs=(f"{name} from our staff, written after the trips and tested on the trails.",),
                    links=tuple(links),
                    sitemap="pages",
                )
            )
        return pages

    # -- the rest ---------------------------------------------------------------------------------

    def _breadcrumbs(self, *trail: tuple[str, str]) -> dict[str, Any]:
        items = [("Home", "/"), *trail]
        return {
            "@context": "https://schema.org",
            "@type": "BreadcrumbList",
            "itemListElement": [
                {"@type": "ListItem", "position": i, "name": name, "item": self.url(path)}
                for i, (name, path) in enumerate(items, start=1)
            ],
        }

    def _simple(self, path: str, title: str | None, h1: str | None, text: str, **extra: Any) -> Page:
        description = extra.pop("description", f"{title or h1}: {text[:110].rsplit(' ', 1)[0]}.")
        return Page(
            path=path,
            kind=extra.pop("kind", "info"),
            title=title,
            description=description,
            h1s=(h1,) if h1 else (),
            paragraphs=extra.pop("paragraphs", (text,)),
            sitemap=extra.pop("sitemap", "pages"),
            **extra,
        )

    def _help_text(self, topic: str) -> tuple[str, ...]:
        rng = self.rng("help", topic)
        place = rng.choice(PLACES)
        return paragraphs(
            rng, 3, category=rng.choice(CATEGORIES), products=[p.name for p in self.products[:4]], place=place
        )

    def build(self) -> SiteCatalogue:
        brand, term = self.brand, self.brand.lower()
        boots = self.by_category["hiking-boots"]
        guides = [
            self._article(
                f"/guides/{slug}/",
                title,
                self.rng("guide", slug).choice(PLACES),
                _category(cat),
                kind="guide",
                keyword=keyword,
            )
            for slug, title, keyword, cat in GUIDES
        ]
        sleeping_guide = guides[0]
        guides[0] = replace(
            sleeping_guide, links=(*sleeping_guide.links, Link(f"{sleeping_guide.path}print/", "Print this guide"))
        )
        articles = [
            self._article(f"/blog/{slugify(title)}/", title, place, category, keyword=title.split(":")[0].lower())
            for title, place, category in self._article_subjects()
        ]
        best_boots = self._article(
            "/blog/best-hiking-boots/",
            "Best Hiking Boots of 2026, Tested in the Alps",
            PLACES[0],
            _category("hiking-boots"),
            keyword="best hiking boots",
        )
        missing_product = "/products/salomon-xa-pro-3d-v8"
        articles[0] = replace(
            articles[0], links=(*articles[0].links, Link(missing_product, "the old Salomon XA Pro 3D"))
        )
        legacy = Page(
            path="/blog/apres-ski-in-chamonix/",
            kind="article",
            title=f"Après-Ski in Chamonix: Cafés, Crêpes and Crampons | {brand}",
            description="Où manger après une journée sur l\u2019Aiguille du Midi: our café guide to Chamonix, "
            "from crêpes to fondue.",
            h1s=("Après-Ski in Chamonix: Cafés, Crêpes and Crampons",),
            paragraphs=(
                "After a long day on the Vallée Blanche we walked into Chamonix for crêpes at a café on the Rue du "
                "Docteur Paccard. The crème brûlée costs €7 and is worth every cent \u2013 "
                "\u201cthe best in the valley\u201d, our guide said.",
                "Our friends from Zürich and München swear by the fondue at Le Monchu; the rösti comes with Gruyère "
                "and a view of the Aiguille du Midi. Don\u2019t miss the Salomon and Arc\u2019teryx shops "
                "on the Place Balmat.",
            ),
            charset="windows-1252",
            sitemap="blog",
        )
        malformed = Page(
            path="/blog/trail-notes-from-the-archive/",
            kind="article",
            title=f"Trail Notes from the Archive | {brand}",
            description="Old trail notes from our first shop in Keswick: the Lake District fells in the rain.",
            h1s=("Trail Notes from the Archive",),
            outline=((2, "Keswick, 2009"),),
            paragraphs=self._help_text("archive"),
            malformed=True,
            sitemap="blog",
        )
        orphan = self._article(
            "/guides/winter-camping-checklist/",
            "Winter Camping Checklist",
            PLACES[1],
            _category("sleeping-bags"),
            kind="guide",
            keyword="winter camping checklist",
        )

        featured = [self.by_category[c.slug][0] for c in CATEGORIES]
        navigation = (
            *(Link(f"/{c.slug}/", c.name) for c in CATEGORIES),
            Link("/blog/", "Blog"),
            Link("/guides/", "Guides"),
            Link("/cart/", "Cart"),
        )
        footer = (
            (
                "Help",
                (
                    Link("/shipping/", "Shipping"),
                    Link("/returns/", "Returns"),
                    Link("/warranty/", "Warranty"),
                    Link("/size-guide/", "Size guide"),
                    Link("/faq/", "FAQ"),
                    Link("/contact/", "Contact us"),
                    Link("/store-finder/", "Store finder"),
                    Link("/gift-cards/", "Gift cards"),
                ),
            ),
            (
                "Company",
                (
                    Link("/about/", f"About {brand}"),
                    Link("/careers/", "Careers"),
                    Link("/stores/", "Our stores"),
                    Link("/press/", "Press"),
                    Link("/sustainability/", "Sustainability"),
                    Link("/reviews/", "Reviews"),
                    Link("/discount-codes/", "Discount codes"),
                    Link("/newsletter/", "Newsletter"),
                ),
            ),
        )

        self.add(
            Page(
                path="/",
                kind="home",
                title=f"{brand} | Outdoor Gear, Hiking Boots and Trail Running Shoes",
                description=f"{brand} sells hiking boots, trail running shoes, tents and clothing from Salomon, Hoka, "
                "Arc'teryx and Patagonia, with guides from the Alps to Yosemite.",
                h1s=(f"{brand}: Gear for Wild Places",),
                outline=((2, "Shop by category"), (2, "Staff picks"), (2, "From the blog")),
                paragraphs=self._help_text("home"),
                links=(
                    *(Link(p.path, p.name) for p in featured),
                    *(Link(a.path, a.h1s[0]) for a in [best_boots, *articles[:4]]),
                    *(Link(g.path, g.h1s[0]) for g in guides[:3]),
                    Link("/old-sale/", "Shop the sale"),
                    Link("/lookbook/", "Autumn lookbook"),
                    Link("/gift-guide/", "Gift guide"),
                    Link("/search?q=ultralight+tent", "Popular: ultralight tent"),
                ),
                images=(
                    Image("/images/home/hero.jpg", "Hikers on a ridge at sunrise"),
                    Image("/images/home/banner.jpg", None),
                ),
                json_ld=(
                    {
                        "@context": "https://schema.org",
                        "@type": "Organization",
                        "name": brand,
                        "url": self.base,
                        "logo": self.url("/images/logo.png"),
                        "sameAs": [
                            f"https://www.instagram.com/{slugify(brand)}",
                            f"https://www.youtube.com/@{slugify(brand)}",
                        ],
                    },
                ),
                sitemap="pages",
            )
        )
        for category in CATEGORIES:
            for page in self._category_pages(category):
                self.add(page)
        for guide in guides:
            self.add(guide)
        self.add(best_boots)
        for article in articles:
            self.add(article)
        for product in self.products:
            page = self._product_page(product)
            if product is self.products[0]:  # colour swatches: parameter URLs whose canonical is this page
                page = replace(
                    page,
                    links=(*page.links, Link(f"{page.path}?color=red", "Red"), Link(f"{page.path}?color=blue", "Blue")),
                )
            self.add(page)
        for listing in self._listing("blog", "The Blog", [best_boots, *articles, legacy, malformed]):
            self.add(listing)
        self.add(self._listing("guides", "Buying Guides", guides)[0])
        self.add(legacy)
        self.add(malformed)
        self.add(orphan)
        self.add(
            Page(
                path=f"{sleeping_guide.path}print/",
                kind="print",
                title=f"Print: {sleeping_guide.title}",
                description=sleeping_guide.description,
                h1s=sleeping_guide.h1s,
                paragraphs=sleeping_guide.paragraphs,
                header_canonical=self.url(sleeping_guide.path),
            )
        )

        de_about, de_shipping = "/de/ueber-uns/", "/de/versand/"
        self.add(
            self._simple(
                "/about/",
                f"About {brand}",
                f"About {brand}",
                "",
                paragraphs=self._help_text("about"),
                hreflang=(("en", self.url("/about/")), ("de", self.url(de_about))),
                links=(Link(de_about, "Deutsch"),),
            )
        )
        self.add(
            self._simple(
                de_about,
                f"Über {brand}",
                f"Über {brand}",
                f"{brand} ist ein Outdoor-Geschäft aus Keswick. Wir verkaufen Wanderschuhe, Zelte und Bekleidung "
                "von Salomon, Patagonia und Arc'teryx und testen jedes Produkt in den Alpen und in den Dolomiten.",
                lang="de",
            )
        )
        pair = (("en", self.url("/shipping/")), ("de", self.url(de_shipping)), ("x-default", self.url("/shipping/")))
        self.add(
            self._simple(
                "/shipping/",
                f"Shipping and Delivery | {brand}",
                "Shipping and Delivery",
                "",
                paragraphs=self._help_text("shipping"),
                hreflang=pair,
                links=(Link(de_shipping, "Deutsch"),),
            )
        )
        self.add(
            self._simple(
                de_shipping,
                f"Versand und Lieferung | {brand}",
                "Versand und Lieferung",
                "Wir liefern innerhalb von zwei bis vier Werktagen nach Deutschland, Österreich und in die Schweiz. "
                "Ab 50 Euro ist der Versand kostenlos; Rücksendungen sind 60 Tage lang möglich.",
                lang="de",
                hreflang=pair,
                links=(Link("/shipping/", "English"),),
            )
        )
        shared_description = f"Returns and warranty at {brand}: 60 days to change your mind, and repairs for life."
        self.add(
            self._simple(
                "/returns/",
                f"Returns | {brand}",
                "Returns",
                "",
                paragraphs=self._help_text("returns"),
                description=shared_description,
            )
        )
        self.add(
            self._simple(
                "/warranty/",
                f"Warranty | {brand}",
                "Warranty",
                "",
                paragraphs=self._help_text("warranty"),
                description=shared_description,
            )
        )
        self.add(
            self._simple("/contact/", f"Contact Us | {brand}", "Contact Us", "", paragraphs=self._help_text("contact"))
        )
        self.add(
            self._simple(
                "/careers/",
                f"Careers | {brand}",
                "Careers",
                f"Join the {brand} team in our Keswick store or workshop. We have no open roles right now.",
            )
        )
        self.add(
            self._simple(
                "/stores/",
                f"Our Stores | {brand}",
                "Our Stores",
                "Visit us in Keswick, Fort William and Chamonix, open seven days a week.",
            )
        )
        self.add(
            self._simple(
                "/store-finder/",
                f"Store Finder | {brand}",
                "Store Finder",
                "",
                paragraphs=self._help_text("store-finder"),
                slow=True,
            )
        )
        self.add(
            self._simple(
                "/reviews/",
                f"{brand} Reviews: What Our Customers Say",
                f"{brand} Reviews",
                "",
                paragraphs=self._help_text("reviews"),
                keyword=f"{term} reviews",
            )
        )
        self.add(
            self._simple(
                "/discount-codes/",
                f"{brand} Discount Code and Offers",
                f"{brand} Discount Code",
                "",
                paragraphs=self._help_text("discount"),
                keyword=f"{term} discount code",
            )
        )
        self.add(
            self._simple(
                "/offers/",
                f"Offers | {brand}",
                "Offers",
                "",
                paragraphs=self._help_text("offers"),
                links=tuple(Link(p.path, p.name) for p in boots[:4]),
            )
        )
        gift_title = f"Gift Guide: Presents for Hikers | {brand}"
        self.add(
            self._simple(
                "/gift-guide/",
                gift_title,
                "Gift Guide",
                "",
                paragraphs=self._help_text("gifts"),
                links=(Link("/gift-guide/2025/", "Last year's gift guide"),),
            )
        )
        self.add(
            self._simple(
                "/gift-guide/2025/", gift_title, "Gift Guide 2025", "", paragraphs=self._help_text("gifts-2025")
            )
        )
        self.add(
            self._simple(
                "/lookbook/",
                f"Autumn Lookbook | {brand}",
                "Autumn Lookbook",
                "",
                paragraphs=self._help_text("lookbook"),
                x_robots_tag="noindex",
            )
        )
        self.add(
            self._simple(
                "/newsletter/",
                f"Newsletter | {brand}",
                "Newsletter",
                "",
                paragraphs=self._help_text("newsletter"),
                links=(Link("/newsletter/thank-you/", "Sign up"),),
            )
        )
        self.add(
            self._simple(
                "/newsletter/thank-you/",
                f"Thank You | {brand}",
                "Thank you for signing up",
                "Your first issue arrives on Friday.",
                robots="noindex, follow",
            )
        )
        self.add(
            self._simple(
                "/cart/",
                f"Your Cart | {brand}",
                "Your Cart",
                "Your cart is empty.",
                kind="cart",
                robots="noindex, follow",
                links=(Link("/checkout/", "Checkout"),),
                sitemap=None,
            )
        )
        self.add(
            self._simple(
                "/checkout/", f"Checkout | {brand}", "Checkout", "Secure checkout.", kind="checkout", sitemap=None
            )
        )
        self.add(
            self._simple(
                "/search",
                f"Search | {brand}",
                "Search results",
                "Results for your search.",
                kind="search",
                robots="noindex",
                sitemap=None,
            )
        )
        self.add(
            self._simple(
                "/size-guide/",
                None,
                "Size Guide",
                "",
                paragraphs=self._help_text("sizes"),
                links=(
                    Link("/files/size-guide.pdf", "Size guide (PDF)"),
                    Link("/gear-list/complete/", "The complete gear list"),
                ),
            )
        )
        self.add(
            Page(
                path="/files/size-guide.pdf",
                kind="file",
                title=None,
                description=None,
                h1s=(),
                content_type="application/pdf",
                body=_pdf(f"{brand} size guide"),
            ),
            self_canonical=False,
        )
        self.add(
            self._simple(
                "/gear-list/complete/",
                f"The Complete Gear List | {brand}",
                "The Complete Gear List",
                "",
                paragraphs=self._help_text("gear-list"),
                min_bytes=OVERSIZED_BYTES,
            )
        )
        self.add(
            self._simple(
                "/press/", f"Press | {brand}", "Press", "", paragraphs=self._help_text("press"), description=None
            )
        )
        self.add(
            replace(
                self._simple(
                    "/sustainability/",
                    f"Sustainability | {brand}",
                    "Sustainability",
                    "",
                    paragraphs=self._help_text("sustainability"),
                ),
                h1s=("Sustainability", "Repair, Reuse, Recycle"),
            )
        )
        self.add(
            self._simple("/faq/", f"Frequently Asked Questions | {brand}", None, "", paragraphs=self._help_text("faq"))
        )

        chain = ("/old-sale/", "/sale/", "/sale/current/", "/offers/")
        for source, target in itertools.pairwise(chain):
            self.redirects[source] = target
        loop = ("/gift-cards/", "/gift-card/")
        self.redirects[loop[0]], self.redirects[loop[1]] = loop[1], loop[0]

        u = self.url
        cases = {
            "robots_disallowed": (
                u("/checkout/"),
                u("/search?q=ultralight+tent"),
                u("/trail-running-shoes/?sort=price"),
            ),
            "links_to_disallowed": (u("/cart/"), u("/checkout/")),
            "redirect_chain": tuple(u(path) for path in chain),
            "redirect_loop": tuple(u(path) for path in loop),
            "apex_redirect": (f"https://{self.domain}/", self.base),
            "not_found": (u(missing_product),),
            "not_found_linked_from": (u(articles[0].path),),
            "noindex_meta": (u("/newsletter/thank-you/"),),
            "noindex_header": (u("/lookbook/"),),
            "canonical_parameter": (u(f"{self.products[0].path}?color=red"), u(self.products[0].path)),
            "canonical_header": (u(f"{sleeping_guide.path}print/"), u(sleeping_guide.path)),
            "hreflang_missing_return": (u("/about/"), u(de_about)),
            "hreflang_pair": (u("/shipping/"), u(de_shipping)),
            "thin_content": (u("/careers/"), u("/stores/")),
            "duplicate_title": (u("/gift-guide/"), u("/gift-guide/2025/")),
            "duplicate_description": (u("/returns/"), u("/warranty/")),
            "missing_title": (u("/size-guide/"),),
            "missing_description": (u("/press/"),),
            "multiple_h1": (u("/sustainability/"),),
            "missing_h1": (u("/faq/"),),
            "orphan": (u(orphan.path),),
            "slow": (u("/store-finder/"),),
            "non_html": (u("/files/size-guide.pdf"),),
            "legacy_charset": (u(legacy.path),),
            "oversized": (u("/gear-list/complete/"),),
            "malformed_html": (u(malformed.path),),
        }
        return SiteCatalogue(
            domain=self.domain,
            brand=brand,
            scale=self.scale,
            pages=self.pages,
            redirects=self.redirects,
            navigation=navigation,
            footer=footer,
            cases=cases,
        )


def _category(slug: str) -> Category:
    return next(category for category in CATEGORIES if category.slug == slug)


def _title(text: str) -> str:
    """``the West Highland Way`` → ``The West Highland Way`` (only the first letter changes)."""
    return text[0].upper() + text[1:]


_SPEC_VALUES = {
    "Weight": ("240 g", "310 g", "455 g", "690 g", "1.1 kg", "1.4 kg"),
    "Packed weight": ("890 g", "1.02 kg", "1.3 kg", "1.6 kg"),
    "Drop": ("0 mm", "4 mm", "6 mm", "8 mm", "10 mm"),
    "Stack height": ("25 mm", "29 mm", "33 mm", "38 mm"),
    "Lug depth": ("4 mm", "5 mm", "6 mm"),
    "Waterproofing": ("Gore-Tex", "eVent", "proprietary membrane", "none"),
    "Membrane": ("Gore-Tex Pro", "Gore-Tex Paclite", "H2No", "Pertex Shield"),
    "Hydrostatic head": ("10,000 mm", "20,000 mm", "28,000 mm"),
    "Comfort rating": ("-2 °C", "-5 °C", "-9 °C", "4 °C"),
    "Fill": ("850 fill-power goose down", "800 fill-power duck down", "synthetic"),
    "Fabric": ("100% merino wool", "merino/nylon core-spun", "merino/Tencel blend"),
    "Volume": ("35 L", "48 L", "58 L", "65 L"),
    "Lumens": ("350 lm", "450 lm", "1100 lm"),
    "Boil time": ("2 min 30 s", "3 min 20 s", "4 min"),
}


def _spec_value(rng: random.Random, name: str) -> str:
    return rng.choice(_SPEC_VALUES.get(name, ("standard", "regular", "adjustable", "included")))


def _pdf(text: str) -> bytes:
    """A one-page PDF whose page shows ``text`` (fixed bytes, no timestamps)."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
