"""The DataForSEO client against the local stand-in over real HTTP: the standard queue, live checks, errors.

Batching at 100 (the client refuses more; the stand-in answers 40006 past the 100th when forced), HTTP 401,
40102, 40501, 50000 retried, a lost task id recovered from tasks_ready without paying twice, unknown item
types kept raw, an unparseable result an error, and ranks that agree with the Search Console stand-in.
"""

import base64
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from kestrel_local.dataforseo import (
    ERROR_ONCE,
    FORCE_ALL_FEATURES,
    LIVE_PRICE,
    LOCAL_LOGIN,
    LOCAL_PASSWORD,
    NEVER_READY,
    NO_RESULTS,
    UNKNOWN_ITEM_TYPE,
    UNPARSEABLE,
    DataForSeoServer,
    task_cost,
)
from kestrel_local.demo import DEMO_DOMAIN, DEMO_KEYWORDS, DEMO_SITE_URL
from kestrel_local.search_console.synthetic import average_position
from shared.errors import ConfigurationError, TransientError
from shared.ranks.countries import location_code, search_console_device
from shared.ranks.dataforseo import (
    DataForSeoClient,
    DataForSeoTaskError,
    NoSerpResults,
    SerpResult,
    SerpTaskIn,
    TaskNotReady,
    UnparseableSerp,
    dataforseo_client,
)
from shared.settings import DataForSeo, settings_of
from tests.support.dataforseo import StandInClock, dataforseo_stand_in, store_login

US = location_code("US")


@pytest.fixture(scope="module")
def clock() -> StandInClock:
    return StandInClock()


@pytest.fixture(scope="module")
def stand_in(platform: object, clock: StandInClock) -> Iterator[DataForSeoServer]:
    with dataforseo_stand_in(clock=clock) as server:
        yield server


@pytest.fixture
def client(stand_in: DataForSeoServer) -> DataForSeoClient:
    return DataForSeoClient(settings_of(DataForSeo), sleep=lambda _: None)


def check(tag: str, keyword: str, device: str = "desktop", depth: int = 10) -> SerpTaskIn:
    return SerpTaskIn(tag, keyword, US, "en", device, depth)  # type: ignore[arg-type]


def demo_rank(serp: SerpResult) -> int | None:
    return next((item.rank_group for item in serp.organic() if item.domain == f"www.{DEMO_DOMAIN}"), None)


def search_console_position(query: str, device: str, check_date: dt.date) -> float | None:
    """What Search Console reports for the query over the week before the check, in the US on ``device`` (in
    any country when the US has no rows)."""
    end = check_date - dt.timedelta(days=1)
    in_us = average_position(DEMO_SITE_URL, query, end=end, country="usa", device=device)
    return in_us if in_us is not None else average_position(DEMO_SITE_URL, query, end=end, device=device)


def test_the_standard_queue_posts_lists_and_collects(client: DataForSeoClient, stand_in: DataForSeoServer) -> None:
    posted = client.post_tasks([check("t-boots", "best hiking boots"), check("t-tent", "ultralight tent", "mobile")])
    assert all(task.created for task in posted)
    assert {task.cost for task in posted} == {task_cost(10)}
    ready = {task.tag: task for task in client.tasks_ready()}
    assert {"t-boots", "t-tent"} <= set(ready)
    assert ready["t-boots"].task_id == posted[0].task_id
    serp = client.task_get_advanced(posted[0].task_id or "")
    assert (serp.tag, serp.keyword, serp.location_code, serp.device) == ("t-boots", "best hiking boots", US, "desktop")
    assert serp.items_count == len(serp.items)
    assert len(serp.organic()) == 10
    assert serp.item_types == list(dict.fromkeys(item.type for item in serp.items))
    # collected: no longer ready
    assert "t-boots" not in {task.tag for task in client.tasks_ready()}
    mobile = client.task_get_advanced(posted[1].task_id or "")
    assert mobile.device == "mobile"


