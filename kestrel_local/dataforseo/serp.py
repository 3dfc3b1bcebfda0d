"""Deterministic Google SERPs for the DataForSEO stand-in, in DataForSEO's ``advanced`` item shapes.

A SERP is a pure function of the task (keyword, location, language, device, depth), the day it is
checked and the properties the stand-in knows (``sites``, Search Console site URLs):

* **the properties' own pages** rank where the Search Console stand-in puts them: for a query of a
  property's synthetic profile (``kestrel_local.search_console.synthetic.query_landing``) the landing page
  sits at organic ``rank_group`` = its Search Console average position over the seven days before the check,
  in the task's country and on its device, rounded: DataForSEO ranks agree with Search Console. A keyword
  the profile lacks ranks the property's best-matching page at a position of the keyword's hash, or nowhere
  in the top 100. About one keyword in ten swaps its
  ranking URL for a second page of the site on odd days (cannibalization, for URL-change flags);
* **competitors** (``kestrel_local.demo_site.competitors``: shops, a reviews site, a magazine, a wiki, a
  forum, a video site) fill the other organic positions in a per-keyword order that shifts a little from
  day to day, then long-tail filler domains past the cast;
* **SERP features** are seeded per keyword: featured snippet, people also ask (questions with expanded
  answers), local pack, images, video, top stories, related searches, and ``short_videos``, a type
  Kestrel's client does not know (kept raw). ``FORCE_ALL_FEATURES`` in a keyword turns on all of them.

``render_pages`` draws the same items as Google-like HTML, one page per ten organic results.
"""

import datetime as dt
import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import quote_plus, urlsplit

from kestrel_local.demo_site.catalogue import site_catalogue
from kestrel_local.demo_site.competitors import COMPETITORS, CompetitorSite, serp_description, serp_title, serp_url
from kestrel_local.search_console.synthetic import (
    MOBILE_POSITION_OFFSET,
    QueryLanding,
    average_position,
    brand_term,
    query_landing,
    site_base_url,
    site_domain,
)
from shared.ranks.countries import UnknownCountry, by_location_code

FORCE_ALL_FEATURES = "kestrel-all-features"
UNKNOWN_ITEM_TYPE = "short_videos"
MAX_ORGANIC = 100
_SE_DOMAINS = {"GB": "google.co.uk", "DE": "google.de", "FR": "google.fr", "AU": "google.com.au", "CA": "google.ca"}
_FILLER_WORDS = (
    ("alpine", "trail", "summit", "canyon", "north", "wild", "open", "high", "granite", "river"),
    ("gear", "hikes", "outdoors", "trekker", "camp", "rambler", "kit", "pathfinder", "explorer", "miles"),
)
_QUESTIONS = (
    "What are the best {k}?",
    "How long do {k} last?",
    "Are expensive {k} worth it?",
    "How do I choose {k}?",
    "What should I look for in {k}?",
    "Which brand makes the best {k}?",
)
_CRUMB = " \u203a "  # Google's breadcrumb separator
_RELATED = ("for women", "for men", "sale", "review", "uk", "cheap", "for beginners", "2026")


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()[:8], "big")


@dataclass(frozen=True)
class SerpRequest:
    keyword: str
    location_code: int
    language_code: str
    device: str  # "desktop" or "mobile"
    depth: int


@dataclass(frozen=True)
class Serp:
    se_domain: str
    check_url: str
    se_results_count: int
    item_types: list[str]
    items: list[dict[str, Any]]


@dataclass(frozen=True)
class _Organic:
    domain: str
    url: str
    title: str
    description: str
    site_name: str


def site_position(
    site_url: str, keyword: str, device: str, check_date: dt.date, location_code: int = 2840
) -> tuple[int, str] | None:
    """Where a property's page ranks for ``keyword`` (organic rank_group and URL), or None (not in the top 100).

    For a query of the property's Search Console profile: its average position in Search Console over the
    seven days before ``check_date``, in the task's country and on its device (all countries when that
    country has no rows; the profile's base position when none has), rounded.
    """
    text = " ".join(keyword.lower().split())
    landing = query_landing(site_url, text)
    catalogue = site_catalogue(site_domain(site_url))
    base = site_base_url(site_url)
    rng = random.Random(_seed("site", site_url, text))  # noqa: S311 -- deterministic synthetic data
    if landing is not None:
        rank, url = _search_console_rank(site_url, text, device, check_date, location_code, landing), landing.url
    elif brand_term(site_url) in text:
        rank, url = 1, base
    elif rng.random() < 0.45:
        return None
    else:
        words = set(text.split())
        pages = [page for page in catalogue.indexable_pages() if page.keyword]
        best = max(pages, key=lambda page: len(words & set((page.keyword or "").split())), default=None)
        rank = rng.randint(3, 60)
        url = base + best.path.removeprefix("/") if best is not None else base
    # cannibalization: some keywords alternate between two of the site's pages on odd days
    if not url.rstrip("/").endswith(site_domain(site_url)) and rng.random() < 0.1 and check_date.toordinal() % 2:
        others = [page.path for page in catalogue.indexable_pages() if page.kind in ("article", "guide")]
        if others:
            url = base + rng.choice(others).removeprefix("/")
    return rank, url


