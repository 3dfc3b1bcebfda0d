"""The reports benchmark's dataset: 16 months of synthetic Search Console rows, generated inside PostgreSQL.

Shape (per property): a pool of queries built from words, ranked Zipf-like
(the brand name first), each mapped to one page (most), two or three (some:
cannibalization); pages are popular Zipf-like too, a few decay from some day
on (content decay) and a few grow (winners). Every query-page pair has web
rows, some image and a few video rows. For each day and pair, the number of
(country, device) rows follows the pair's popularity times a season (yearly
wave, weekends, slow growth) and the page's decay or growth, from 0 to all 30
combinations; impressions follow the query's volume, position the pair's
ranking (worse as a page decays), clicks a CTR curve of the position.

Python builds the small pools (pages, query-page pairs: at most ~35,000 per
property) and solves for each property the popularity scale that gives its
target row count (the expected count is exact: E[min(30, floor(x + u))] =
min(30, x)); PostgreSQL expands them into ``gsc_rows`` with one
``INSERT ... SELECT`` per few weeks of a property, in primary-key order, as
the superuser (no row-level security; the foreign-key triggers are skipped
with ``session_replication_role = replica``: the properties exist). Then the
daily rollup as gsc_ingest keeps it, and every loaded day is queued for the
report rollup, which the benchmark runs with the real code.
"""

import bisect
import datetime as dt
import hashlib
import inspect
import math
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg

ANCHOR = dt.date(2026, 10, 31)  # the last day with data: fixed, so the dataset can be cached
DAYS = 487  # 16 months
COMBOS = 30  # countries x devices: the most rows one query-page pair can have on a day
TENANT_ID = "org_bench_reports"
NAMESPACE = uuid.UUID("6b6e0f0c-1f55-4e0e-9d55-4b3c2d7a5e10")

# Brand names: the sites' domains and each project's brand term (none is a vocabulary word).
SITES = (
    "trailforge",
    "peakstride",
    "summitgear",
    "ridgeline",
    "northtrek",
    "alpenglow",
    "canyonrun",
    "cedarpath",
    "stonebrook",
    "wildmarch",
    "foxhollow",
    "ironpine",
    "bluecrest",
    "mossridge",
    "falconfield",
    "driftwood",
    "granitebay",
    "emberwood",
    "silverlake",
    "oakhaven",
)
# Queries are [modifier] product [qualifier]: three disjoint word lists, so every combination is a distinct text.
MODIFIERS = (
    "",
    "best",
    "cheap",
    "womens",
    "mens",
    "kids",
    "waterproof",
    "lightweight",
    "wide",
    "vegan",
    "leather",
    "insulated",
    "breathable",
    "durable",
    "comfortable",
    "affordable",
    "premium",
    "discount",
    "new",
    "top",
    "ultralight",
    "warm",
    "cushioned",
    "minimalist",
    "rugged",
    "stylish",
    "orthopedic",
    "winter",
    "summer",
    "used",
)
PRODUCTS = (
    "running shoes",
    "trail shoes",
    "hiking boots",
    "sneakers",
    "sandals",
    "socks",
    "rain jacket",
    "fleece",
    "backpack",
    "tent",
    "sleeping bag",
    "trekking poles",
    "gaiters",
    "insoles",
    "headlamp",
    "water bottle",
    "hydration vest",
    "base layer",
    "gloves",
    "beanie",
    "shorts",
    "leggings",
    "down jacket",
    "climbing shoes",
    "approach shoes",
    "snow boots",
    "slippers",
    "sun hat",
    "windbreaker",
    "compression socks",
    "duffel bag",
    "camp stove",
    "hammock",
    "chalk bag",
    "harness",
    "helmet",
    "crampons",
    "ski jacket",
    "rain pants",
    "trail runners",
)
QUALIFIERS = (
    "",
    "sale",
    "review",
    "near me",
    "size chart",
    "vs",
    "for beginners",
    "2026",
    "clearance",
    "online",
    "outlet",
    "reddit",
    "how to clean",
    "how to choose",
    "for flat feet",
    "for women",
    "for men",
    "uk",
    "free shipping",
    "black friday",
    "coupon",
    "amazon",
    "guide",
    "comparison",
    "rating",
    "lifespan",
    "warranty",
    "returns",
    "sizing",
    "deals",
)
SECTIONS = ("shop", "blog", "guides", "collections", "products", "reviews", "sale", "help")
# (country, weight), (device, weight, position offset): skewed as a typical English-language site's.
COUNTRIES = (
    ("usa", 0.34),
    ("gbr", 0.12),
    ("deu", 0.09),
    ("can", 0.08),
    ("ind", 0.08),
    ("aus", 0.06),
    ("fra", 0.06),
    ("esp", 0.05),
    ("ita", 0.04),
    ("nld", 0.04),
)
DEVICES = (("MOBILE", 0.58, -0.3), ("DESKTOP", 0.37, 0.3), ("TABLET", 0.05, 0.0))
# (search type, share of pairs that have it, popularity factor, CTR factor): mostly web.
SEARCH_TYPES = (("web", 1.0, 1.0, 1.0), ("image", 0.12, 0.35, 0.08), ("video", 0.01, 0.2, 0.3))