@pytest.mark.parametrize("device", ["desktop", "mobile"])
def test_ranks_agree_with_search_console(client: DataForSeoClient, device: str) -> None:
    keywords = sorted({text for text, _ in DEMO_KEYWORDS})
    serps = [client.live_advanced(check(f"agree-{i}", text, device, depth=20)) for i, text in enumerate(keywords)]
    ranked = 0
    for text, serp in zip(keywords, serps, strict=True):
        rank = demo_rank(serp)
        sc_device = search_console_device(device)  # type: ignore[arg-type]
        average = search_console_position(text, sc_device, serp.datetime.date())
        assert average is not None, text
        if average < 20.5:
            assert rank is not None, text
            assert abs(rank - average) <= 0.5, (text, rank, average)
            ranked += 1
        else:
            assert rank is None, text
    assert ranked >= 5


def test_batching_at_100(client: DataForSeoClient, stand_in: DataForSeoServer) -> None:
    with pytest.raises(ValueError, match="at most 100"):
        client.post_tasks([check(f"b{i}", "trekking poles") for i in range(101)])
    posted = client.post_tasks([check(f"b{i}", "trekking poles") for i in range(100)])
    assert len(posted) == 100
    assert all(task.created for task in posted)
    # forced past the client: the stand-in creates 100 and refuses the 101st with 40006
    auth = base64.b64encode(f"{LOCAL_LOGIN}:{LOCAL_PASSWORD}".encode()).decode()
    body = [check(f"forced{i}", "trekking poles").body() for i in range(101)]
    answer = httpx.post(
        f"{stand_in.url}/v3/serp/google/organic/task_post", json=body, headers={"Authorization": f"Basic {auth}"}
    ).json()
    codes = [task["status_code"] for task in answer["tasks"]]
    assert codes == [20100] * 100 + [40006]
    assert answer["tasks_error"] == 1
    assert Decimal(str(answer["cost"])) == task_cost(10) * 100


def test_a_wrong_login_is_a_configuration_error_until_the_secret_is_fixed(stand_in: DataForSeoServer) -> None:
    wrong = DataForSeoClient(settings_of(DataForSeo), login=(LOCAL_LOGIN, "nope"))
    with pytest.raises(ConfigurationError, match="401"):
        wrong.tasks_ready()
    store_login(LOCAL_LOGIN, "stale-password")
    try:
        with pytest.raises(ConfigurationError, match="not authorized"):
            dataforseo_client().tasks_ready()
    finally:
        store_login(LOCAL_LOGIN, LOCAL_PASSWORD)
    dataforseo_client().tasks_ready()  # the 401 dropped the cached client: the fixed secret is read


def test_no_search_results(client: DataForSeoClient) -> None:
    (posted,) = client.post_tasks([check("nores", f"asdfgh {NO_RESULTS}")])
    with pytest.raises(NoSerpResults, match="40102"):
        client.task_get_advanced(posted.task_id or "")
    with pytest.raises(NoSerpResults):
        client.live_advanced(check("nores-live", f"qwerty {NO_RESULTS}"))


def test_invalid_fields(client: DataForSeoClient) -> None:
    good, bad_depth, bad_language = client.post_tasks(
        [check("ok", "tent pegs"), check("deep", "tent pegs", depth=701), SerpTaskIn("lang", "x", US, "?", "desktop")]
    )
    assert good.created
    assert (bad_depth.status_code, bad_depth.status_message) == (40501, "Invalid Field: 'depth'.")
    assert not bad_language.created
    assert bad_language.status_code == 40501
    with pytest.raises(DataForSeoTaskError, match="40501 Invalid Field: 'location_code'"):
        client.live_advanced(SerpTaskIn("loc", "tent pegs", 1, "en", "desktop"))


def test_internal_errors_are_retried(client: DataForSeoClient, stand_in: DataForSeoServer) -> None:
    stand_in.fail_next(2)
    client.tasks_ready()  # two 50000 answers, then the list
    stand_in.fail_next(1, http_status=500)
    client.tasks_ready()
    stand_in.fail_next(3)
    with pytest.raises(TransientError, match="50000"):
        client.tasks_ready()
    (posted,) = client.post_tasks([check("once", f"camping stove {ERROR_ONCE}")])
    assert client.task_get_advanced(posted.task_id or "").keyword.startswith("camping stove")
    assert client.live_advanced(check("once-live", f"camp chair {ERROR_ONCE}")).items