def _search_console_rank(
    site_url: str, text: str, device: str, check_date: dt.date, location: int, landing: QueryLanding
) -> int:
    sc_device = "MOBILE" if device == "mobile" else "DESKTOP"
    end = check_date - dt.timedelta(days=1)
    try:
        country: str | None = by_location_code(location).search_console_code
    except UnknownCountry:
        country = None
    position = average_position(site_url, text, end=end, country=country, device=sc_device)
    if position is None:
        position = average_position(site_url, text, end=end, device=sc_device)
    if position is None:
        position = landing.base_position + (MOBILE_POSITION_OFFSET if device == "mobile" else 0.0)
    return max(1, min(MAX_ORGANIC, round(position)))


def _competitor(site: CompetitorSite, keyword: str) -> _Organic:
    return _Organic(
        site.host, serp_url(site, keyword), serp_title(site, keyword), serp_description(site, keyword), site.name
    )


def _filler(rng: random.Random, keyword: str) -> _Organic:
    domain = f"{rng.choice(_FILLER_WORDS[0])}-{rng.choice(_FILLER_WORDS[1])}.example"
    slug = "-".join(keyword.lower().split())
    name = " ".join(part.capitalize() for part in domain.split(".")[0].split("-"))
    return _Organic(
        f"www.{domain}",
        f"https://www.{domain}/{slug}-{rng.randint(2, 99)}/",
        f"{keyword.capitalize()}: what we learned | {name}",
        f"Notes on {keyword} from {name}, with photos and a kit list.",
        name,
    )


def _site_result(site_url: str, url: str, keyword: str) -> _Organic:
    catalogue = site_catalogue(site_domain(site_url))
    page = catalogue.page_for(urlsplit(url).path)
    title = page.title if page is not None and page.title else f"{keyword.capitalize()} | {catalogue.brand}"
    description = page.description if page is not None and page.description else f"{keyword.capitalize()}."
    return _Organic(urlsplit(url).hostname or "", url, title, description, catalogue.brand)


def _organic(request: SerpRequest, check_date: dt.date, sites: Sequence[str]) -> list[_Organic]:
    text = " ".join(request.keyword.lower().split())
    count = min(request.depth, MAX_ORGANIC)
    rng = random.Random(_seed("organic", text, request.location_code, request.language_code, request.device))  # noqa: S311
    # the cast in this keyword's order, then again with other pages of theirs, then filler domains
    order = list(COMPETITORS)
    rng.shuffle(order)
    fill: list[_Organic] = [_competitor(site, text) for site in order]
    for suffix in _RELATED:
        fill += [_competitor(site, f"{text} {suffix}") for site in order[:3]]
    while len(fill) < MAX_ORGANIC:
        fill.append(_filler(rng, text))
    # day to day, a few neighbours change places
    day = random.Random(_seed("day", text, request.device, check_date.isoformat()))  # noqa: S311
    for _ in range(3):
        index = day.randrange(0, 12)
        if index + 1 < len(fill):
            fill[index], fill[index + 1] = fill[index + 1], fill[index]
    placed: dict[int, _Organic] = {}
    for site_url in sites:
        spot = site_position(site_url, text, request.device, check_date, request.location_code)
        if spot is None:
            continue
        rank = spot[0]
        while rank in placed:
            rank += 1
        placed[rank] = _site_result(site_url, spot[1], text)
    results: list[_Organic] = []
    others = iter(fill)
    for rank in range(1, count + 1):
        results.append(placed.get(rank) or next(others))
    return results