# How a decaying or growing page changes from its start day t0 (day index t): row-count factor,
# impression factor, position drift. Python (calibration) and SQL (generation) use the same numbers.
DECAY_SHARE, DECAY_ROWS_TAU, DECAY_IMP_TAU, DECAY_DRIFT_PER_DAY, DECAY_DRIFT_MAX = 0.07, 70.0, 90.0, 1 / 12, 12.0
GROW_SHARE, GROW_ROWS_DAYS, GROW_ROWS_MAX, GROW_IMP_DAYS, GROW_IMP_MAX = 0.05, 80.0, 2.5, 120.0, 2.0
GROW_DRIFT_PER_DAY, GROW_DRIFT_MAX = 1 / 50, 3.0
ROWS_PER_STATEMENT = 400_000  # one INSERT ... SELECT sorts this many rows in memory


@dataclass(frozen=True)
class DatasetSpec:
    """What the dataset is; its hash (with the generator's source and the schema) names a cached build."""

    name: str
    sizes: tuple[int, ...]  # target rows per property, the largest first, the small one last
    largest_queries: int = 25_000
    largest_pages: int = 2_500
    keywords_per_project: int = 100
    anchor: dt.date = ANCHOR
    days: int = DAYS
    seed: int = 20261031

    @property
    def database(self) -> str:
        return "kestrel_bench_reports" if self.name == "full" else f"kestrel_bench_reports_{self.name}"

    def digest(self) -> str:
        """The spec and the generator's source: what the rows are (the schema is recorded beside it)."""
        source = inspect.getsource(inspect.getmodule(DatasetSpec))  # type: ignore[arg-type]
        text = repr(sorted(asdict(self).items())) + source
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _tail(total: int, count: int, exponent: float = 0.9) -> tuple[int, ...]:
    """``count`` sizes ~ 1/rank^exponent (ranks 2 on) summing to ``total``, rounded to thousands."""
    weights = [1 / (rank**exponent) for rank in range(2, count + 2)]
    scale = total / sum(weights)
    return tuple(int(round(weight * scale, -3)) for weight in weights)


# 30,000,000 rows: the largest property 8.0M (a hair more: the count is random around the target), a long
# tail, and a small property of 150k last. The counts land within ~0.1% of the targets.
FULL = DatasetSpec(name="full", sizes=(8_030_000, *_tail(30_060_000 - 8_030_000 - 150_000, 18), 150_000))
QUICK = DatasetSpec(
    name="quick",
    sizes=(150_000, 60_000, 40_000, 30_000, 20_000),
    largest_queries=3_000,
    largest_pages=300,
    keywords_per_project=30,
)


@dataclass
class Site:
    index: int
    name: str  # the brand
    project_id: uuid.UUID
    property_id: uuid.UUID
    target_rows: int

    @property
    def origin(self) -> str:
        return f"https://www.{self.name}.example"


