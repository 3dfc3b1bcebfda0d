"""Deterministic synthetic Search Console data: the rows of one property for one day and search type.

Seeded by the site URL. The property is the local demo site's outdoor-gear shop for the
property's domain (``kestrel_local.demo_site``): its pages are the catalogue's indexable pages
(scale 1, the site ``make up`` serves; ``SyntheticConfig.pages`` caps them, and a catalogue has fewer
than the default, about 170) plus one removed product Google still shows; its queries are built
from the catalogue (each page's own phrase lands on it, so a tracked keyword such as "trail running
shoes" lands on the page whose title contains it; then modifiers, comparisons, how-to and brand
queries), Zipf-weighted. Then countries (ISO 3166 alpha-3, lowercase, as Google returns them),
devices, positions with a position-to-CTR curve, weekly seasonality, and search
types (mostly web). The rows of one (site, date, search type) are generated on
demand (a few milliseconds) and only a small LRU cache of days is kept.
"""

import bisect
import datetime as dt
import hashlib
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from kestrel_local.demo_site.catalogue import Page, site_catalogue
from kestrel_local.demo_site.inventory import PLACES

# around a page's phrase: "best trail running shoes for women", "how to clean hiking boots"
_PREFIXES = ("best", "cheap", "lightweight", "buy", "women's", "men's", "used", "waterproof")
_SUFFIXES = (
    "review", "reviews", "sale", "2026", "for women", "for men", "for beginners", "near me", "uk", "price",
    "size guide", "for wide feet", "discount", "alternatives", "for winter", "for hiking", "vs", "on sale",
)  # fmt: skip
_READ_SUFFIXES = ("", "2026", "tips", "reddit", "pdf", "guide", "blog", "itinerary", "map")
_HOW_TO = ("how to clean", "how to wash", "how to size", "how to break in", "how to store", "what is the best")
# (suffix, the page it lands on; the home page when the site has no such page)
_BRAND_SUFFIXES = (
    ("", "/"), ("", "/"), ("", "/"), ("reviews", "/reviews/"), ("discount code", "/discount-codes/"),
    ("student discount", "/discount-codes/"), ("sale", "/offers/"), ("returns", "/returns/"),
    ("delivery", "/shipping/"), ("contact", "/contact/"), ("opening hours", "/stores/"), ("near me", "/stores/"),
    ("keswick", "/stores/"), ("blog", "/blog/"), ("size guide", "/size-guide/"), ("jobs", "/careers/"),
    ("login", "/"), ("order tracking", "/"),
)  # fmt: skip
_COUNTRIES = (
    ("usa", 30), ("gbr", 9), ("ind", 9), ("deu", 6), ("can", 5), ("fra", 4), ("aus", 4), ("bra", 3),
    ("esp", 3), ("nld", 2.5), ("ita", 2.5), ("jpn", 2), ("mex", 2), ("pol", 1.5), ("swe", 1.2),
    ("phl", 1.2), ("pak", 1), ("nga", 1), ("zaf", 1), ("idn", 1), ("tur", 0.8), ("irl", 0.8),
    ("che", 0.7), ("bel", 0.7), ("sgp", 0.6), ("are", 0.6), ("nzl", 0.5), ("prt", 0.5), ("dnk", 0.4),
    ("nor", 0.4), ("aut", 0.4), ("arg", 0.4), ("col", 0.4), ("vnm", 0.4), ("kor", 0.3), ("zzz", 0.1),
)  # fmt: skip
_TYPE_SHARES = {"web": 1.0, "image": 0.15, "video": 0.04, "news": 0.03, "discover": 0.08, "googleNews": 0.02}
_WEEKDAY = (1.0, 1.06, 1.05, 1.02, 0.94, 0.68, 0.72)  # Monday first: weekends lower
_CTR_TOP10 = (0.28, 0.155, 0.10, 0.072, 0.054, 0.042, 0.033, 0.027, 0.022, 0.019)
# Mobile rows sit this much lower than desktop ones (the DataForSEO stand-in ranks mobile SERPs the same way).
MOBILE_POSITION_OFFSET = 0.3
_APPEARANCES = ("FAQ_RICH_RESULT", "REVIEW_SNIPPET", "VIDEO", "AMP_BLUE_LINK", "PRODUCT_SNIPPETS")


def ctr_for_position(position: float) -> float:
    """The expected click-through rate at an average position (a typical organic CTR curve)."""
    if position < 1:
        position = 1.0
    if position <= 10:
        low = int(position)
        fraction = position - low
        high = min(low + 1, 10)
        return _CTR_TOP10[low - 1] * (1 - fraction) + _CTR_TOP10[high - 1] * fraction
    return _CTR_TOP10[-1] * math.exp(-(position - 10) / 8)


