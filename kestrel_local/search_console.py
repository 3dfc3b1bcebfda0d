"""A local Google Search Console API: ``searchanalytics.query`` over synthetic data, OAuth2 tokens, quotas.

``POST /webmasters/v3/sites/{siteUrl}/searchAnalytics/query`` (and the same under ``/v1/``) with the
site URL URL-encoded (``sc-domain%3Aexample.com``, ``https%3A%2F%2Fwww.example.com%2F``) answers as
Google documents it: request validation with Google-style error bodies, grouping by
``date``/``query``/``page``/``country``/``device``/``searchAppearance``, dimension filter groups,
rows sorted by clicks (descending), ``rowLimit``/``startRow`` paging, the cap of 50,000 rows per day
per search type, ``dataState`` ``final``/``all`` (the last two days are fresh, only in ``all``).

The data are synthetic and deterministic, seeded by the site URL: a Zipf-distributed vocabulary of
brand and non-brand queries, pages, countries (ISO 3166 alpha-3, lowercase, as Google returns them),
devices, positions with a position-to-CTR curve, weekly seasonality, and search types (mostly web).
The rows of one (site, date, search type) are generated on demand (a few milliseconds) and only a
small LRU cache of days is kept.

``POST /token`` is Google's OAuth2 token endpoint for service-account JWT assertions (RS256, verified
against the key registered with :meth:`SearchConsoleServer.register_service_account`) and for
refresh tokens (:meth:`SearchConsoleServer.register_refresh_token`); :meth:`SearchConsoleServer.revoke`
revokes a credential and every access token minted from it.
"""

import bisect
import datetime as dt
import hashlib
import json
import math
import random
import re
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kestrel_local.http_server import BackgroundHttpServer

SCOPE_READONLY = "https://www.googleapis.com/auth/webmasters.readonly"
SCOPE_FULL = "https://www.googleapis.com/auth/webmasters"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Google's client libraries (google-auth) always sign service-account assertions for this audience,
# whatever the key file's token_uri says; Google's token endpoint requires it.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL, not a password)
TOKEN_LIFETIME_SECONDS = 3599
MAX_ROW_LIMIT = 25_000
DEFAULT_ROW_LIMIT = 1_000
ROWS_PER_DAY_CAP = 50_000  # per day per search type, as Google documents
FRESH_DAYS = 2  # the last two days with data are "fresh": in dataState=all only
HISTORY_DAYS = 487  # about 16 months

DIMENSIONS = ("date", "query", "page", "country", "device", "searchAppearance")
FILTER_DIMENSIONS = ("query", "page", "country", "device", "searchAppearance")
OPERATORS = ("equals", "notEquals", "contains", "notContains", "includingRegex", "excludingRegex")
SEARCH_TYPES = ("web", "image", "video", "news", "discover", "googleNews")
AGGREGATION_TYPES = ("auto", "byPage", "byProperty")
DATA_STATES = ("final", "all")
REQUEST_FIELDS = {
    "startDate",
    "endDate",
    "dimensions",
    "type",
    "searchType",
    "dimensionFilterGroups",
    "aggregationType",
    "rowLimit",
    "startRow",
    "dataState",
}

# -- synthetic data --------------------------------------------------------------------------------

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
    # brand queries concentrate at the head of the distribution, as they do on real properties
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


_DEFAULT_CONFIG = SyntheticConfig()