def sites(spec: DatasetSpec) -> list[Site]:
    return [
        Site(
            index=n,
            name=SITES[n],
            project_id=uuid.uuid5(NAMESPACE, f"{spec.name}/project/{n}"),
            property_id=uuid.uuid5(NAMESPACE, f"{spec.name}/property/{n}"),
            target_rows=size,
        )
        for n, size in enumerate(spec.sizes)
    ]


def day_of(spec: DatasetSpec, t: int) -> dt.date:
    return spec.anchor - dt.timedelta(days=spec.days - 1 - t)


def season(spec: DatasetSpec, t: int) -> float:
    """A yearly wave, quieter weekends and 30% growth over the 16 months."""
    day = day_of(spec, t)
    yearly = 1 + 0.12 * math.sin(2 * math.pi * (day.timetuple().tm_yday - 80) / 365.25)
    weekly = 0.82 if day.weekday() >= 5 else 1.07
    return yearly * weekly * (0.85 + 0.3 * t / (spec.days - 1))


def rows_factor(t: int, decay_start: int | None, grow_start: int | None) -> float:
    if decay_start is not None and t > decay_start:
        return max(0.03, math.exp(-(t - decay_start) / DECAY_ROWS_TAU))
    if grow_start is not None and t > grow_start:
        return min(GROW_ROWS_MAX, 1 + (t - grow_start) / GROW_ROWS_DAYS)
    return 1.0


@dataclass
class Page:
    page_id: int
    url: str
    decay_start: int | None = None
    grow_start: int | None = None
    title: str | None = None  # from the best query mapped to it (a page targets its main query)


@dataclass
class Pair:
    pair_id: int
    search_type: str
    query: str
    page_id: int
    weight: float  # popularity: expected rows per day = min(30, scale * weight * season * page factor)
    daily_impressions: float  # the pair's impressions per day, before the season
    base_position: float
    ctr_base: float  # CTR = ctr_base * position^-1.15 (capped)
    volume: float = 0.0  # impressions per row, set once the scale is known


@dataclass
class Pool:
    site: Site
    queries: list[str]
    pages: list[Page]
    pairs: list[Pair]
    scale: float = 0.0
    expected_rows: float = 0.0
    keywords: list[str] = field(default_factory=list)


