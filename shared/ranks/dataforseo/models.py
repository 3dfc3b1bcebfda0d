"""What Kestrel sends to and reads from DataForSEO's SERP API (Google organic), typed.

Only the fields Kestrel uses are modelled; DataForSEO's answers carry many more, which are ignored (an
item keeps all of them in ``raw``). The wire shapes follow DataForSEO's documentation:

* every answer is an envelope ``{version, status_code, status_message, time, cost, tasks_count,
  tasks_error, tasks: [...]}``; each task ``{id, status_code, status_message, time, cost, result_count,
  path, data, result}``, ``data`` echoing what was posted (``tag`` included);
* ``tasks_ready`` results ``{id, se, se_type, date_posted, tag, endpoint_regular, endpoint_advanced,
  endpoint_html}``;
* ``task_get/advanced`` and ``live/advanced`` results ``{keyword, type, se_domain, location_code,
  language_code, check_url, datetime, spell, item_types, se_results_count, items_count, items}``, each
  item ``{type, rank_group, rank_absolute, position, xpath, domain, title, url, description, ...}``;
* ``task_get/html`` results ``{keyword, ..., items_count, items: [{page, date, html}]}``.

Dates are ``"2019-11-15 12:57:46 +00:00"`` (UTC).
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Device = Literal["desktop", "mobile"]

# Item types Kestrel understands (their type, ranks, domain, URL, title and description are read as
# documented). Any other type is kept as received (``SerpItem.known`` False, ``raw`` stored), never dropped.
ORGANIC = "organic"
KNOWN_ITEM_TYPES: frozenset[str] = frozenset(
    {
        "organic",
        "paid",
        "featured_snippet",
        "people_also_ask",
        "local_pack",
        "images",
        "video",
        "top_stories",
        "knowledge_graph",
        "related_searches",
        "people_also_search",
        "answer_box",
        "shopping",
        "twitter",
        "map",
        "ai_overview",
        "perspectives",
        "discussions_and_forums",
    }
)
# The SERP features a project can be present in or own (everything but plain organic and ads).
FEATURE_TYPES: frozenset[str] = KNOWN_ITEM_TYPES - {"organic", "paid"}


def parse_datetime(value: str) -> dt.datetime:
    """DataForSEO's ``"2019-11-15 12:57:46 +00:00"`` (or ``+0000``) as an aware datetime."""
    return dt.datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S %z")


def format_datetime(value: dt.datetime) -> str:
    """The inverse of ``parse_datetime`` (the stand-in writes dates this way)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S +00:00")


def decimal_cost(value: float | int | str | None) -> Decimal:
    """A cost in USD as a Decimal, through its decimal text (0.0006, not 0.000599999...)."""
    return Decimal(str(value)) if value is not None else Decimal(0)


# ---------------------------------------------------------------- what Kestrel sends and gets back


@dataclass(frozen=True)
class SerpTaskIn:
    """One SERP to check. ``tag`` is Kestrel's id of the check (the ``rank_tasks`` row), echoed back."""

    tag: str
    keyword: str
    location_code: int
    language_code: str
    device: Device
    depth: int = 10

    def body(self) -> dict[str, Any]:
        """The task as DataForSEO's ``task_post`` and ``live/advanced`` take it."""
        return {
            "keyword": self.keyword,
            "location_code": self.location_code,
            "language_code": self.language_code,
            "device": self.device,
            "depth": self.depth,
            "tag": self.tag,
        }


@dataclass(frozen=True)
class PostedTask:
    """DataForSEO's answer for one posted task: ``status_code`` 20100 and a ``task_id`` when created.

    Any other code is that task's refusal (40006 beyond 100 tasks, 40501 an invalid field, ...): the
    task was not created and ``task_id`` may still be set by DataForSEO but is of no use.
    """

    tag: str
    task_id: str | None
    status_code: int
    status_message: str
    cost: Decimal

    @property
    def created(self) -> bool:
        return self.status_code == 20100 and self.task_id is not None


@dataclass(frozen=True)
class ReadyTask:
    """A completed task not collected yet (``tasks_ready`` lists those of the last three days)."""

    task_id: str
    tag: str | None
    date_posted: dt.datetime | None


@dataclass(frozen=True)
class SerpItem:
    """One element of a SERP. ``raw`` is always the item exactly as received.

    For a type the code does not know (``known`` False) the common fields are read where present and of
    the documented type, and ``raw`` is what to store. ``linked_urls`` are every URL the element shows
    (its own and its sub-elements': a video carousel's videos, people-also-ask answers, top stories),
    so that a feature can be said to be owned by a domain.
    """

    type: str
    rank_group: int
    rank_absolute: int
    domain: str | None
    url: str | None
    title: str | None
    description: str | None
    known: bool
    raw: dict[str, Any] = field(repr=False, compare=False)
    linked_urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class SerpResult:
    """One checked SERP (``task_get/advanced`` or ``live/advanced``), every item in SERP order."""

    task_id: str
    tag: str | None
    keyword: str
    location_code: int
    language_code: str
    device: Device
    check_url: str | None
    datetime: dt.datetime
    se_results_count: int | None
    items_count: int
    item_types: list[str]
    items: list[SerpItem]
    cost: Decimal

    def organic(self) -> list[SerpItem]:
        return [item for item in self.items if item.type == ORGANIC]


# ---------------------------------------------------------------- the wire (parsed leniently where it may vary)


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WireTask(_Wire):
    id: str | None = None
    status_code: int
    status_message: str = ""
    cost: float | None = 0
    result_count: int | None = 0
    path: list[str] | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    result: list[Any] | None = None

    @field_validator("data", mode="before")
    @classmethod
    def _null_data(cls, value: Any) -> Any:
        return {} if value is None else value


class Envelope(_Wire):
    version: str | None = None
    status_code: int
    status_message: str = ""
    time: str | None = None
    cost: float | None = 0
    tasks_count: int | None = 0
    tasks_error: int | None = 0
    tasks: list[WireTask] | None = None


class WireReady(_Wire):
    id: str
    tag: str | None = None
    date_posted: str | None = None


class WireAdvanced(_Wire):
    """An advanced result's top level; items are read one by one (``parse_item``)."""

    keyword: str
    location_code: int
    language_code: str
    check_url: str | None = None
    datetime: str
    se_results_count: int | None = None
    items_count: int
    item_types: list[str] | None = None
    items: list[dict[str, Any]] | None = None


class WireRanks(_Wire):
    """What every item has, whatever its type: without ranks an item cannot be placed."""

    type: str
    rank_group: int
    rank_absolute: int


class WireKnownItem(WireRanks):
    """The fields read from an item of a known type, with their documented types."""

    domain: str | None = None
    url: str | None = None
    title: str | None = None
    description: str | None = None


class WireOrganicItem(WireKnownItem):
    """An organic result always names its page: a rank without a URL is no rank."""

    domain: str
    url: str


class WireHtmlPage(_Wire):
    page: int
    html: str


class WireHtml(_Wire):
    items: list[WireHtmlPage] | None = None
