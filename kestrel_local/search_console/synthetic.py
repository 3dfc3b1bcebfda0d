"""Deterministic synthetic Search Console data: the rows of one property for one day and search type.

Seeded by the site URL: a Zipf-distributed vocabulary of brand and non-brand
queries, pages, countries (ISO 3166 alpha-3, lowercase, as Google returns them),
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

_TOPICS = (
    "seo", "keyword", "rank", "tracker", "backlink", "audit", "content", "serp", "crawl", "sitemap",
    "schema", "analytics", "traffic", "search", "console", "meta", "title", "snippet", "index", "link",
    "competitor", "domain", "authority", "page", "speed", "mobile", "local", "brief", "topic", "cluster",
    "report", "dashboard", "tool", "checker", "generator", "strategy", "marketing", "blog", "ecommerce",
    "shopify", "wordpress", "redirect", "canonical", "robots", "txt", "hreflang", "core", "web", "vitals",
)  # fmt: skip
_MODIFIERS = (
    "best", "free", "how to", "what is", "guide", "tutorial", "examples", "template", "2026", "online",
    "for beginners", "vs", "pricing", "review", "alternative", "checklist", "tips", "software", "api",
)  # fmt: skip
_BRAND_SUFFIXES = (
    "", "login", "pricing", "reviews", "app", "api", "support", "careers", "coupon", "vs", "alternatives",
    "docs", "sign up", "free trial", "blog", "status", "contact", "download", "integration", "features",
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
_APPEARANCES = ("FAQ_RICH_RESULT", "REVIEW_SNIPPET", "VIDEO", "AMP_BLUE_LINK", "PRODUCT_SNIPPETS")
_SECTIONS = ("blog", "guides", "tools", "features", "docs", "pricing", "compare", "glossary", "templates")


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


@lru_cache(maxsize=64)
def _profile(site_url: str, config: SyntheticConfig) -> _Profile:
    rng = random.Random(_seed("profile", site_url))  # noqa: S311 -- deterministic synthetic data
    brand = brand_term(site_url)
    base = site_base_url(site_url)
    topics = rng.sample(_TOPICS, k=min(len(_TOPICS), 30))
    pages = [base]
    seen_pages = {base}
    while len(pages) < config.pages:
        slug = "-".join(rng.sample(topics, k=rng.randint(1, 3)))
        url = f"{base}{rng.choice(_SECTIONS)}/{slug}"
        if url not in seen_pages:
            seen_pages.add(url)
            pages.append(url)
    page_weights = [1 / (i + 1) ** 0.9 for i in range(len(pages))]
    appearance = tuple(_APPEARANCES[rng.randrange(len(_APPEARANCES))] if rng.random() < 0.15 else None for _ in pages)
    texts: list[tuple[str, bool]] = []
    seen: set[str] = set()
    brand_target = max(1, int(config.queries * config.brand_share))
    attempts = brands = 0
    while len(texts) < config.queries and attempts < config.queries * 50:
        attempts += 1
        want_brand = brands < brand_target and rng.random() < config.brand_share * 1.5
        if want_brand:
            suffix = rng.choice(_BRAND_SUFFIXES)
            extra = rng.choice(topics) if rng.random() < 0.5 else ""
            text = " ".join(part for part in (brand, suffix, extra) if part)
        else:
            words = rng.sample(topics, k=rng.choice((1, 2, 2, 3, 3, 4)))
            if rng.random() < 0.45:
                modifier = rng.choice(_MODIFIERS)
                words = [modifier, *words] if rng.random() < 0.5 else [*words, modifier]
            text = " ".join(words)
        if text not in seen:
            seen.add(text)
            texts.append((text, want_brand))
            brands += want_brand
    # brand queries lean towards the head of the distribution, as they do on real properties
    texts.sort(key=lambda item: rng.random() * (0.3 if item[1] else 1.0))
    queries = []
    for rank, (text, is_brand) in enumerate(texts):
        weight = 1 / (rank + 1) ** config.zipf_exponent
        position = rng.uniform(1.0, 2.5) if is_brand else min(95.0, rng.lognormvariate(math.log(12), 0.8))
        page = 0 if is_brand and rng.random() < 0.6 else rng.randrange(len(pages))
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
            position = base + gauss(0, spread) + (0.3 if device == "MOBILE" else 0.0)
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