@lru_cache(maxsize=256)
def day_rows(
    site_url: str, day: dt.date, search_type: str, config: SyntheticConfig = _DEFAULT_CONFIG
) -> tuple[RawRow, ...]:
    """The finest-grained rows of one property for one day and search type, sorted by clicks descending.

    Each query gets a number of (page, country, device) rows that grows with its volume (head queries
    are seen in many countries and on many devices, tail queries in one), and its impressions spread
    over them. Deterministic in its arguments; not capped (the query applies :data:`ROWS_PER_DAY_CAP`).
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


# -- requests --------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answered with Google's JSON error body."""

    _STATUS = {
        400: "INVALID_ARGUMENT",
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        429: "RESOURCE_EXHAUSTED",
        500: "INTERNAL",
        503: "UNAVAILABLE",
    }
    _REASON = {
        400: "badRequest",
        401: "authError",
        403: "forbidden",
        404: "notFound",
        429: "rateLimitExceeded",
        500: "backendError",
        503: "backendError",
    }

    def __init__(self, code: int, message: str, *, reason: str | None = None, **extra: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or self._REASON.get(code, "unknown")
        self.extra = extra

    def body(self) -> dict[str, Any]:
        detail = {"message": self.message, "domain": "global", "reason": self.reason, **self.extra}
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "errors": [detail],
                "status": self._STATUS.get(self.code, "UNKNOWN"),
            }
        }


def _bad(message: str) -> ApiError:
    return ApiError(400, message)


@dataclass(frozen=True)
class Filter:
    dimension: str
    operator: str
    expression: str
    pattern: re.Pattern[str] | None = None

    def matches(self, value: str | None) -> bool:
        value = value or ""
        expression = self.expression
        if self.dimension in ("country", "device", "searchAppearance"):
            value, expression = value.lower(), expression.lower()
        match self.operator:
            case "equals":
                return value == expression
            case "notEquals":
                return value != expression
            case "contains":
                return expression.lower() in value.lower()
            case "notContains":
                return expression.lower() not in value.lower()
            case "includingRegex":
                return self.pattern is not None and self.pattern.search(value) is not None
            case _:
                return self.pattern is not None and self.pattern.search(value) is None


@dataclass(frozen=True)
class QueryRequest:
    start_date: dt.date
    end_date: dt.date
    dimensions: tuple[str, ...] = ()
    search_type: str = "web"
    filters: tuple[Filter, ...] = ()
    aggregation_type: str = "auto"
    row_limit: int = DEFAULT_ROW_LIMIT
    start_row: int = 0
    data_state: str = "final"


def _parse_date(body: Mapping[str, Any], name: str) -> dt.date:
    value = body.get(name)
    if value is None:
        raise _bad(f"Required field '{name}' is missing.")
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise _bad(f"Invalid value for field '{name}': {json.dumps(value)}. Expected a date in YYYY-MM-DD format.")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _bad(f"Invalid value for field '{name}': \"{value}\" is not a valid date.") from None


def _enum(value: Any, allowed: Sequence[str], name: str) -> str:
    if isinstance(value, str):
        for candidate in allowed:
            if candidate.lower() == value.lower():
                return candidate
    raise _bad(f"Invalid value at '{name}' ({json.dumps(value)}): expected one of {', '.join(allowed)}.")


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _bad(f"Invalid value at '{name}' ({json.dumps(value)}): expected an integer.")
    try:
        return int(value)
    except ValueError:
        raise _bad(f"Invalid value at '{name}' ({json.dumps(value)}): expected an integer.") from None


