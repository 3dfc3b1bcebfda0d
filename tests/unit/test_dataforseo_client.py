"""The DataForSEO client's reading and classification of answers, over httpx's mock transport.

The client against the local stand-in over real HTTP is tests/integration/test_dataforseo_client.py.
"""

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from shared.errors import ConfigurationError, PermanentError, TransientError
from shared.ranks import countries
from shared.ranks.dataforseo import (
    DataForSeoClient,
    DataForSeoTaskError,
    MaybeCarriedOut,
    NoSerpResults,
    SerpTaskIn,
    TaskNotReady,
    UnparseableSerp,
)
from shared.settings import DataForSeo

SETTINGS = DataForSeo(
    dataforseo_api_base_url="https://dfs.test",
    dataforseo_secret_name="unit/dataforseo",
    dataforseo_max_attempts=3,
    dataforseo_backoff_seconds=0,
)
TASK_ID = "12051512-1535-0066-0000-0123456789ab"


def envelope(tasks: list[dict[str, Any]], *, status_code: int = 20000, message: str = "Ok.") -> dict[str, Any]:
    return {
        "version": "0.1.20260101",
        "status_code": status_code,
        "status_message": message,
        "time": "0.1 sec.",
        "cost": sum(task.get("cost", 0) for task in tasks),
        "tasks_count": len(tasks),
        "tasks_error": sum(1 for task in tasks if task["status_code"] >= 40000),
        "tasks": tasks,
    }


def task(
    result: list[Any] | None,
    *,
    status_code: int = 20000,
    message: str = "Ok.",
    data: dict[str, Any] | None = None,
    cost: float = 0,
    task_id: str = TASK_ID,
) -> dict[str, Any]:
    return {
        "id": task_id,
        "status_code": status_code,
        "status_message": message,
        "time": "0.01 sec.",
        "cost": cost,
        "result_count": len(result or []),
        "path": ["v3", "serp", "google", "organic", "task_get", "advanced", task_id],
        "data": {"api": "serp", "function": "task_get", "se": "google", "se_type": "organic", **(data or {})},
        "result": result,
    }


def organic(rank: int, domain: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "organic",
        "rank_group": rank,
        "rank_absolute": rank + 1,
        "position": "left",
        "domain": domain,
        "title": f"Result {rank}",
        "url": f"https://{domain}/page-{rank}",
        "description": "A page.",
        **extra,
    }


