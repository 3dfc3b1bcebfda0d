"""``searchanalytics.query`` as Google documents it: the request validated, the rows grouped, sorted and paged.

Validation answers with Google-style error bodies (``ApiError``); grouping by
``date``/``query``/``page``/``country``/``device``/``searchAppearance``,
dimension filter groups, rows sorted by clicks (descending),
``rowLimit``/``startRow`` paging, the cap of 50,000 rows per day per search
type, ``dataState`` ``final``/``all`` (the last two days are fresh, only in
``all``). The rows come from ``synthetic``.
"""

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kestrel_local.search_console.synthetic import DEFAULT_CONFIG, SyntheticConfig, day_rows

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
    site_url: str, request: QueryRequest, *, today: dt.date, config: SyntheticConfig = DEFAULT_CONFIG
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