def parse_request(body: Any) -> QueryRequest:
    """Validate a ``searchanalytics.query`` body as Google does; raises :class:`ApiError` (400)."""
    if not isinstance(body, dict):
        raise _bad("Invalid JSON payload received. Expected an object.")
    for name in body:
        if name not in REQUEST_FIELDS:
            raise _bad(f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.')
    start, end = _parse_date(body, "startDate"), _parse_date(body, "endDate")
    if start > end:
        raise _bad("startDate must be earlier than or equal to endDate.")
    raw_dimensions = body.get("dimensions") or []
    if not isinstance(raw_dimensions, list):
        raise _bad("Invalid value at 'dimensions': expected a list.")
    dimensions = tuple(_enum(d, DIMENSIONS, f"dimensions[{i}]") for i, d in enumerate(raw_dimensions))
    if len(set(dimensions)) != len(dimensions):
        raise _bad("Dimensions must not be repeated.")
    if "type" in body and "searchType" in body and str(body["type"]).lower() != str(body["searchType"]).lower():
        raise _bad("Only one of 'type' and 'searchType' may be set.")
    search_type = _enum(body.get("type", body.get("searchType", "web")), SEARCH_TYPES, "type")
    filters: list[Filter] = []
    groups = body.get("dimensionFilterGroups") or []
    if not isinstance(groups, list):
        raise _bad("Invalid value at 'dimensionFilterGroups': expected a list.")
    for g, group in enumerate(groups):
        if not isinstance(group, dict):
            raise _bad(f"Invalid value at 'dimensionFilterGroups[{g}]': expected an object.")
        _enum(group.get("groupType", "and"), ("and",), f"dimensionFilterGroups[{g}].groupType")
        raw_filters = group.get("filters") or []
        if not isinstance(raw_filters, list):
            raise _bad(f"Invalid value at 'dimensionFilterGroups[{g}].filters': expected a list.")
        for f, raw in enumerate(raw_filters):
            where = f"dimensionFilterGroups[{g}].filters[{f}]"
            if not isinstance(raw, dict):
                raise _bad(f"Invalid value at '{where}': expected an object.")
            dimension = _enum(raw.get("dimension"), FILTER_DIMENSIONS, f"{where}.dimension")
            operator = _enum(raw.get("operator", "equals"), OPERATORS, f"{where}.operator")
            expression = raw.get("expression")
            if not isinstance(expression, str):
                raise _bad(f"Required field '{where}.expression' is missing.")
            pattern = None
            if operator.endswith("Regex"):
                try:
                    pattern = re.compile(expression)
                except re.error as error:
                    raise _bad(f"Invalid regular expression '{expression}': {error}.") from None
            filters.append(Filter(dimension, operator, expression, pattern))
    aggregation = _enum(body.get("aggregationType", "auto"), AGGREGATION_TYPES, "aggregationType")
    uses_page = "page" in dimensions or any(f.dimension == "page" for f in filters)
    if aggregation == "byProperty" and uses_page:
        raise _bad("Cannot group or filter by page when aggregating by property. Use 'auto' or 'byPage'.")
    row_limit = _int(body.get("rowLimit", DEFAULT_ROW_LIMIT), "rowLimit")
    if not 1 <= row_limit <= MAX_ROW_LIMIT:
        raise _bad(f"rowLimit must be between 1 and {MAX_ROW_LIMIT}; got {row_limit}.")
    start_row = _int(body.get("startRow", 0), "startRow")
    if start_row < 0:
        raise _bad(f"startRow must be non-negative; got {start_row}.")
    data_state = _enum(body.get("dataState", "final"), DATA_STATES, "dataState")
    return QueryRequest(
        start, end, dimensions, search_type, tuple(filters), aggregation, row_limit, start_row, data_state
    )


def run_query(
    site_url: str, request: QueryRequest, *, today: dt.date, config: SyntheticConfig = _DEFAULT_CONFIG
) -> dict[str, Any]:
    """The ``searchanalytics.query`` response for one property."""
    last_day = today - dt.timedelta(days=1 if request.data_state == "all" else 1 + FRESH_DAYS)
    first_day = today - dt.timedelta(days=HISTORY_DAYS)
    start, end = max(request.start_date, first_day), min(request.end_date, last_day)
    by_page = request.aggregation_type == "byPage" or (
        request.aggregation_type == "auto"
        and ("page" in request.dimensions or any(f.dimension == "page" for f in request.filters))
    )
    column = {"query": 0, "page": 1, "country": 2, "device": 3, "searchAppearance": 4}
    groups: dict[tuple[str, ...], list[float]] = {}
    dimensions = request.dimensions
    filters = [(column[f.dimension], f) for f in request.filters]
    day = start
    while day <= end:
        iso = day.isoformat()
        for row in day_rows(site_url, day, request.search_type, config)[:ROWS_PER_DAY_CAP]:
            if filters and not all(f.matches(str(row[index] or "")) for index, f in filters):
                continue
            if "searchAppearance" in dimensions and row[4] is None:
                continue
            key = tuple(iso if d == "date" else str(row[column[d]]) for d in dimensions)
            total = groups.get(key)
            if total is None:
                groups[key] = [row[5], row[6], row[7]]
            else:
                total[0] += row[5]
                total[1] += row[6]
                total[2] += row[7]
        day += dt.timedelta(days=1)
    # Google: "sorted by click count, descending"; ties are broken by impressions, then keys (stable paging)
    ordered = sorted(groups.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))
    page = ordered[request.start_row : request.start_row + request.row_limit]
    response: dict[str, Any] = {}
    if page:
        response["rows"] = [
            {
                **({"keys": list(key)} if dimensions else {}),
                "clicks": int(clicks),
                "impressions": int(impressions),
                "ctr": clicks / impressions,
                "position": position_sum / impressions,
            }
            for key, (clicks, impressions, position_sum) in page
        ]
    response["responseAggregationType"] = "byPage" if by_page else "byProperty"
    if (
        request.data_state == "all"
        and "date" in dimensions
        and end >= today - dt.timedelta(days=FRESH_DAYS)
        and start <= end
    ):
        response["metadata"] = {"first_incomplete_date": (today - dt.timedelta(days=FRESH_DAYS)).isoformat()}
    return response