def query_text(index: int) -> str:
    modifier = MODIFIERS[index % len(MODIFIERS)]
    product = PRODUCTS[(index // len(MODIFIERS)) % len(PRODUCTS)]
    qualifier = QUALIFIERS[index // (len(MODIFIERS) * len(PRODUCTS))]
    return " ".join(part for part in (modifier, product, qualifier) if part)


QUERY_SPACE = len(MODIFIERS) * len(PRODUCTS) * len(QUALIFIERS)
STRIDE = 7919  # prime, coprime with QUERY_SPACE: rank -> text is a bijection


def build_pool(spec: DatasetSpec, site: Site) -> Pool:
    rng = random.Random(f"{spec.seed}/{site.index}")
    relative = site.target_rows / spec.sizes[0]
    n_queries = min(QUERY_SPACE, max(300, round(spec.largest_queries * relative**0.7)))
    n_pages = max(40, round(spec.largest_pages * relative**0.7))
    first_day = spec.days - 1
    # Queries by rank: the brand first; some others carry the brand too.
    queries = [site.name]
    for rank in range(1, n_queries):
        text = query_text((rank * STRIDE + site.index * 1237) % QUERY_SPACE)
        queries.append(f"{site.name} {text}" if rank % 29 == 3 else text)
    pages = [Page(0, f"{site.origin}/")]
    for page_id in range(1, n_pages):
        section = SECTIONS[rng.randrange(len(SECTIONS))]
        slug = f"{PRODUCTS[rng.randrange(len(PRODUCTS))].replace(' ', '-')}-{page_id}"
        page = Page(page_id, f"{site.origin}/{section}/{slug}")
        draw = rng.random()
        if draw < DECAY_SHARE:
            page.decay_start = rng.randint(first_day - 210, first_day - 70)
        elif draw < DECAY_SHARE + GROW_SHARE:
            page.grow_start = rng.randint(first_day - 240, first_day - 60)
        pages.append(page)
    # The property's traffic scales with its size.
    top_impressions = 60_000 * relative**0.85
    pairs: list[Pair] = []
    for rank, query in enumerate(queries):
        brand = site.name in query
        # Brand queries land on the home page half of the time; others on pages that are popular Zipf-like.
        homepage = rank == 0 or (brand and rng.random() < 0.5)
        primary = 0 if homepage else 1 + int((n_pages - 1) * rng.random() ** 2.0)
        draw = rng.random()
        shares = [1.0] if draw < 0.85 else [0.7, 0.3] if draw < 0.96 else [0.55, 0.3, 0.15]
        page_ids = [primary]
        while len(page_ids) < len(shares):
            other = rng.randrange(1, n_pages)
            if other not in page_ids:
                page_ids.append(other)
        popularity = (rank + 1) ** -1.0
        impressions = top_impressions * (rank + 1) ** -0.95
        tail = math.log(rank + 2) / math.log(n_queries + 2)
        ctr_quality = math.exp(0.45 * rng.gauss()) * (2.2 if brand else 1.0)
        for order, (page_id, share) in enumerate(zip(page_ids, shares, strict=True)):
            # Brand queries rank first; popular queries better than the tail.
            position = 1 + rng.random() * 1.5 if brand else 1 + 40 * rng.random() ** 1.4 * (0.35 + 0.65 * tail)
            if order:
                position += 3 + 5 * rng.random()
            for search_type, share_of_pairs, factor, ctr_factor in SEARCH_TYPES:
                if share_of_pairs < 1 and rng.random() >= share_of_pairs:
                    continue
                pairs.append(
                    Pair(
                        pair_id=len(pairs),
                        search_type=search_type,
                        query=query,
                        page_id=page_id,
                        weight=popularity * share * factor,
                        daily_impressions=impressions * share * factor,
                        base_position=position + (2 * rng.random() if search_type != "web" else 0),
                        ctr_base=0.25 * ctr_quality * ctr_factor,
                    )
                )
        if rank == 0 or not pages[primary].title:
            pages[primary].title = query
    pool = Pool(site=site, queries=queries, pages=pages, pairs=pairs)
    _calibrate(spec, pool)
    # Tracked keywords: queries of every popularity, all of which have rows.
    step = max(1, min(n_queries, 4000) // spec.keywords_per_project)
    pool.keywords = queries[: step * spec.keywords_per_project : step][: spec.keywords_per_project]
    return pool


def _calibrate(spec: DatasetSpec, pool: Pool) -> None:
    """Find the popularity scale whose expected row count is the site's target (bisection; it is monotone)."""
    seasons = [season(spec, t) for t in range(spec.days)]
    profiles: dict[int | None, tuple[list[float], list[float]]] = {}

    def profile(page: Page) -> tuple[list[float], list[float]]:
        key = page.page_id if page.decay_start is not None or page.grow_start is not None else None
        if key not in profiles:
            factors = sorted(seasons[t] * rows_factor(t, page.decay_start, page.grow_start) for t in range(spec.days))
            prefix = [0.0]
            for value in factors:
                prefix.append(prefix[-1] + value)
            profiles[key] = (factors, prefix)
        return profiles[key]

    weighted = [(pair.weight, profile(pool.pages[pair.page_id])) for pair in pool.pairs]

    def expected(scale: float) -> float:
        total = 0.0
        for weight, (factors, prefix) in weighted:
            x = scale * weight
            below = bisect.bisect_left(factors, COMBOS / x)  # days on which x * factor < 30
            total += x * prefix[below] + COMBOS * (len(factors) - below)
        return total

    low, high = 1e-3, 1e8
    if expected(high) < pool.site.target_rows:
        raise ValueError(f"{pool.site.name}: {pool.site.target_rows:,} rows need a larger query pool")
    for _ in range(60):
        middle = math.sqrt(low * high)
        if expected(middle) < pool.site.target_rows:
            low = middle
        else:
            high = middle
    pool.scale = high
    pool.expected_rows = expected(high)
    mean_season = sum(seasons) / len(seasons)
    for pair in pool.pairs:
        rows_per_day = min(COMBOS, pool.scale * pair.weight * mean_season)
        pair.volume = pair.daily_impressions / max(1.0, rows_per_day)


# ---------------------------------------------------------------- SQL

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS bench_data;
CREATE TABLE IF NOT EXISTS bench_data.marker (
  spec_hash text NOT NULL, spec text NOT NULL, migration_head text, rollup_hash text,
  built_at timestamptz NOT NULL DEFAULT now(), timings jsonb NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS bench_data.days (t int PRIMARY KEY, date date NOT NULL, season float8 NOT NULL);
CREATE TABLE IF NOT EXISTS bench_data.combos (
  rank int PRIMARY KEY, country text NOT NULL, device text NOT NULL, factor float8 NOT NULL, pos_offset float8 NOT NULL
);
CREATE TABLE IF NOT EXISTS bench_data.pages (
  property_id uuid NOT NULL, page_id int NOT NULL, url text NOT NULL, decay_start int, grow_start int,
  PRIMARY KEY (property_id, page_id)
);
CREATE TABLE IF NOT EXISTS bench_data.pairs (
  property_id uuid NOT NULL, pair_id int NOT NULL, search_type text NOT NULL, query text NOT NULL, page_id int NOT NULL,
  weight float8 NOT NULL, volume float8 NOT NULL, base_position float8 NOT NULL, ctr_base float8 NOT NULL,
  PRIMARY KEY (property_id, pair_id)
);
"""

# One property's rows for days [first, last]: per pair and day, k = min(30, floor(scale * weight * season * page
# factor + u)) rows, in k distinct (country, device) combinations from a biased start; each row gets impressions,
# a position and clicks. The subqueries with random() are not flattened (volatile), so k and o are drawn once.
_NOISE = "(random() + random() + random() - 1.5) * 2"  # ~N(0, 1)
GENERATE = f"""
INSERT INTO gsc_rows (tenant_id, property_id, date, search_type, query, page, country, device,
                      clicks, impressions, ctr, position)
SELECT %(tenant_id)s, %(property_id)s, r.date, r.search_type, r.query, r.url, r.country, r.device,
       r.clicks, r.impressions, r.clicks::float8 / r.impressions, r.position
FROM (
  SELECT x.date, x.search_type, x.query, x.url, c.country, c.device, m.impressions, m.position,
         least(m.impressions,
               floor(m.impressions * least(0.9, x.ctr_base * power(m.position, -1.15)) + random()))::int AS clicks
  FROM (
    SELECT d.date, p.search_type, p.query, g.url, p.ctr_base,
           p.volume * d.season * f.impressions AS volume, p.base_position + f.drift AS position,
           least({COMBOS}, floor(%(scale)s * p.weight * d.season * f.rows + random()))::int AS k,
           floor({COMBOS} * power(random(), 3))::int AS o
    FROM bench_data.days d
    CROSS JOIN bench_data.pairs p
    JOIN bench_data.pages g ON g.property_id = p.property_id AND g.page_id = p.page_id
    CROSS JOIN LATERAL (
      SELECT CASE WHEN d.t > g.decay_start THEN greatest(0.03, exp(-(d.t - g.decay_start) / %(decay_rows_tau)s))
                  WHEN d.t > g.grow_start THEN least(%(grow_rows_max)s, 1 + (d.t - g.grow_start) / %(grow_rows_days)s)
                  ELSE 1.0 END AS rows,
             CASE WHEN d.t > g.decay_start THEN exp(-(d.t - g.decay_start) / %(decay_imp_tau)s)
                  WHEN d.t > g.grow_start THEN least(%(grow_imp_max)s, 1 + (d.t - g.grow_start) / %(grow_imp_days)s)
                  ELSE 1.0 END AS impressions,
             CASE WHEN d.t > g.decay_start
                    THEN least(%(decay_drift_max)s, (d.t - g.decay_start) * %(decay_drift_per_day)s)
                  WHEN d.t > g.grow_start
                    THEN -least(%(grow_drift_max)s, (d.t - g.grow_start) * %(grow_drift_per_day)s)
                  ELSE 0.0 END AS drift
    ) f
    WHERE p.property_id = %(property_id)s AND d.t BETWEEN %(first)s AND %(last)s
  ) x
  CROSS JOIN LATERAL generate_series(0, x.k - 1) AS j
  JOIN bench_data.combos c ON c.rank = (j + x.o) %% {COMBOS}
  CROSS JOIN LATERAL (
    SELECT greatest(1, floor(x.volume * c.factor * exp(0.45 * {_NOISE}) + random()))::int AS impressions,
           round(greatest(1.0, x.position + c.pos_offset + 1.2 * {_NOISE})::numeric, 2)::float8 AS position
  ) m
) r
ORDER BY r.date, r.search_type, r.query, r.url, r.country, r.device
"""
GENERATE_PARAMS = {
    "decay_rows_tau": DECAY_ROWS_TAU,
    "decay_imp_tau": DECAY_IMP_TAU,
    "decay_drift_max": DECAY_DRIFT_MAX,
    "decay_drift_per_day": DECAY_DRIFT_PER_DAY,
    "grow_rows_max": GROW_ROWS_MAX,
    "grow_rows_days": GROW_ROWS_DAYS,
    "grow_imp_max": GROW_IMP_MAX,
    "grow_imp_days": GROW_IMP_DAYS,
    "grow_drift_max": GROW_DRIFT_MAX,
    "grow_drift_per_day": GROW_DRIFT_PER_DAY,
}
# As gsc_ingest's refresh_rollup keeps it, for every day at once.
DAILY_ROLLUP = """
INSERT INTO gsc_daily_rollup (tenant_id, property_id, date, search_type, clicks, impressions, position_weighted, rows)
SELECT tenant_id, property_id, date, search_type, sum(clicks), sum(impressions), sum(position * impressions), count(*)
FROM gsc_rows WHERE property_id = %(property_id)s
GROUP BY tenant_id, property_id, date, search_type
ORDER BY date, search_type
"""
# As gsc_ingest's load queues them: every loaded day of the property is pending for the report rollup.
QUEUE_PENDING = """
INSERT INTO gsc_rollup_pending (tenant_id, property_id, date)
SELECT DISTINCT tenant_id, property_id, date FROM gsc_daily_rollup WHERE property_id = %(property_id)s
ORDER BY date
ON CONFLICT DO NOTHING
"""


def create_schema(conn: psycopg.Connection[Any], spec: DatasetSpec) -> None:
    conn.execute(SCHEMA)
    conn.execute("TRUNCATE bench_data.days, bench_data.combos, bench_data.pages, bench_data.pairs")
    with conn.cursor().copy("COPY bench_data.days (t, date, season) FROM STDIN") as copy:
        for t in range(spec.days):
            copy.write_row((t, day_of(spec, t), season(spec, t)))
    combos = sorted(
        (
            (country_weight * device_weight, country, device, offset)
            for country, country_weight in COUNTRIES
            for device, device_weight, offset in DEVICES
        ),
        reverse=True,
    )
    top = combos[0][0]
    with conn.cursor().copy("COPY bench_data.combos (rank, country, device, factor, pos_offset) FROM STDIN") as copy:
        for rank, (weight, country, device, offset) in enumerate(combos):
            # The most common combination gets the most impressions per row (mean over all ~1).
            copy.write_row((rank, country, device, 0.3 + 1.4 * math.sqrt(weight / top), offset))


def create_sites(conn: psycopg.Connection[Any], spec: DatasetSpec, pools: list[Pool]) -> None:
    """The tenant's projects (brand terms, tracked keywords), properties and crawled pages, as the superuser."""
    for pool in pools:
        site = pool.site
        conn.execute(
            "INSERT INTO projects (id, tenant_id, name, domain, brand_terms) VALUES (%s, %s, %s, %s, %s)",
            (site.project_id, TENANT_ID, site.name.capitalize(), site.origin, [site.name]),
        )
        conn.execute(
            "INSERT INTO properties (id, tenant_id, project_id, site_url) VALUES (%s, %s, %s, %s)",
            (site.property_id, TENANT_ID, site.project_id, f"{site.origin}/"),
        )
        with conn.cursor().copy(
            "COPY keywords (tenant_id, project_id, text, locale, country, device, tags) FROM STDIN"
        ) as copy:
            for n, keyword in enumerate(pool.keywords):
                tags = ["brand"] if site.name in keyword else ["core" if n < len(pool.keywords) // 3 else "long-tail"]
                copy.write_row((TENANT_ID, site.project_id, keyword, "en", "US", ("desktop", "mobile")[n % 2], tags))
        # Most pages crawled; a page's title and H1 name the query it was written for.
        rng = random.Random(f"{spec.seed}/crawl/{site.index}")
        with conn.cursor().copy("COPY crawled_pages (tenant_id, project_id, url, title, h1) FROM STDIN") as copy:
            for page in pool.pages:
                if rng.random() < 0.8:
                    topic = (page.title or page.url.rsplit("/", 1)[-1].replace("-", " ")).capitalize()
                    h1 = topic if rng.random() < 0.7 else f"All about {page.url.rsplit('/', 1)[-1]}"
                    copy.write_row((TENANT_ID, site.project_id, page.url, f"{topic} | {site.name.capitalize()}", h1))
        with conn.cursor().copy(
            "COPY bench_data.pages (property_id, page_id, url, decay_start, grow_start) FROM STDIN"
        ) as copy:
            for page in pool.pages:
                copy.write_row((site.property_id, page.page_id, page.url, page.decay_start, page.grow_start))
        with conn.cursor().copy(
            "COPY bench_data.pairs (property_id, pair_id, search_type, query, page_id, weight, volume, base_position,"
            " ctr_base) FROM STDIN"
        ) as copy:
            for pair in pool.pairs:
                copy.write_row(
                    (
                        site.property_id,
                        pair.pair_id,
                        pair.search_type,
                        pair.query,
                        pair.page_id,
                        pair.weight,
                        pair.volume,
                        pair.base_position,
                        pair.ctr_base,
                    )
                )


def day_ranges(spec: DatasetSpec, target_rows: int) -> Iterator[tuple[int, int]]:
    per_statement = max(7, min(spec.days, ROWS_PER_STATEMENT * spec.days // max(1, target_rows)))
    for first in range(0, spec.days, per_statement):
        yield first, min(spec.days, first + per_statement) - 1


def generate_property(
    conninfo: str, spec: DatasetSpec, pool: Pool, progress: Callable[[str], None] | None = None
) -> int:
    """Insert the property's rows, its daily rollup and its pending days; returns the rows inserted."""
    site = pool.site
    rows = 0
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # The superuser bypasses row-level security; the foreign-key triggers are skipped (the property exists).
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET work_mem = '512MB'")
        conn.execute("SET synchronous_commit = off")
        conn.execute("SELECT setseed(%s)", (((spec.seed + site.index) % 1000) / 1000,))
        params = GENERATE_PARAMS | {"tenant_id": TENANT_ID, "property_id": site.property_id, "scale": pool.scale}
        for first, last in day_ranges(spec, site.target_rows):
            cursor = conn.execute(GENERATE, params | {"first": first, "last": last})
            rows += cursor.rowcount
            if progress:
                progress(f"  {site.name}: days {first}-{last}: {rows:,} rows")
        conn.execute(DAILY_ROLLUP, {"property_id": site.property_id})
        conn.execute(QUEUE_PENDING, {"property_id": site.property_id})
    return rows