def advanced(items: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    return {
        "keyword": "trail running shoes",
        "type": "organic",
        "se_domain": "google.com",
        "location_code": 2840,
        "language_code": "en",
        "check_url": "https://www.google.com/search?q=trail+running+shoes&hl=en&gl=US",
        "datetime": "2026-12-05 10:11:12 +00:00",
        "spell": None,
        "item_types": sorted({item["type"] for item in items}),
        "se_results_count": 123000,
        "items_count": len(items),
        "items": items,
        **overrides,
    }


Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler) -> tuple[DataForSeoClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    http = httpx.Client(transport=httpx.MockTransport(record))
    return DataForSeoClient(SETTINGS, http=http, login=("user", "pass"), sleep=lambda _: None), seen


def answering(*bodies: dict[str, Any] | httpx.Response) -> Handler:
    """Answers in turn (the last one again when they run out)."""
    queue = list(bodies)

    def handle(_: httpx.Request) -> httpx.Response:
        body = queue.pop(0) if len(queue) > 1 else queue[0]
        return body if isinstance(body, httpx.Response) else httpx.Response(200, json=body)

    return handle


def serp_task(tag: str, keyword: str = "trail running shoes", device: str = "desktop") -> SerpTaskIn:
    return SerpTaskIn(tag=tag, keyword=keyword, location_code=2840, language_code="en", device=device)  # type: ignore[arg-type]


# ---------------------------------------------------------------- task_post


def test_more_than_100_tasks_are_refused_before_any_call() -> None:
    dfs, seen = client(answering(envelope([])))
    with pytest.raises(ValueError, match="at most 100"):
        dfs.post_tasks([serp_task(str(i)) for i in range(101)])
    assert seen == []
    assert dfs.post_tasks([]) == []
    assert seen == []


def test_posted_tasks_are_matched_by_tag_with_their_cost_and_refusals() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        posted = json.loads(request.content)
        answers = []
        for index, body in enumerate(reversed(posted)):  # any order: matched by tag
            if body["keyword"] == "bad":
                answers.append(task(None, status_code=40501, message="Invalid Field: 'keyword'.", data=body))
            else:
                answers.append(
                    task(
                        None, status_code=20100, message="Task Created.", data=body, cost=0.0006, task_id=f"id-{index}"
                    )
                )
        return httpx.Response(200, json=envelope(answers))

    dfs, seen = client(handle)
    posted = dfs.post_tasks([serp_task("a"), serp_task("b", keyword="bad"), serp_task("c", device="mobile")])
    assert [p.tag for p in posted] == ["a", "b", "c"]
    assert [p.created for p in posted] == [True, False, True]
    assert posted[0].cost == Decimal("0.0006")
    assert posted[1].status_code == 40501
    assert "Invalid Field" in posted[1].status_message
    body = json.loads(seen[0].content)
    assert body[2] == {
        "keyword": "trail running shoes",
        "location_code": 2840,
        "language_code": "en",
        "device": "mobile",
        "depth": 10,
        "tag": "c",
    }
    assert seen[0].url.path == "/v3/serp/google/organic/task_post"
    assert seen[0].headers["Authorization"] == "Basic dXNlcjpwYXNz"


def test_a_post_that_may_have_been_carried_out_is_not_repeated() -> None:
    dfs, seen = client(answering(httpx.Response(502, text="bad gateway")))
    with pytest.raises(MaybeCarriedOut):
        dfs.post_tasks([serp_task("a")])
    assert len(seen) == 1
    # a 50000 envelope: nothing was created, so the post is retried
    created = task(None, status_code=20100, data={"tag": "a"}, cost=0.0006)
    dfs, seen = client(answering(envelope([], status_code=50000, message="Internal Error."), envelope([created])))
    assert dfs.post_tasks([serp_task("a")])[0].created
    assert len(seen) == 2


def test_tags_must_be_distinct() -> None:
    dfs, _ = client(answering(envelope([])))
    with pytest.raises(ValueError, match="own tag"):
        dfs.post_tasks([serp_task("a"), serp_task("a")])


# ---------------------------------------------------------------- errors


def test_http_401_is_a_configuration_error() -> None:
    unauthorized = httpx.Response(
        401, json={"status_code": 40100, "status_message": "You are not authorized to access this resource."}
    )
    dfs, seen = client(answering(unauthorized))
    with pytest.raises(ConfigurationError, match="not authorized"):
        dfs.tasks_ready()
    assert len(seen) == 1  # never retried


def test_a_top_level_50000_is_retried_then_succeeds() -> None:
    ready = task([{"id": TASK_ID, "tag": "t1", "date_posted": "2026-12-05 09:00:00 +00:00"}])
    dfs, seen = client(answering(envelope([], status_code=50000, message="Internal Error."), envelope([ready])))
    assert [(r.task_id, r.tag) for r in dfs.tasks_ready()] == [(TASK_ID, "t1")]
    assert len(seen) == 2


def test_transient_failures_become_a_transient_error_after_the_attempts() -> None:
    dfs, seen = client(answering(httpx.Response(503, text="busy")))
    with pytest.raises(TransientError, match="after 3 attempts"):
        dfs.task_get_advanced(TASK_ID)
    assert len(seen) == 3


def test_timeouts_are_retried() -> None:
    calls = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, json=envelope([task([advanced([organic(1, "a.example")])])]))

    dfs, _ = client(handle)
    assert dfs.task_get_advanced(TASK_ID).items[0].domain == "a.example"
    assert len(calls) == 2


def test_a_task_level_50000_is_retried_too() -> None:
    failed = envelope([task(None, status_code=50000, message="Internal Error.")])
    dfs, seen = client(answering(failed, envelope([task([advanced([organic(1, "a.example")])])])))
    assert dfs.task_get_advanced(TASK_ID).items_count == 1
    assert len(seen) == 2


def test_no_search_results_is_its_own_permanent_error() -> None:
    dfs, _ = client(answering(envelope([task(None, status_code=40102, message="No Search Results.")])))
    with pytest.raises(NoSerpResults) as info:
        dfs.task_get_advanced(TASK_ID)
    assert isinstance(info.value, PermanentError)
    assert info.value.status_code == 40102


def test_an_invalid_field_is_permanent_with_dataforseos_message() -> None:
    dfs, seen = client(answering(envelope([task(None, status_code=40501, message="Invalid Field: 'depth'.")])))
    with pytest.raises(DataForSeoTaskError, match="40501 Invalid Field: 'depth'"):
        dfs.live_advanced(serp_task("x"))
    assert len(seen) == 1


def test_a_task_in_the_queue_is_not_ready_and_not_waited_for() -> None:
    dfs, seen = client(answering(envelope([task(None, status_code=40602, message="Task In Queue.")])))
    with pytest.raises(TaskNotReady):
        dfs.task_get_advanced(TASK_ID)
    assert len(seen) == 1


def test_payment_required_is_a_configuration_error() -> None:
    dfs, _ = client(answering(envelope([], status_code=40200, message="Payment Required.")))
    with pytest.raises(ConfigurationError, match="balance"):
        dfs.tasks_ready()


# ---------------------------------------------------------------- results


