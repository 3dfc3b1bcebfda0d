"""Share of voice from rank data, calibrated on the property's own Search Console CTR curve: pure computations.

A keyword's SERP is worth, to a domain, the CTR expected at the domain's best organic ``rank_group`` on it,
read from the property's fitted curve ``ctr(position) = min(1, exp(a) * position^b)`` (the curve
ctr-opportunities fits: ``shared.reports.ctr_opportunities.fit_curve``). Keywords are weighted by the
impressions Search Console recorded for the same query, country and device; a keyword without any counts
once (weight 1). A domain's visibility over a set of checks is

    sum(weight x ctr(domain's best position)) / sum(weight x ctr(1))

over every check of the set: 1 is "first on every keyword", 0 is "nowhere in the depth checked". The
project's own position is the snapshot's (its best organic result, whatever the host of the site); other
domains are compared by host with a leading ``www.`` dropped.
"""

import datetime as dt
import functools
import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from shared.reports.ctr_opportunities import expected_ctr, fit_curve
from shared.reports.data.queries import CtrBucket

CurveSource = Literal["property", "fallback"]

# The fallback curve, when the property has too little data for its own: a power law through the published
# industry averages of organic CTR (about 28% at position 1, 15% at 2, 2.5% at 10).
FALLBACK_A = math.log(0.28)
FALLBACK_B = -1.05
# The property's fit is used when its buckets hold at least this many impressions, at least two of them have
# clicks (a line needs two points: ``fit_curve``), and the fitted CTR falls with position.
MIN_CURVE_IMPRESSIONS = 1_000
TOP = 10  # "in the top 10": rank_group 1 to 10


@dataclass(frozen=True)
class Curve:
    """Expected CTR by position: ``min(1, exp(a) * position^b)``."""

    a: float
    b: float
    source: CurveSource
    impressions: int = 0  # the property's impressions the fit was made from (0: fallback)

    def ctr(self, position: float) -> float:
        return expected_ctr(self.a, self.b, position)


FALLBACK_CURVE = Curve(FALLBACK_A, FALLBACK_B, "fallback")


def choose_curve(buckets: Sequence[CtrBucket]) -> Curve:
    """The property's fitted curve over its CTR buckets, or the fallback when they are too thin to trust."""
    impressions = sum(bucket.impressions for bucket in buckets)
    if impressions < MIN_CURVE_IMPRESSIONS:
        return FALLBACK_CURVE
    fitted = fit_curve(buckets)
    if fitted is None or fitted.b >= 0:  # a CTR that does not fall with position is noise, not a curve
        return FALLBACK_CURVE
    return Curve(fitted.a, fitted.b, "property", impressions)


@functools.lru_cache(maxsize=65_536)  # a project's SERPs name a few hundred hosts, over and over
def site_of(host: str) -> str:
    """A result's domain as share of voice compares it: lowercase, without a leading ``www.``."""
    host = host.strip().lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


@functools.lru_cache(maxsize=65_536)
def is_projects(host: str, project_domain: str) -> bool:
    """The project's domain or one of its subdomains."""
    site, own = site_of(host), site_of(project_domain)
    return site == own or site.endswith("." + own)


@dataclass(frozen=True)
class KeywordCheck:
    """One keyword's SERP on one day: the project's best organic position and every other domain's."""

    keyword_id: uuid.UUID
    check_date: dt.date
    position: int | None  # the project's (None: not within the depth checked)
    domains: Mapping[str, int] = field(default_factory=dict)  # other domains' best organic rank_group


def keyword_check(
    keyword_id: uuid.UUID,
    check_date: dt.date,
    position: int | None,
    organic: Iterable[tuple[str, int]],
    project_domain: str,
) -> KeywordCheck:
    """A check from its organic results ``(domain, rank_group)``: each other domain at its best position."""
    best: dict[str, int] = {}
    for host, rank in organic:
        if not host or is_projects(host, project_domain):
            continue
        site = site_of(host)
        if rank < best.get(site, rank + 1):
            best[site] = rank
    return KeywordCheck(keyword_id, check_date, position, best)


def weight_of(weights: Mapping[uuid.UUID, float], keyword_id: uuid.UUID) -> float:
    """A keyword's weight: its impressions, or 1 when Search Console has none for it."""
    weight = weights.get(keyword_id, 0.0)
    return weight if weight > 0 else 1.0


@dataclass(frozen=True)
class Visibility:
    """The project's and every other domain's visibility over a set of checks."""

    project: float
    domains: dict[str, float]
    keywords: int  # checks counted


def visibility(checks: Sequence[KeywordCheck], weights: Mapping[uuid.UUID, float], curve: Curve) -> Visibility:
    """Each domain's sum(weight x ctr(best position)) over the checks, divided by sum(weight x ctr(1))."""
    ctr = functools.cache(curve.ctr)  # positions are 1 to 100: each computed once
    top = ctr(1)
    denominator = 0.0
    project = 0.0
    numerators: dict[str, float] = defaultdict(float)
    for check in checks:
        weight = weight_of(weights, check.keyword_id)
        denominator += weight * top
        if check.position is not None:
            project += weight * ctr(check.position)
        for domain, rank in check.domains.items():
            numerators[domain] += weight * ctr(rank)
    if denominator == 0:
        return Visibility(0.0, {}, 0)
    return Visibility(
        project / denominator, {domain: value / denominator for domain, value in numerators.items()}, len(checks)
    )


@dataclass(frozen=True)
class DailyVisibility:
    check_date: dt.date
    visibility: Visibility


def daily_visibility(
    checks: Sequence[KeywordCheck], weights: Mapping[uuid.UUID, float], curve: Curve
) -> list[DailyVisibility]:
    """Visibility per day with checks, each day over that day's checks, in date order."""
    by_day: dict[dt.date, list[KeywordCheck]] = defaultdict(list)
    for check in checks:
        by_day[check.check_date].append(check)
    return [DailyVisibility(day, visibility(by_day[day], weights, curve)) for day in sorted(by_day)]


@dataclass(frozen=True)
class Competitor:
    """A domain in the top 10 of at least one of the project's keywords on their latest check."""

    domain: str
    keywords: int  # the project's keywords it is in the top 10 of
    shared: int  # of those, the ones where the project is in the top 10 too
    outranks: int  # of those, the ones where it is above the project (or the project is not in the top 10)
    average_position: float  # its best position over those keywords, averaged
    visibility: float  # over every latest check, at any depth, as ``visibility``


def competitors(checks: Sequence[KeywordCheck], weights: Mapping[uuid.UUID, float], curve: Curve) -> list[Competitor]:
    """The domains in the top 10 of the checks, by visibility, then keywords, then name."""
    shares = visibility(checks, weights, curve).domains
    found: dict[str, list[tuple[int, int | None]]] = defaultdict(list)  # domain -> (its rank, the project's)
    for check in checks:
        for domain, rank in check.domains.items():
            if rank <= TOP:
                found[domain].append((rank, check.position))
    result = []
    for domain, ranks in found.items():
        project_top = [(rank, own) for rank, own in ranks if own is not None and own <= TOP]
        result.append(
            Competitor(
                domain=domain,
                keywords=len(ranks),
                shared=len(project_top),
                outranks=sum(1 for rank, own in ranks if own is None or own > TOP or rank < own),
                average_position=sum(rank for rank, _ in ranks) / len(ranks),
                visibility=shares.get(domain, 0.0),
            )
        )
    result.sort(key=lambda c: (-c.visibility, -c.keywords, c.domain))
    return result