def test_a_lost_task_id_is_recovered_from_tasks_ready_without_paying_twice(
    client: DataForSeoClient, stand_in: DataForSeoServer
) -> None:
    spent = stand_in.spent
    client.post_tasks([check("lost-1", "merino wool base layer"), check("lost-2", "trekking poles", "mobile")])
    assert stand_in.spent == spent + 2 * task_cost(10)
    # the worker died before recording the ids: the tags find them
    found = {task.tag: task.task_id for task in client.tasks_ready() if task.tag in ("lost-1", "lost-2")}
    assert set(found) == {"lost-1", "lost-2"}
    serps = [client.task_get_advanced(task_id) for task_id in found.values()]
    assert {serp.tag for serp in serps} == {"lost-1", "lost-2"}
    assert stand_in.spent == spent + 2 * task_cost(10)


def test_tasks_become_ready_after_the_delay_and_leave_the_list_after_three_days(platform: object) -> None:
    clock = StandInClock()
    with dataforseo_stand_in(ready_delay_seconds=60, clock=clock):
        client = DataForSeoClient(settings_of(DataForSeo), sleep=lambda _: None)
        (posted,) = client.post_tasks([check("later", "sleeping bag liner")])
        (never,) = client.post_tasks([check("never", f"x {NEVER_READY}")])
        assert client.tasks_ready() == []
        with pytest.raises(TaskNotReady, match="40602"):
            client.task_get_advanced(posted.task_id or "")
        clock.advance(seconds=61)
        assert [task.tag for task in client.tasks_ready()] == ["later"]
        clock.advance(days=3)
        assert client.tasks_ready() == []
        assert client.task_get_advanced(posted.task_id or "").tag == "later"  # still collectable
        with pytest.raises(TaskNotReady):
            client.task_get_advanced(never.task_id or "")


def test_unknown_item_types_are_kept_raw(client: DataForSeoClient) -> None:
    serp = client.live_advanced(check("all", f"best hiking boots {FORCE_ALL_FEATURES}", depth=20))
    types = {item.type for item in serp.items}
    assert {"featured_snippet", "people_also_ask", "local_pack", "images", "video", "top_stories"} <= types
    (unknown,) = [item for item in serp.items if item.type == UNKNOWN_ITEM_TYPE]
    assert not unknown.known
    assert unknown.raw["items"][0]["type"] == "short_videos_element"
    assert unknown.linked_urls
    assert serp.cost == LIVE_PRICE * Decimal("1.75")


def test_an_unparseable_result_names_the_field(client: DataForSeoClient) -> None:
    (posted,) = client.post_tasks([check("broken", f"tent footprint {UNPARSEABLE}")])
    with pytest.raises(UnparseableSerp, match=r"items\.\d+\.url") as info:
        client.task_get_advanced(posted.task_id or "")
    assert info.value.extra["task_id"] == posted.task_id


def test_html_pages_render_the_same_serp(client: DataForSeoClient) -> None:
    (posted,) = client.post_tasks([check("html", "waterproof hiking jacket", depth=30)])
    pages = client.task_get_html(posted.task_id or "")
    assert len(pages) == 3
    serp = client.task_get_advanced(posted.task_id or "")
    first = serp.organic()[0]
    assert first.url is not None
    assert first.url in pages[0]
    assert pages[0].startswith("<!DOCTYPE html>")


def test_the_state_survives_a_restart(tmp_path: object, platform: object) -> None:
    from pathlib import Path

    state = Path(str(tmp_path)) / "dataforseo.json"
    clock = StandInClock()
    first = DataForSeoServer(sites=[DEMO_SITE_URL], state_file=state, now=clock).start()
    login = (LOCAL_LOGIN, LOCAL_PASSWORD)
    settings = DataForSeo(dataforseo_api_base_url=first.url, dataforseo_secret_name="unused")
    (posted,) = DataForSeoClient(settings, login=login).post_tasks([check("kept", "trekking poles")])
    first.stop()
    second = DataForSeoServer(sites=[DEMO_SITE_URL], state_file=state, now=clock).start()
    try:
        settings = DataForSeo(dataforseo_api_base_url=second.url, dataforseo_secret_name="unused")
        again = DataForSeoClient(settings, login=login)
        assert [task.tag for task in again.tasks_ready()] == ["kept"]
        assert again.task_get_advanced(posted.task_id or "").tag == "kept"
        assert second.spent == task_cost(10)
    finally:
        second.stop()