@dataclass(frozen=True)
class SyntheticConfig:
    """How much data a property has: ``rows_per_day`` is the web rows of an average weekday."""

    rows_per_day: int = 3_000
    queries: int = 2_000
    pages: int = 300
    brand_share: float = 0.1
    zipf_exponent: float = 1.07
    type_shares: tuple[tuple[str, float], ...] = tuple(_TYPE_SHARES.items())


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()[:8], "big")


def brand_term(site_url: str) -> str:
    """``sc-domain:acme-tools.com`` and ``https://www.acme-tools.com/`` → ``acme tools``."""
    host = site_url.removeprefix("sc-domain:").split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    labels = [label for label in host.lower().split(".") if label]
    if labels and labels[0] == "www":
        labels = labels[1:]
    return (labels[0] if labels else "brand").replace("-", " ")


def site_domain(site_url: str) -> str:
    """``sc-domain:acme.com``, ``https://www.acme.com/`` → ``acme.com``."""
    host = site_url.removeprefix("sc-domain:").split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower()
    return host.removeprefix("www.")


def site_base_url(site_url: str) -> str:
    if site_url.startswith("sc-domain:"):
        return f"https://www.{site_url.removeprefix('sc-domain:').strip('/')}/"
    return site_url if site_url.endswith("/") else site_url + "/"


@dataclass(frozen=True)
class _Query:
    text: str
    weight: float
    base_position: float
    page: int
    brand: bool


@dataclass(frozen=True)
class _Profile:
    queries: tuple[_Query, ...]
    cumulative: tuple[float, ...]
    pages: tuple[str, ...]
    page_cumulative: tuple[float, ...]
    page_appearance: tuple[str | None, ...]
    country_codes: tuple[str, ...]
    country_cumulative: tuple[float, ...]
    volume: float  # daily impressions of the head query
    row_weights: tuple[float, ...]  # each query's share of a day's rows
    row_weight_total: float


def _cumulative(weights: Iterable[float]) -> tuple[float, ...]:
    total = 0.0
    out = []
    for weight in weights:
        total += weight
        out.append(total)
    return tuple(out)


def _site_pages(site_url: str) -> tuple[list[str], list[Page | None], dict[str, int]]:
    """The property's pages (URLs under its base), the catalogue page of each, and the index of each path.

    Paths come from the demo catalogue of the property's domain; a URL-prefix property names them under
    its prefix. The removed product is last (no catalogue page): Google still shows it for a while.
    """
    catalogue = site_catalogue(site_domain(site_url))
    base = site_base_url(site_url)
    pages: list[Page | None] = list(catalogue.indexable_pages())
    paths = [page.path for page in pages if page is not None]
    for url in catalogue.cases["not_found"]:
        paths.append(url.removeprefix(catalogue.base_url[:-1]))
        pages.append(None)
    return [base + path.removeprefix("/") for path in paths], pages, {path: i for i, path in enumerate(paths)}