def build_serp(request: SerpRequest, *, check_date: dt.date, sites: Sequence[str]) -> Serp:
    """The SERP's items as DataForSEO's ``task_get/advanced`` returns them, ranks computed."""
    text = " ".join(request.keyword.lower().split())
    organic = _organic(request, check_date, sites)
    roll = random.Random(_seed("features", text, request.location_code, request.device))  # noqa: S311
    force = FORCE_ALL_FEATURES in text
    chances = {
        "featured_snippet": 0.35,
        "top_stories": 0.5 if ("2026" in text or "news" in text) else 0.12,
        "people_also_ask": 0.6,
        "local_pack": 0.9 if any(w in text for w in ("near me", "store", "shop", "keswick")) else 0.15,
        "video": 0.35,
        "images": 0.3,
        UNKNOWN_ITEM_TYPE: 0.25,
        "related_searches": 0.8,
    }
    present = {name for name, chance in chances.items() if force or roll.random() < chance}
    # (after how many organic results the feature comes, its items)
    slots: list[tuple[int, list[dict[str, Any]]]] = []
    if "featured_snippet" in present and organic:
        source = organic[0] if roll.random() < 0.6 else organic[min(2, len(organic) - 1)]
        slots.append((0, [_featured_snippet(source, text)]))
    if "top_stories" in present:
        slots.append((1, [_top_stories(text)]))
    if "people_also_ask" in present:
        slots.append((2, [_people_also_ask(text, organic, roll)]))
    if "local_pack" in present:
        slots.append((3, _local_pack(text, sites)))
    if "video" in present:
        slots.append((4, [_video(text)]))
    if "images" in present:
        slots.append((5, [_images(text, organic)]))
    if UNKNOWN_ITEM_TYPE in present:
        slots.append((7, [_short_videos(text)]))
    items: list[dict[str, Any]] = []
    for index in range(len(organic) + 1):
        for after, feature_items in slots:
            if after == index and after <= len(organic):
                items.extend(feature_items)
        if index < len(organic):
            items.append(_organic_item(organic[index]))
    if "related_searches" in present:
        items.append({"type": "related_searches", "items": [f"{text} {suffix}" for suffix in _RELATED[:6]]})
    groups: dict[str, int] = {}
    for absolute, item in enumerate(items, start=1):
        groups[item["type"]] = groups.get(item["type"], 0) + 1
        ranked = {"type": item["type"], "rank_group": groups[item["type"]], "rank_absolute": absolute}
        ranked |= {"position": "left", "xpath": f"/html[1]/body[1]/div[3]/div[1]/div[{absolute + 8}]/div[1]"}
        items[absolute - 1] = {**ranked, **{k: v for k, v in item.items() if k not in ranked}}
    try:
        country = by_location_code(request.location_code).alpha2
    except UnknownCountry:
        country = "US"
    se_domain = _SE_DOMAINS.get(country, "google.com")
    check_url = (
        f"https://www.{se_domain}/search?q={quote_plus(request.keyword)}&hl={request.language_code}&gl={country}"
        "&gws_rd=cr&ie=UTF-8&oe=UTF-8"
    )
    results_count = int(10 ** random.Random(_seed("count", text)).uniform(5, 7.7))  # noqa: S311
    return Serp(se_domain, check_url, results_count, list(dict.fromkeys(item["type"] for item in items)), items)


# ---------------------------------------------------------------- items


def _organic_item(result: _Organic) -> dict[str, Any]:
    path = urlsplit(result.url).path.strip("/").replace("/", _CRUMB)
    return {
        "type": "organic",
        "domain": result.domain,
        "title": result.title,
        "url": result.url,
        "cache_url": None,
        "related_search_url": None,
        "breadcrumb": f"https://{result.domain}" + (f"{_CRUMB}{path}" if path else ""),
        "website_name": result.site_name,
        "is_image": False,
        "is_video": False,
        "is_featured_snippet": False,
        "is_malicious": False,
        "is_web_story": False,
        "description": result.description,
        "pre_snippet": None,
        "extended_snippet": None,
        "images": None,
        "amp_version": False,
        "rating": None,
        "price": None,
        "highlighted": [],
        "links": None,
        "faq": None,
        "extended_people_also_search": None,
        "about_this_result": None,
        "related_result": None,
        "timestamp": None,
        "rectangle": None,
    }


def _featured_snippet(source: _Organic, keyword: str) -> dict[str, Any]:
    return {
        "type": "featured_snippet",
        "domain": source.domain,
        "title": source.title,
        "featured_title": keyword.capitalize(),
        "description": f"{source.description} In short: fit first, then weight, then grip.",
        "timestamp": None,
        "url": source.url,
        "images": None,
        "table": None,
        "rectangle": None,
    }


