"""Share of voice, competitors, rank against Search Console and ranking-URL changes, computed by hand."""

import datetime as dt
import math
import uuid

import pytest

from shared.errors import InvalidRequest
from shared.ranks import agreement, share_of_voice
from shared.ranks.ranks import date_range
from shared.ranks.share_of_voice import FALLBACK_CURVE, Curve, choose_curve, keyword_check
from shared.ranks.url_changes import RankedCheck, url_changes
from shared.reports.data.queries import CtrBucket

DAY = dt.date(2026, 11, 2)
PROJECT = "outdoor.example"
K1, K2, K3 = (uuid.UUID(int=n) for n in (1, 2, 3))
# ctr(p) = 0.3 / p: 0.3 at 1, 0.15 at 2, 0.1 at 3, 0.06 at 5, 0.03 at 10
CURVE = Curve(math.log(0.3), -1.0, "property", 5_000)


def checks(day: dt.date = DAY) -> list[share_of_voice.KeywordCheck]:
    return [
        keyword_check(
            K1,
            day,
            1,
            [
                ("outdoor.example", 1),
                ("www.b.example", 2),
                ("a.example", 3),
                ("B.example", 7),
                ("c.example", 11),
                ("blog.outdoor.example", 4),  # the project's own subdomain: not a competitor
            ],
            PROJECT,
        ),
        keyword_check(K2, day, None, [("a.example", 1), ("b.example", 10)], PROJECT),
        keyword_check(K3, day, 5, [("www.a.example", 2), ("www.outdoor.example", 5)], PROJECT),
    ]


WEIGHTS = {K1: 100.0, K2: 300.0}  # K3 has no impressions: it counts once


def test_a_check_keeps_each_other_domain_at_its_best_position() -> None:
    k1 = checks()[0]
    assert dict(k1.domains) == {"b.example": 2, "a.example": 3, "c.example": 11}


def test_visibility_is_the_weighted_expected_ctr_over_the_weighted_ctr_at_1() -> None:
    result = share_of_voice.visibility(checks(), WEIGHTS, CURVE)
    denominator = 0.3 * (100 + 300 + 1)  # 120.3
    assert result.keywords == 3
    assert result.project == pytest.approx((100 * 0.3 + 1 * 0.06) / denominator)  # 0.24988
    assert result.domains["a.example"] == pytest.approx((100 * 0.1 + 300 * 0.3 + 1 * 0.15) / denominator)  # 0.8325
    assert result.domains["b.example"] == pytest.approx((100 * 0.15 + 300 * 0.03) / denominator)  # 0.1995
    assert result.domains["c.example"] == pytest.approx(100 * (0.3 / 11) / denominator)
    assert "outdoor.example" not in result.domains


def test_without_weights_every_keyword_counts_once() -> None:
    result = share_of_voice.visibility(checks(), {}, CURVE)
    assert result.project == pytest.approx((0.3 + 0.06) / 0.9)
    assert result.domains["a.example"] == pytest.approx((0.1 + 0.3 + 0.15) / 0.9)


def test_the_curve_is_capped_at_a_ctr_of_1() -> None:
    steep = Curve(math.log(2.0), -1.0, "property")
    assert steep.ctr(1) == 1.0
    assert steep.ctr(4) == pytest.approx(0.5)
    result = share_of_voice.visibility([keyword_check(K1, DAY, 4, [], PROJECT)], {}, steep)
    assert result.project == pytest.approx(0.5)


def test_daily_visibility_counts_each_days_own_checks() -> None:
    later = DAY + dt.timedelta(days=1)
    series = share_of_voice.daily_visibility([*checks(later), *checks()[:1]], WEIGHTS, CURVE)
    assert [point.check_date for point in series] == [DAY, later]
    assert series[0].visibility.keywords == 1
    assert series[0].visibility.project == pytest.approx(1.0)  # first on the one keyword checked that day
    assert series[1].visibility.project == pytest.approx((100 * 0.3 + 1 * 0.06) / 120.3)


def test_no_check_is_no_visibility() -> None:
    assert share_of_voice.visibility([], WEIGHTS, CURVE) == share_of_voice.Visibility(0.0, {}, 0)


def test_competitors_are_the_top_10_domains_with_overlap_and_average_position() -> None:
    found = share_of_voice.competitors(checks(), WEIGHTS, CURVE)
    assert [c.domain for c in found] == ["a.example", "b.example"]  # c.example is 11th: not in the top 10
    a, b = found
    assert (a.keywords, a.shared, a.outranks, a.average_position) == (3, 2, 2, 2.0)
    assert (b.keywords, b.shared, b.outranks, b.average_position) == (2, 1, 1, 6.0)
    assert a.visibility == pytest.approx(100.15 / 120.3)