def test_an_advanced_result_keeps_every_item_and_unknown_types_raw() -> None:
    odd = {"type": "hologram_carousel", "rank_group": 1, "rank_absolute": 2, "title": 7, "beams": [1, 2]}
    paa = {
        "type": "people_also_ask",
        "rank_group": 1,
        "rank_absolute": 3,
        "items": [
            {
                "type": "people_also_ask_element",
                "title": "Are trail shoes worth it?",
                "expanded_element": [{"type": "people_also_ask_expanded_element", "url": "https://b.example/faq"}],
            }
        ],
    }
    items = [organic(1, "a.example"), odd, paa, organic(2, "b.example")]
    data = {"tag": "check-1", "device": "mobile", "keyword": "trail running shoes"}
    dfs, _ = client(answering(envelope([task([advanced(items)], data=data)])))
    serp = dfs.task_get_advanced(TASK_ID)
    assert serp.tag == "check-1"
    assert serp.device == "mobile"
    assert serp.datetime == dt.datetime(2026, 12, 5, 10, 11, 12, tzinfo=dt.UTC)
    assert serp.se_results_count == 123000
    assert [item.type for item in serp.items] == ["organic", "hologram_carousel", "people_also_ask", "organic"]
    unknown = serp.items[1]
    assert not unknown.known
    assert unknown.raw == odd
    assert unknown.title is None  # not a string: not read
    assert serp.items[2].known
    assert serp.items[2].linked_urls == ("https://b.example/faq",)
    assert [item.rank_group for item in serp.organic()] == [1, 2]


def test_an_organic_item_without_a_url_is_unparseable_naming_the_field() -> None:
    broken = organic(1, "a.example")
    del broken["url"]
    dfs, _ = client(answering(envelope([task([advanced([organic(2, "b.example"), broken])])])))
    with pytest.raises(UnparseableSerp, match=r"items\.1\.url") as info:
        dfs.task_get_advanced(TASK_ID)
    assert info.value.extra["task_id"] == TASK_ID


def test_an_item_without_ranks_is_unparseable_even_of_an_unknown_type() -> None:
    dfs, _ = client(answering(envelope([task([advanced([{"type": "mystery", "rank_group": "first"}])])])))
    with pytest.raises(UnparseableSerp, match=r"items\.0\.rank_group"):
        dfs.task_get_advanced(TASK_ID)


def test_a_result_without_its_date_or_result_is_unparseable() -> None:
    dfs, _ = client(answering(envelope([task([advanced([], datetime="yesterday")])])))
    with pytest.raises(UnparseableSerp, match="datetime"):
        dfs.task_get_advanced(TASK_ID)
    dfs, _ = client(answering(envelope([task(None)])))
    with pytest.raises(UnparseableSerp, match="no result"):
        dfs.task_get_advanced(TASK_ID)


def test_html_pages_in_page_order() -> None:
    pages = [{"page": 2, "date": "x", "html": "<p>2</p>"}, {"page": 1, "date": "x", "html": "<p>1</p>"}]
    dfs, seen = client(answering(envelope([task([{"keyword": "k", "items_count": 2, "items": pages}])])))
    assert dfs.task_get_html(TASK_ID) == ["<p>1</p>", "<p>2</p>"]
    assert seen[0].url.path == f"/v3/serp/google/organic/task_get/html/{TASK_ID}"


def test_tasks_ready_lists_ids_tags_and_dates() -> None:
    ready = [
        {"id": "a", "se": "google", "se_type": "organic", "date_posted": "2026-12-04 23:59:01 +00:00", "tag": "t"},
        {"id": "b", "se": "google", "se_type": "organic", "date_posted": None, "tag": ""},
    ]
    dfs, _ = client(answering(envelope([task(ready)])))
    first, second = dfs.tasks_ready()
    assert first.date_posted == dt.datetime(2026, 12, 4, 23, 59, 1, tzinfo=dt.UTC)
    assert (second.task_id, second.tag, second.date_posted) == ("b", None, None)


# ---------------------------------------------------------------- countries and devices


def test_country_codes_and_location_codes() -> None:
    assert countries.location_code("US") == 2840
    assert countries.location_code("gb") == 2826
    assert countries.location_code("DE") == 2276
    assert countries.by_location_code(2250).alpha2 == "FR"
    assert countries.by_alpha3("usa").alpha2 == "US"
    assert countries.search_console_country("GB") == "gbr"
    with pytest.raises(countries.UnknownCountry):
        countries.by_alpha3("zzz")
    with pytest.raises(countries.UnknownCountry):
        countries.location_code("XX")
    codes = [country.alpha2 for country in countries.COUNTRIES]
    assert len(codes) == len(set(codes))
    assert len({c.numeric for c in countries.COUNTRIES}) == len(codes)


def test_every_search_console_stand_in_country_is_known() -> None:
    from kestrel_local.search_console.synthetic import _COUNTRIES

    for code, _ in _COUNTRIES:
        if code != countries.UNKNOWN_SEARCH_CONSOLE_COUNTRY:
            assert countries.by_alpha3(code).search_console_code == code


def test_devices() -> None:
    assert countries.search_console_device("mobile") == "MOBILE"
    assert countries.search_console_device("desktop") == "DESKTOP"
    assert countries.dataforseo_device("TABLET") == "mobile"
    assert countries.dataforseo_device("desktop") == "desktop"
    with pytest.raises(ValueError, match="Unknown Search Console device"):
        countries.dataforseo_device("watch")