# -- credentials -----------------------------------------------------------------------------------


@dataclass
class _Credential:
    kind: str  # "service_account" | "authorized_user"
    sites: frozenset[str]
    scopes: frozenset[str] = frozenset()
    public_key: rsa.RSAPublicKey | None = None
    client_id: str = ""
    client_secret: str = ""
    revoked: bool = False


@dataclass
class _AccessToken:
    credential: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class _Failures:
    remaining: int = 0
    status: int = 503


_PATH = re.compile(r"^/(?:webmasters/v3|v1)/sites/([^/]+)/searchAnalytics/query$")


class SearchConsoleServer(BackgroundHttpServer):
    """A local Search Console API and OAuth2 token endpoint; ``port=0`` picks a free port.

    ``today`` fixes the date the data end at (the last day with data is the day before; the last two
    days are fresh); ``clock`` (seconds) drives token expiry and the per-minute quota.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        config: SyntheticConfig | None = None,
        queries_per_minute: int = 1_200,
        today: dt.date | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config or SyntheticConfig()
        self.queries_per_minute = queries_per_minute
        self._today = today
        self._clock = clock
        self._lock = threading.Lock()
        self._credentials: dict[str, _Credential] = {}
        self._tokens: dict[str, _AccessToken] = {}
        self._recent: dict[str, deque[float]] = {}
        self._failures = _Failures()
        self.requests: Counter[str] = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                if path == "/token":
                    status, document = server._token(raw, self.headers.get("Content-Type", ""))
                else:
                    status, document = server._api(path, raw, self.headers.get("Authorization", ""))
                self._reply(status, document)

            def do_GET(self) -> None:
                server._count("other", 404)
                self._reply(404, ApiError(404, "Not Found").body())

            def _reply(self, status: int, document: Mapping[str, Any]) -> None:
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Bearer realm="https://accounts.google.com/"')
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        super().__init__(host, port, Handler, name="search-console")

    # -- configuration ----------------------------------------------------------------------------

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    @property
    def today(self) -> dt.date:
        return self._today or dt.datetime.now(dt.UTC).date()

    def register_service_account(
        self, sites: Iterable[str], *, name: str = "kestrel-gsc", project_id: str = "kestrel-local"
    ) -> dict[str, str]:
        """A new service account with access to ``sites``: the JSON key file's content, as Google issues it."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        suffix = secrets.token_hex(3)
        email = f"{name}-{suffix}@{project_id}.iam.gserviceaccount.com"
        client_id = str(10**20 + secrets.randbelow(9 * 10**20))
        with self._lock:
            self._credentials[email] = _Credential("service_account", frozenset(sites), public_key=key.public_key())
        return {
            "type": "service_account",
            "project_id": project_id,
            "private_key_id": secrets.token_hex(20),
            "private_key": pem,
            "client_email": email,
            "client_id": client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{email.replace('@', '%40')}",
            "universe_domain": "googleapis.com",
        }

    def register_refresh_token(
        self, sites: Iterable[str], *, scopes: Iterable[str] = (SCOPE_READONLY,)
    ) -> dict[str, str]:
        """A user's OAuth grant on ``sites``: Google's ``authorized_user`` file (client id/secret, refresh token)."""
        refresh_token = "1//" + secrets.token_urlsafe(48)
        client_id = f"{secrets.randbelow(10**12):012d}-{secrets.token_hex(16)}.apps.googleusercontent.com"
        client_secret = "GOCSPX-" + secrets.token_urlsafe(21)
        with self._lock:
            self._credentials[refresh_token] = _Credential(
                "authorized_user", frozenset(sites), frozenset(scopes), client_id=client_id, client_secret=client_secret
            )
        return {
            "type": "authorized_user",
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": refresh_token,
            "token_uri": self.token_uri,
        }

    def revoke(self, credential: Mapping[str, str] | str) -> None:
        """Revoke a credential (its key file/authorized-user dict, client_email or refresh token) and its tokens."""
        if isinstance(credential, str):
            ident = credential
        else:
            ident = credential.get("client_email") or credential.get("refresh_token") or ""
        with self._lock:
            if ident not in self._credentials:
                raise KeyError(ident)
            self._credentials[ident].revoked = True
            for token in [t for t, info in self._tokens.items() if info.credential == ident]:
                del self._tokens[token]

    def fail_next(self, count: int, status: int = 503) -> None:
        """Make the next ``count`` API calls (not token requests) answer ``status`` (500 or 503)."""
        with self._lock:
            self._failures = _Failures(count, status)

    def _count(self, endpoint: str, status: int) -> None:
        with self._lock:
            self.requests[endpoint] += 1
            self.requests[f"{endpoint}.{status}"] += 1

    # -- token endpoint ---------------------------------------------------------------------------

    def _token(self, raw: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
        status, document = self._token_inner(raw, content_type)
        self._count("token", status)
        return status, document

    def _token_inner(self, raw: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
        if "json" in content_type:
            try:
                loaded = json.loads(raw or b"{}")
            except ValueError:
                return 400, {"error": "invalid_request", "error_description": "Malformed JSON body."}
            form = {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
        else:
            form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        grant = form.get("grant_type")
        if grant == JWT_BEARER:
            return self._jwt_grant(form.get("assertion", ""))
        if grant == "refresh_token":
            return self._refresh_grant(form)
        if not grant:
            return 400, {"error": "invalid_request", "error_description": "Missing required parameter: grant_type"}
        return 400, {"error": "unsupported_grant_type", "error_description": f"Invalid grant_type: {grant}"}

    def _issue(self, credential: str, scopes: frozenset[str]) -> tuple[int, dict[str, Any]]:
        token = "ya29." + secrets.token_urlsafe(64)
        with self._lock:
            self._tokens[token] = _AccessToken(credential, scopes, self._clock() + TOKEN_LIFETIME_SECONDS)
        return 200, {"access_token": token, "expires_in": TOKEN_LIFETIME_SECONDS, "token_type": "Bearer"}

    def _jwt_grant(self, assertion: str) -> tuple[int, dict[str, Any]]:
        def invalid(description: str) -> tuple[int, dict[str, Any]]:
            return 400, {"error": "invalid_grant", "error_description": description}

        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return invalid("Invalid JWT: malformed assertion.")
        issuer = str(unverified.get("iss", ""))
        with self._lock:
            credential = self._credentials.get(issuer)
        if credential is None or credential.kind != "service_account" or credential.public_key is None:
            return invalid("Invalid grant: account not found")
        if credential.revoked:
            return invalid("Invalid JWT Signature.")  # what Google answers for a deleted key
        try:
            claims = jwt.decode(
                assertion,
                credential.public_key,
                algorithms=["RS256"],
                audience=[self.token_uri, GOOGLE_TOKEN_AUDIENCE],
                options={"require": ["iss", "aud", "iat", "exp"]},
                leeway=0,
            )
        except jwt.ExpiredSignatureError:
            return invalid("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
        except jwt.InvalidAudienceError:
            return invalid("Invalid JWT: Failed audience check.")
        except jwt.InvalidSignatureError:
            return invalid("Invalid JWT Signature.")
        except jwt.PyJWTError as error:
            return invalid(f"Invalid JWT: {error}")
        if int(claims["exp"]) - int(claims["iat"]) > 3600:
            return invalid("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
        scopes = frozenset(str(claims.get("scope", "")).split())
        if not scopes:
            return 400, {"error": "invalid_scope", "error_description": "Invalid OAuth scope or ID token audience."}
        return self._issue(issuer, scopes)

    def _refresh_grant(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        refresh_token = form.get("refresh_token", "")
        with self._lock:
            credential = self._credentials.get(refresh_token)
        if credential is None or credential.kind != "authorized_user" or credential.revoked:
            return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
        if form.get("client_id") != credential.client_id or form.get("client_secret") != credential.client_secret:
            return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
        return self._issue(refresh_token, credential.scopes)

    # -- API --------------------------------------------------------------------------------------

    def _api(self, path: str, raw: bytes, authorization: str) -> tuple[int, dict[str, Any]]:
        try:
            document = self._api_inner(path, raw, authorization)
        except ApiError as error:
            self._count("searchAnalytics.query", error.code)
            return error.code, error.body()
        self._count("searchAnalytics.query", 200)
        return 200, document

    def _api_inner(self, path: str, raw: bytes, authorization: str) -> dict[str, Any]:
        match = _PATH.match(path)
        if match is None:
            raise ApiError(404, f"The requested URL {path} was not found on this server.")
        site_url = unquote(match.group(1))
        scheme, _, token = authorization.partition(" ")
        now = self._clock()
        with self._lock:
            info = self._tokens.get(token) if scheme.lower() == "bearer" else None
            credential = self._credentials.get(info.credential) if info else None
        if info is None or credential is None or credential.revoked or info.expires_at <= now:
            raise ApiError(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
                "other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
                location="Authorization",
                locationType="header",
            )
        if not info.scopes & {SCOPE_READONLY, SCOPE_FULL}:
            raise ApiError(403, "Request had insufficient authentication scopes.", reason="insufficientPermissions")
        if site_url not in credential.sites:
            raise ApiError(
                403,
                f"User does not have sufficient permission for site '{site_url}'. "
                "See also: https://support.google.com/webmasters/answer/2451999.",
            )
        with self._lock:
            if self._failures.remaining > 0:
                self._failures.remaining -= 1
                status = self._failures.status
                raise ApiError(
                    status, "Internal error encountered." if status == 500 else "The service is currently unavailable."
                )
            recent = self._recent.setdefault(site_url, deque())
            while recent and recent[0] <= now - 60:
                recent.popleft()
            if len(recent) >= self.queries_per_minute:
                raise ApiError(
                    429,
                    "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per site' of service "
                    "'searchconsole.googleapis.com'.",
                )
            recent.append(now)
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            raise _bad("Invalid JSON payload received.") from None
        request = parse_request(body)
        return run_query(site_url, request, today=self.today, config=self.config)


__all__ = [
    "ApiError",
    "QueryRequest",
    "SearchConsoleServer",
    "SyntheticConfig",
    "brand_term",
    "ctr_for_position",
    "day_rows",
    "parse_request",
    "run_query",
]