def _people_also_ask(keyword: str, organic: list[_Organic], rng: random.Random) -> dict[str, Any]:
    questions = []
    for index, template in enumerate(_QUESTIONS[:4]):
        source = organic[(index * 3 + rng.randrange(3)) % len(organic)] if organic else None
        expanded = (
            [
                {
                    "type": "people_also_ask_expanded_element",
                    "featured_title": None,
                    "url": source.url,
                    "domain": source.domain,
                    "title": source.title,
                    "description": source.description,
                    "images": None,
                    "timestamp": None,
                    "table": None,
                }
            ]
            if source is not None
            else []
        )
        questions.append(
            {
                "type": "people_also_ask_element",
                "title": template.format(k=keyword),
                "seed_question": None,
                "xpath": None,
                "expanded_element": expanded,
            }
        )
    return {"type": "people_also_ask", "items": questions, "rectangle": None}


def _local_pack(keyword: str, sites: Sequence[str]) -> list[dict[str, Any]]:
    entries: list[tuple[str, str | None, str | None]] = []
    for site_url in sites[:1]:
        catalogue = site_catalogue(site_domain(site_url))
        entries.append((f"{catalogue.brand} Keswick", f"www.{catalogue.domain}", site_base_url(site_url) + "stores/"))
    for site in COMPETITORS:
        if site.kind == "shop":
            entries.append((f"{site.name} Ambleside", site.host, f"{site.base_url}stores/ambleside/"))
    rng = random.Random(_seed("local", keyword))  # noqa: S311
    rng.shuffle(entries)
    return [
        {
            "type": "local_pack",
            "title": title,
            "description": f"{rng.uniform(0.2, 9.5):.1f} mi · Outdoor equipment store · Open until 17:30",
            "domain": domain,
            "phone": f"+44 17687 {rng.randint(10000, 99999)}",
            "url": url,
            "is_paid": False,
            "rating": {"rating_type": "Max5", "value": round(rng.uniform(3.8, 4.9), 1), "votes_count": 120},
            "cid": str(_seed("cid", title))[:19],
            "rectangle": None,
        }
        for title, domain, url in entries[:3]
    ]


def _video(keyword: str) -> dict[str, Any]:
    tube = next(site for site in COMPETITORS if site.kind == "video")
    titles = (f"{keyword.capitalize()}: 5 I'd buy again", f"{keyword.capitalize()} tested", f"Don't buy {keyword}")
    return {
        "type": "video",
        "items": [
            {
                "type": "video_element",
                "source": tube.name,
                "title": title,
                "timestamp": None,
                "url": serp_url(tube, f"{keyword} {index}"),
            }
            for index, title in enumerate(titles)
        ],
        "rectangle": None,
    }


def _images(keyword: str, organic: list[_Organic]) -> dict[str, Any]:
    return {
        "type": "images",
        "title": f"Images for {keyword}",
        "url": f"https://www.google.com/search?q={quote_plus(keyword)}&tbm=isch",
        "items": [
            {
                "type": "images_element",
                "alt": f"Image result for {keyword}",
                "url": result.url,
                "image_url": f"https://{result.domain}/images/{index}.jpg",
            }
            for index, result in enumerate(organic[:4])
        ],
        "related_image_searches": None,
        "rectangle": None,
    }


def _top_stories(keyword: str) -> dict[str, Any]:
    magazine = next(site for site in COMPETITORS if site.kind == "magazine")
    return {
        "type": "top_stories",
        "title": "Top stories",
        "items": [
            {
                "type": "top_stories_element",
                "source": magazine.name,
                "domain": magazine.host,
                "title": f"{keyword.capitalize()}: what's new this season",
                "date": "3 hours ago",
                "amp_version": False,
                "timestamp": None,
                "url": serp_url(magazine, f"{keyword} news"),
                "image_url": None,
                "badges": None,
            }
        ],
        "rectangle": None,
    }


def _short_videos(keyword: str) -> dict[str, Any]:
    tube = next(site for site in COMPETITORS if site.kind == "video")
    return {
        "type": UNKNOWN_ITEM_TYPE,
        "title": "Short videos",
        "items": [
            {
                "type": "short_videos_element",
                "source": tube.name,
                "title": f"{keyword.capitalize()} in 30 seconds",
                "url": serp_url(tube, f"{keyword} shorts"),
            }
        ],
        "rectangle": None,
    }


