"""What a SERP says of a project (position, URL, features present and owned) and what a check costs."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from shared.ranks import checks, serp
from shared.ranks.dataforseo import SerpItem, SerpResult


def item(type_: str, rank_group: int, domain: str | None, url: str | None = None, *links: str) -> SerpItem:
    raw: dict[str, Any] = {"type": type_, "rank_group": rank_group, "rank_absolute": rank_group, "domain": domain}
    return SerpItem(
        type=type_,
        rank_group=rank_group,
        rank_absolute=rank_group + 1,
        domain=domain,
        url=url or (f"https://{domain}/page" if domain else None),
        title="t",
        description=None,
        known=type_ != "short_videos",
        raw=raw,
        linked_urls=links,
    )


def result(*items: SerpItem) -> SerpResult:
    return SerpResult(
        task_id="t-1",
        tag="tag",
        keyword="hiking boots",
        location_code=2840,
        language_code="en",
        device="desktop",
        check_url=None,
        datetime=dt.datetime(2026, 12, 5, tzinfo=dt.UTC),
        se_results_count=1000,
        items_count=len(items),
        item_types=sorted({i.type for i in items}),
        items=list(items),
        cost=Decimal("0.0006"),
    )


def test_the_position_is_the_best_organic_rank_group_of_the_site_and_its_subdomains() -> None:
    summary = serp.summarize(
        result(
            item("featured_snippet", 1, "www.acme.com"),
            item("organic", 1, "rival.example"),
            item("organic", 4, "shop.acme.com", "https://shop.acme.com/boots"),
            item("organic", 2, "www.acme.com", "https://www.acme.com/boots"),
            item("paid", 1, "acme.com"),
        ),
        "www.acme.com",
    )
    assert summary.position == 2
    assert summary.rank_absolute == 3
    assert summary.url == "https://www.acme.com/boots"


def test_not_ranking_is_null_never_zero() -> None:
    summary = serp.summarize(result(item("organic", 1, "rival.example"), item("organic", 2, "notacme.com")), "acme.com")
    assert summary.position is None
    assert summary.url is None


def test_features_present_and_owned_through_any_link() -> None:
    summary = serp.summarize(
        result(
            item("people_also_ask", 1, None, None, "https://rival.example/a", "https://acme.com/faq"),
            item("video", 2, "youtube.com", "https://youtube.com/watch"),
            item("short_videos", 3, None),
            item("organic", 1, "acme.com"),
        ),
        "acme.com",
    )
    assert summary.features_present == ["people_also_ask", "short_videos", "video"]
    assert summary.features_owned == ["people_also_ask"]


@pytest.mark.parametrize(
    ("depth", "price"), [(10, Decimal("0.0006")), (20, Decimal("0.00105")), (100, Decimal("0.00465"))]
)
def test_each_further_page_of_ten_costs_three_quarters_of_the_base(depth: int, price: Decimal) -> None:
    assert serp.task_price(depth, Decimal("0.0006"), Decimal("0.75")) == price


def test_language_codes_of_locales() -> None:
    assert serp.language_code("en") == "en"
    assert serp.language_code("en-GB") == "en"
    assert serp.language_code("pt-BR") == "pt"


def test_the_budget_message_names_the_budget_and_the_spending() -> None:
    message = checks.budget_reached(Decimal("50"), Decimal("49.9981"), Decimal("0.0465"), 10)
    assert message.startswith("Monthly DataForSEO budget of $50.00 reached ($50.00 spent this month;")
    assert "10 keyword checks would cost $0.0465 more" in message


def test_months_and_days_start_at_midnight_utc() -> None:
    now = dt.datetime(2026, 12, 5, 22, 30, tzinfo=dt.UTC)
    assert checks.month_start(now) == dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    assert checks.day_start(now) == dt.datetime(2026, 12, 5, tzinfo=dt.UTC)