def test_the_property_curve_is_used_when_it_has_enough_data() -> None:
    buckets = [CtrBucket(1, 300, 1_000), CtrBucket(2, 150, 1_000), CtrBucket(4, 75, 1_000)]
    curve = choose_curve(buckets)
    assert curve.source == "property"
    assert curve.impressions == 3_000
    assert curve.b == pytest.approx(-1.0)
    assert curve.ctr(1) == pytest.approx(0.3)


@pytest.mark.parametrize(
    "buckets",
    [
        [],
        [CtrBucket(1, 30, 100), CtrBucket(2, 15, 100)],  # too few impressions
        [CtrBucket(1, 300, 5_000)],  # one point
        [CtrBucket(1, 10, 2_000), CtrBucket(5, 400, 2_000)],  # CTR rising with position: noise
    ],
)
def test_the_fallback_curve_stands_in_for_thin_or_absurd_data(buckets: list[CtrBucket]) -> None:
    assert choose_curve(buckets) is FALLBACK_CURVE


def test_the_fallback_curve_is_the_documented_one() -> None:
    assert FALLBACK_CURVE.ctr(1) == pytest.approx(0.28)
    assert FALLBACK_CURVE.ctr(10) == pytest.approx(0.28 * 10**-1.05)
    assert FALLBACK_CURVE.ctr(10) == pytest.approx(0.025, abs=0.001)


@pytest.mark.parametrize(
    ("serp", "checks", "gsc", "depth", "status", "flagged"),
    [
        (3.0, 7, 4.5, 10, "agree", False),
        (3.0, 7, 6.5, 10, "disagree", True),  # 3.5 apart, the threshold at 6.5 is 3
        (30.0, 7, 37.0, 100, "agree", False),  # 7 apart, the threshold at 37 is 9.25
        (30.0, 7, 41.0, 100, "disagree", True),
        (None, 7, 4.0, 10, "search_console_only", True),
        (None, 7, 24.0, 10, "search_console_only", False),  # beyond the depth checked: no contradiction
        (2.0, 7, None, 10, "serp_only", False),
        (None, 7, None, 10, "not_ranking", False),
        (None, 0, 4.0, None, "unchecked", False),
    ],
)
def test_rank_against_search_console(
    serp: float | None, checks: int, gsc: float | None, depth: int | None, status: str, flagged: bool
) -> None:
    result = agreement.compare(serp, checks, gsc, depth)
    assert (result.status, result.flagged) == (status, flagged)
    if serp is not None and gsc is not None:
        assert result.difference == pytest.approx(serp - gsc)


def test_url_changes_between_consecutive_checks_that_found_the_project() -> None:
    days = [DAY + dt.timedelta(days=n) for n in range(6)]
    page, other = "https://outdoor.example/tents", "https://outdoor.example/blog/best-tents"
    history = [
        RankedCheck(K1, days[0], 4, page),
        RankedCheck(K1, days[1], 3, page + "#:~:text=best%20tents"),  # the same page, as a featured snippet
        RankedCheck(K1, days[2], 6, other),  # a swap
        RankedCheck(K1, days[3], None, None),  # not found: breaks the sequence
        RankedCheck(K1, days[4], 5, page),
        RankedCheck(K2, days[0], 8, other),  # another keyword: no comparison across keywords
        RankedCheck(K2, days[1], 7, other),
    ]
    [change] = url_changes(history)
    assert (change.keyword_id, change.previous_date, change.check_date) == (K1, days[1], days[2])
    assert (change.previous_url, change.url) == (page + "#:~:text=best%20tents", other)
    assert (change.previous_position, change.position) == (3, 6)


def test_date_ranges_default_and_refuse_what_they_cannot_serve() -> None:
    assert date_range(None, DAY, default_days=28, max_days=92) == (DAY - dt.timedelta(days=27), DAY)
    assert date_range(DAY, DAY, default_days=28, max_days=92) == (DAY, DAY)
    for start, end in ((DAY, DAY - dt.timedelta(days=1)), (DAY - dt.timedelta(days=92), DAY), (None, dt.date.min)):
        with pytest.raises(InvalidRequest):
            date_range(start, end, default_days=28, max_days=92)