# ---------------------------------------------------------------- HTML

_STYLE = """
body{font-family:arial,sans-serif;margin:0;color:#202124;background:#fff}
header{display:flex;align-items:center;gap:24px;padding:20px 28px;border-bottom:1px solid #dadce0}
.logo{font-size:26px;font-weight:bold;color:#4285f4}.q{flex:1;max-width:690px;border:1px solid #dfe1e5;
border-radius:24px;padding:10px 18px;font-size:16px}main{max-width:652px;margin:0 0 0 180px;padding:16px 0}
.r{margin:0 0 28px}.r cite{font-size:12px;color:#4d5156;font-style:normal}
.r h3{margin:4px 0;font-size:20px;font-weight:normal}.r a{color:#1a0dab;text-decoration:none}
.r p{margin:0;font-size:14px;line-height:1.58;color:#4d5156}
.box{border:1px solid #dadce0;border-radius:8px;padding:14px 16px;margin:0 0 28px}
.box h2{font-size:18px;margin:0 0 10px}
.box li{margin:6px 0;font-size:14px}.pager{font-size:14px;color:#70757a}
@media (max-width:600px){main{margin:0;padding:12px}header{padding:12px}}
"""


def _html_item(item: dict[str, Any]) -> str:
    kind = item["type"]
    if kind == "organic":
        return (
            f'<div class="r" data-rank="{item["rank_group"]}"><cite>{escape(item["breadcrumb"])}</cite>'
            f'<h3><a href="{escape(item["url"])}">{escape(item["title"])}</a></h3>'
            f"<p>{escape(item['description'])}</p></div>"
        )
    if kind == "featured_snippet":
        return (
            f'<div class="box"><h2>{escape(item["featured_title"] or "")}</h2><p>{escape(item["description"])}</p>'
            f'<p><a href="{escape(item["url"])}">{escape(item["title"])}</a></p></div>'
        )
    if kind == "people_also_ask":
        rows = "".join(f"<li>{escape(q['title'])}</li>" for q in item["items"])
        return f'<div class="box"><h2>People also ask</h2><ul>{rows}</ul></div>'
    if kind == "local_pack":
        rating = item["rating"]["value"]
        return (
            f'<div class="box"><h2>{escape(item["title"])}</h2><p>{rating} ★ · {escape(item["description"])}</p></div>'
        )
    if kind == "related_searches":
        rows = "".join(f"<li>{escape(text)}</li>" for text in item["items"])
        return f'<div class="box"><h2>Related searches</h2><ul>{rows}</ul></div>'
    title = {"video": "Videos", "images": "Images", "top_stories": "Top stories"}.get(kind, item.get("title") or kind)
    rows = "".join(
        f'<li><a href="{escape(sub["url"])}">{escape(sub.get("title") or sub.get("alt") or sub["url"])}</a></li>'
        for sub in item.get("items") or []
    )
    return f'<div class="box"><h2>{escape(str(title))}</h2><ul>{rows}</ul></div>'


def render_pages(request: SerpRequest, serp: Serp) -> list[str]:
    """Google-like results pages drawing ``serp``'s items: features on the first, ten organic results a page."""
    organic_count = sum(1 for item in serp.items if item["type"] == "organic")
    pages = max(1, math.ceil(organic_count / 10))
    out = []
    width = "width=device-width, initial-scale=1" if request.device == "mobile" else "width=1280"
    for page in range(1, pages + 1):
        low, high = (page - 1) * 10, page * 10
        body = []
        organic_seen = 0
        for item in serp.items:
            if item["type"] == "organic":
                organic_seen += 1
                if low < organic_seen <= high:
                    body.append(_html_item(item))
            elif (page == 1 and item["type"] != "related_searches") or (
                page == pages and item["type"] == "related_searches"
            ):
                body.append(_html_item(item))
        out.append(
            f'<!DOCTYPE html><html lang="{escape(request.language_code)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="{width}"><title>{escape(request.keyword)} - Google Search</title>'
            f'<style>{_STYLE}</style></head><body><header><span class="logo">Google</span>'
            f'<div class="q">{escape(request.keyword)}</div></header><main>'
            f'<p class="pager">About {serp.se_results_count:,} results · page {page}</p>'
            + "".join(body)
            + "</main></body></html>"
        )
    return out
