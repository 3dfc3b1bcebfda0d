"""Preset ranges (the last 7, 28 and 90 days and the ones before them) built by the rollup and read by reports."""

import datetime as dt
from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import text

from shared.db import tenant_transaction
from shared.reports import breakdown, winners_losers
from shared.reports.data.queries import DateRange
from shared.reports.data.rollups import preset_ranges
from shared.reports.models.search import BreakdownParams
from shared.reports.models.trends import WinnersLosersParams
from tests.support.reports import ReportSite, load_rows, new_report_site, raw_report, row

LATEST = dt.date(2026, 6, 24)  # a Wednesday: the presets end mid-week
DAYS = [LATEST - dt.timedelta(days=back) for back in range(199, -1, -1)]


def rows_of(day_index: int, day: dt.date, *, bump: int = 0) -> list[dict[str, Any]]:
    return [
        row(
            day,
            f"query {n}",
            f"https://shop.example/p{(n + day_index) % 4}",
            (n + day_index) % 3 + bump,
            10 + n,
            1 + n % 9,
        )
        for n in range(day_index % 5 + 1)
    ]


ROWS = [r for index, day in enumerate(DAYS) for r in rows_of(index, day)]


@pytest.fixture(scope="module")
def site(platform) -> ReportSite:
    site = new_report_site(platform.owner_url)
    load_rows(site, ROWS)
    return site


def presets_built(site: ReportSite) -> list[DateRange]:
    with tenant_transaction(site.tenant_id) as session:
        rows = session.execute(
            text(
                "SELECT window_start, window_end FROM gsc_rollup_windows"
                " WHERE property_id = :p AND search_type = 'web' ORDER BY window_end DESC, window_start"
            ),
            {"p": site.property_id},
        ).all()
    return [DateRange(r.window_start, r.window_end) for r in rows]


def preset_sums(site: ReportSite, preset: DateRange) -> dict[tuple[str, str], tuple[int, int, float]]:
    with tenant_transaction(site.tenant_id) as session:
        rows = session.execute(
            text(
                "SELECT query, page, clicks, impressions, position_weighted FROM gsc_query_page_window"
                " WHERE property_id = :p AND search_type = 'web' AND window_start = :s AND window_end = :e"
            ),
            {"p": site.property_id, "s": preset.start, "e": preset.end},
        ).all()
    return {(r.query, r.page): (r.clicks, r.impressions, r.position_weighted) for r in rows}


def expected_sums(rows: list[dict[str, Any]], preset: DateRange) -> dict[tuple[str, str], tuple[int, int, float]]:
    sums: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for r in rows:
        if preset.start.isoformat() <= r["date"] <= preset.end.isoformat():
            total = sums[(r["query"], r["page"])]
            total[0] += r["clicks"]
            total[1] += r["impressions"]
            total[2] += r["position"] * r["impressions"]
    return {key: (int(c), int(i), w) for key, (c, i, w) in sums.items()}


def test_the_rollup_builds_every_preset_range_ending_on_the_latest_day(site):
    presets = preset_ranges(LATEST)
    assert sorted(presets_built(site)) == sorted(presets)
    assert DateRange(LATEST - dt.timedelta(days=27), LATEST) in presets
    assert DateRange(LATEST - dt.timedelta(days=55), LATEST - dt.timedelta(days=28)) in presets
    for preset in presets:
        assert preset_sums(site, preset) == expected_sums(ROWS, preset), preset


def test_reports_over_a_preset_range_read_it_and_agree_with_raw(site):
    start = LATEST - dt.timedelta(days=89)
    for params in (
        BreakdownParams(start_date=start, end_date=LATEST, dimension="query"),
        BreakdownParams(start_date=start, end_date=LATEST, dimension="page", sort="impressions"),
        BreakdownParams(start_date=start + dt.timedelta(days=1), end_date=LATEST, dimension="query"),  # not a preset
    ):
        rollup = breakdown.run(site.principal, site.project_id, site.property_id, params)
        raw = raw_report(breakdown.run, site, params)
        assert rollup.model_dump() == raw.model_dump()
    changes = WinnersLosersParams(start_date=LATEST - dt.timedelta(days=27), end_date=LATEST, direction="losers")
    assert (
        winners_losers.run(site.principal, site.project_id, site.property_id, changes).model_dump()
        == raw_report(winners_losers.run, site, changes).model_dump()
    )


def test_a_revision_and_a_new_day_rebuild_the_presets(site):
    revised = rows_of(len(DAYS) - 3, DAYS[-3], bump=2)  # the same rows as loaded, with more clicks
    new_day = LATEST + dt.timedelta(days=1)
    added = rows_of(3, new_day)
    load_rows(site, revised + added)
    merged = {(r["date"], r["query"], r["page"]): r for r in ROWS + revised + added}
    rows = list(merged.values())
    assert sorted(presets_built(site)) == sorted(preset_ranges(new_day))
    for preset in preset_ranges(new_day):
        assert preset_sums(site, preset) == expected_sums(rows, preset), preset


def test_a_backfill_of_older_days_keeps_the_presets(platform):
    site = new_report_site(platform.owner_url)
    load_rows(site, ROWS)

    def built_at() -> list[Any]:
        with tenant_transaction(site.tenant_id) as session:
            return list(
                session.scalars(
                    text(
                        "SELECT built_at FROM gsc_rollup_windows WHERE property_id = :p"
                        " ORDER BY window_end, window_start"
                    ),
                    {"p": site.property_id},
                )
            )

    before = built_at()
    load_rows(site, rows_of(0, LATEST - dt.timedelta(days=300)))  # before every preset range
    assert built_at() == before
    load_rows(site, rows_of(1, LATEST - dt.timedelta(days=100)))  # inside the 90 days before the last 90
    assert built_at() != before
    assert sorted(presets_built(site)) == sorted(preset_ranges(LATEST))