@lru_cache(maxsize=64)
def _profile(site_url: str, config: SyntheticConfig) -> _Profile:
    rng = random.Random(_seed("profile", site_url))  # noqa: S311 -- deterministic synthetic data
    brand = brand_term(site_url)
    pages, catalogue_pages, index_of = _site_pages(site_url)
    del pages[config.pages :], catalogue_pages[config.pages :]
    phrases = [page.keyword if page else None for page in catalogue_pages]
    page_weights = [1 / (i + 1) ** 0.9 for i in range(len(pages))]
    appearance = tuple(_APPEARANCES[rng.randrange(len(_APPEARANCES))] if rng.random() < 0.15 else None for _ in pages)
    # each page's own phrase first, on that page: the head terms (and the demo's tracked keywords)
    texts: dict[str, tuple[int, bool]] = {}
    for index, phrase in enumerate(phrases):
        if phrase is not None:
            texts.setdefault(phrase, (index, brand in phrase))
    # products and categories take modifiers ("best ... for women"); articles and guides are read as titled
    subjects: dict[bool, list[tuple[str, int]]] = {True: [], False: []}
    for index, catalogue_page in enumerate(catalogue_pages):
        if catalogue_page and catalogue_page.keyword and brand not in catalogue_page.keyword:
            subjects[catalogue_page.kind in ("product", "category")].append((catalogue_page.keyword, index))
    by_category = _products_by_category(site_url, index_of, len(pages))
    # "demo outdoor sleeping bags", "demo outdoor salomon speedcross": brand queries for the shop's gear
    brand_gear = [(phrase, index) for phrase, index in subjects[True] if index < len(pages)]
    brand_target = max(1, int(config.queries * config.brand_share))
    attempts = brands = 0
    while len(texts) < config.queries and attempts < config.queries * 50:
        attempts += 1
        if brands < brand_target and rng.random() < config.brand_share * 1.5:
            suffix, landing = rng.choice(_BRAND_SUFFIXES)
            extra, page = "", index_of.get(landing, 0)
            if brand_gear and (not suffix or rng.random() < 0.3):
                extra, page = rng.choice(brand_gear)
            text = " ".join(part for part in (brand, suffix, extra) if part)
            is_brand = True
        else:
            text, page = _non_brand_query(rng, subjects[True], subjects[False], by_category)
            is_brand = False
        if text not in texts:
            texts[text] = (page, is_brand)
            brands += is_brand
    # pages' own phrases and brand queries lean towards the head of the distribution, as on real properties
    heads = len({phrase for phrase in phrases if phrase is not None})
    ordered = sorted(
        enumerate(texts.items()),
        key=lambda item: rng.random() * (0.2 if item[0] < heads else 0.3 if item[1][1][1] else 1.0),
    )
    queries = []
    for rank, (_, (text, (page, is_brand))) in enumerate(ordered):
        weight = 1 / (rank + 1) ** config.zipf_exponent
        position = rng.uniform(1.0, 2.5) if is_brand else min(95.0, rng.lognormvariate(math.log(12), 0.8))
        queries.append(_Query(text, weight, position, page, is_brand))
    row_weights = tuple(q.weight**0.5 for q in queries)
    countries = tuple(code for code, _ in _COUNTRIES)
    country_weights = [weight * rng.uniform(0.6, 1.4) for _, weight in _COUNTRIES]
    return _Profile(
        queries=tuple(queries),
        cumulative=_cumulative(q.weight for q in queries),
        pages=tuple(pages),
        page_cumulative=_cumulative(page_weights),
        page_appearance=appearance,
        country_codes=countries,
        country_cumulative=_cumulative(country_weights),
        volume=rng.uniform(1_500, 6_000),
        row_weights=row_weights,
        row_weight_total=sum(row_weights),
    )


def _products_by_category(site_url: str, index_of: dict[str, int], pages: int) -> list[list[tuple[str, int]]]:
    """Each category's products as (name, page), for "x vs y" queries."""
    catalogue = site_catalogue(site_domain(site_url))
    groups: dict[str, list[tuple[str, int]]] = {}
    for path, page in catalogue.pages.items():
        index = index_of.get(path)
        if page.kind == "product" and page.keyword and index is not None and index < pages:
            groups.setdefault(page.title.split(" | ")[1] if page.title else "", []).append((page.keyword, index))
    return [group for group in groups.values() if len(group) > 1]


def _non_brand_query(
    rng: random.Random,
    gear: list[tuple[str, int]],
    reads: list[tuple[str, int]],
    by_category: list[list[tuple[str, int]]],
) -> tuple[str, int]:
    """A query around one of the site's phrases, and the page it lands on."""
    roll = rng.random()
    if roll < 0.08 and by_category:
        (first, page), (second, _) = rng.sample(rng.choice(by_category), 2)
        return f"{first} vs {second}", page
    if roll < 0.2 and reads:
        phrase, page = rng.choice(reads)
        return f"{phrase} {rng.choice(_READ_SUFFIXES)}".strip(), page
    phrase, page = rng.choice(gear)
    if roll < 0.28:
        return f"{rng.choice(_HOW_TO)} {phrase}", page
    words = [phrase]
    if rng.random() < 0.5:
        words.insert(0, rng.choice(_PREFIXES))
    if rng.random() < 0.7:
        words.append(rng.choice(_SUFFIXES))
    if rng.random() < 0.15:
        words.append(f"in {rng.choice(PLACES).name.removeprefix('the ').lower()}")
    return " ".join(words), page


@dataclass(frozen=True)
class QueryLanding:
    """Where a property's query ranks: its base position (desktop; mobile adds ``MOBILE_POSITION_OFFSET``) and
    the page it lands on most (three rows in four)."""

    base_position: float
    url: str
    brand: bool


@lru_cache(maxsize=64)
def _landings(site_url: str, config: SyntheticConfig) -> dict[str, QueryLanding]:
    profile = _profile(site_url, config)
    return {
        query.text: QueryLanding(query.base_position, profile.pages[query.page], query.brand)
        for query in profile.queries
    }


def query_landing(site_url: str, query: str, config: SyntheticConfig | None = None) -> QueryLanding | None:
    """The property's query as the stand-in generates it, or None when the property has no such query.

    The DataForSEO stand-in ranks the property there, so that ranks agree with Search Console's positions.
    """
    return _landings(site_url, config or DEFAULT_CONFIG).get(" ".join(query.lower().split()))


