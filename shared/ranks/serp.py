"""What a checked SERP says of a project: its best organic position and URL, the SERP features present and
those it owns; what a check costs. Pure: no database, no network.

A project's pages are on its domain (a leading ``www.`` ignored) or a subdomain of it. Its **position** is
the best (lowest) ``rank_group`` of its organic results, null when none is within the depth checked: never
0. A feature (any item type but organic results and ads) is **owned** when the feature's item or one of its
elements links to the project's site (a featured snippet from its page, its video in a carousel).
"""

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

from shared.ranks.dataforseo import SerpItem, SerpResult

ORGANIC = "organic"
NOT_FEATURES = frozenset({"organic", "paid"})


def site_of(domain: str) -> str:
    """The project's site for matching: its host without ``www.``."""
    return domain.strip().lower().rstrip(".").removeprefix("www.")


def _host(value: str | None) -> str:
    if not value:
        return ""
    host = urlsplit(value).hostname if "://" in value else value
    return (host or "").lower().rstrip(".")


def on_site(host_or_url: str | None, site: str) -> bool:
    host = _host(host_or_url)
    return bool(host) and (host == site or host.endswith("." + site))


def _owned_by(item: SerpItem, site: str) -> bool:
    return on_site(item.domain, site) or on_site(item.url, site) or any(on_site(url, site) for url in item.linked_urls)


@dataclass(frozen=True)
class SerpSummary:
    position: int | None
    rank_absolute: int | None
    url: str | None
    features_present: list[str]
    features_owned: list[str]


def summarize(result: SerpResult, domain: str) -> SerpSummary:
    site = site_of(domain)
    best: SerpItem | None = None
    present: dict[str, None] = {}
    owned: dict[str, None] = {}
    for item in result.items:
        if item.type == ORGANIC:
            if on_site(item.domain or item.url, site) and (best is None or item.rank_group < best.rank_group):
                best = item
        elif item.type not in NOT_FEATURES:
            present.setdefault(item.type)
            if _owned_by(item, site):
                owned.setdefault(item.type)
    return SerpSummary(
        position=best.rank_group if best is not None and best.rank_group > 0 else None,
        rank_absolute=best.rank_absolute if best is not None else None,
        url=best.url if best is not None else None,
        features_present=sorted(present),
        features_owned=sorted(owned),
    )


def task_price(depth: int, base: Decimal, extra_page_factor: Decimal) -> Decimal:
    """What one check at ``depth`` results costs: the base price for the first 10, and ``extra_page_factor``
    of it for each further 10 (DataForSEO's pricing since Google dropped ``&num=100``)."""
    pages = max(1, -(-depth // 10))
    return base + base * extra_page_factor * (pages - 1)


def language_code(locale: str) -> str:
    """DataForSEO's language code of a keyword's locale (``en``, ``en-GB`` → ``en``; ``pt-BR`` → ``pt``)."""
    return locale.split("-", 1)[0].lower()