def average_position(
    site_url: str,
    query: str,
    *,
    end: dt.date,
    days: int = 7,
    country: str | None = None,
    device: str | None = None,
    config: SyntheticConfig | None = None,
) -> float | None:
    """The query's impression-weighted average position over the ``days`` web days ending ``end`` (included),
    in one country (alpha-3, lower case) and on one device (``DESKTOP``...) when given: what the Search Console
    API reports for it. None when the property has no such rows."""
    text = " ".join(query.lower().split())
    weighted = impressions = 0.0
    for offset in range(days):
        for row in day_rows(site_url, end - dt.timedelta(days=offset), "web", config or DEFAULT_CONFIG):
            if row[0] == text and (country is None or row[2] == country) and (device is None or row[3] == device):
                impressions += row[6]
                weighted += row[7]
    return weighted / impressions if impressions else None


# a raw row: (query, page, country, device, searchAppearance, clicks, impressions, position * impressions)
RawRow = tuple[str, str, str, str, str | None, int, int, float]


DEFAULT_CONFIG = SyntheticConfig()


@lru_cache(maxsize=256)
def day_rows(
    site_url: str, day: dt.date, search_type: str, config: SyntheticConfig = DEFAULT_CONFIG
) -> tuple[RawRow, ...]:
    """The finest-grained rows of one property for one day and search type, sorted by clicks descending.

    Each query gets a number of (page, country, device) rows that grows with its volume (head queries
    are seen in many countries and on many devices, tail queries in one), and its impressions spread
    over them. Deterministic in its arguments; not capped (the query applies ``ROWS_PER_DAY_CAP``).
    """
    profile = _profile(site_url, config)
    rng = random.Random(_seed("day", site_url, day.isoformat(), search_type))  # noqa: S311
    season = _WEEKDAY[day.weekday()] * (1 + 0.08 * math.sin(2 * math.pi * day.timetuple().tm_yday / 365))
    budget = config.rows_per_day * dict(config.type_shares).get(search_type, 0.0) * season * rng.uniform(0.95, 1.05)
    ctr_factor = {"image": 0.25, "video": 0.6, "discover": 1.2}.get(search_type, 1.0)
    pages, page_cum = profile.pages, profile.page_cumulative
    countries, country_cum = profile.country_codes, profile.country_cumulative
    page_total, country_total, last_page, last_country = (
        page_cum[-1],
        country_cum[-1],
        len(pages) - 1,
        len(countries) - 1,
    )
    row_weights = profile.row_weights
    per_weight = budget / profile.row_weight_total
    head_volume = profile.volume * season * (0.2 if search_type == "image" else 1.0)
    merged: dict[tuple[str, str, str, str], list[Any]] = {}
    rand, gauss, bis, exp = rng.random, rng.gauss, bisect.bisect_left, math.exp
    for query, row_weight in zip(profile.queries, row_weights, strict=True):
        expected = row_weight * per_weight
        count = int(expected + rand())
        if count == 0:
            continue
        volume = head_volume * query.weight * exp(gauss(0, 0.25))
        base = query.base_position
        spread = 0.4 + base * 0.1
        brand = 1.8 if query.brand else 1.0
        for _ in range(count):
            page_index = query.page if rand() < 0.75 else min(bis(page_cum, rand() * page_total), last_page)
            country = countries[min(bis(country_cum, rand() * country_total), last_country)]
            r = rand()
            device = "MOBILE" if r < 0.58 else "DESKTOP" if r < 0.97 else "TABLET"
            impressions = 1 + int(volume / count * exp(gauss(0, 0.8)))
            position = base + gauss(0, spread) + (MOBILE_POSITION_OFFSET if device == "MOBILE" else 0.0)
            position = 1.0 if position < 1.0 else 100.0 if position > 100.0 else position
            ctr = ctr_for_position(position) * ctr_factor * brand
            clicks = int(impressions * (ctr if ctr < 0.85 else 0.85) * exp(gauss(0, 0.3)) + rand())
            clicks = impressions if clicks > impressions else clicks
            key = (query.text, pages[page_index], country, device)
            row = merged.get(key)
            if row is None:
                merged[key] = [profile.page_appearance[page_index], clicks, impressions, position * impressions]
            else:
                row[1] += clicks
                row[2] += impressions
                row[3] += position * impressions
    rows: list[RawRow] = [(q, p, c, d, a, clicks, imp, pos) for (q, p, c, d), (a, clicks, imp, pos) in merged.items()]
    rows.sort(key=lambda row: (-row[5], -row[6], row[0], row[1], row[2], row[3]))
    return tuple(rows)
