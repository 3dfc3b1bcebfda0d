"""EventBridge schedules, fired locally into their targets.

A ``ScheduleSpec`` fires on its ``rate(...)`` or ``cron(...)`` expression in
EventBridge syntax. Cron has six fields (minutes, hours, day-of-month, month,
day-of-week, year), day-of-week 1-7 is SUN-SAT, names (JAN, MON) are accepted,
and exactly one of day-of-month and day-of-week is ``?``. ``L``, ``W`` and ``#``
are not supported locally: such an expression is refused with
``UnsupportedScheduleExpression`` when the scheduler is built, not silently
ignored. Cron is evaluated in UTC (AWS::Events::Rule) or the schedule's time
zone (AWS::Scheduler::Schedule). A rate schedule first fires one rate after the
scheduler starts, as a new rule does; a cron schedule at its next matching minute.
Missed firings (the machine slept) fire once, not once per missed occurrence.

An SQS target gets the target's Input as the message body, or EventBridge's
"Scheduled Event" JSON when there is none; a Lambda target is invoked through
the ``invoke`` callback with the parsed Input or that event.
"""

import calendar
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kestrel_local.model import ScheduleSpec

log = logging.getLogger(__name__)

_MONTHS = {name.upper(): index for index, name in enumerate(calendar.month_abbr) if name}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_SEARCH_YEARS = 5


class UnsupportedScheduleExpression(ValueError):
    """A valid EventBridge expression the local scheduler cannot run (``L``, ``W``, ``#``)."""


class InvalidScheduleExpression(ValueError):
    pass


def _field(text: str, low: int, high: int, names: Mapping[str, int], label: str) -> frozenset[int]:
    if text == "*":
        return frozenset(range(low, high + 1))
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
            if step < 1:
                raise InvalidScheduleExpression(f"cron {label} field {text!r}: step must be positive")
        if part == "*":
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = _value(first, names, label), _value(last, names, label)
        else:
            start = _value(part, names, label)
            end = high if step != 1 else start
        if not (low <= start <= high and low <= end <= high):
            raise InvalidScheduleExpression(f"cron {label} field {text!r}: out of range {low}-{high}")
        if start <= end:
            values.update(range(start, end + 1, step))
        else:  # a wrapping range such as FRI-MON
            span = list(range(start, high + 1)) + list(range(low, end + 1))
            values.update(span[::step])
    return frozenset(values)


def _value(text: str, names: Mapping[str, int], label: str) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    if upper in ("L", "W") or upper.endswith(("L", "W")) or "#" in upper:
        raise UnsupportedScheduleExpression(
            f"cron {label} value {text!r}: L, W and # are not supported by the local scheduler"
        )
    if not text.isdigit():
        raise InvalidScheduleExpression(f"cron {label} value {text!r} is not a number")
    return int(text)


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int] | None  # None: "?"
    months: frozenset[int]
    days_of_week: frozenset[int] | None  # 1 = Sunday
    years: frozenset[int]
    timezone: str = "UTC"

    @classmethod
    def parse(cls, text: str, timezone: str = "UTC") -> "Cron":
        fields = text.split()
        if len(fields) != 6:
            raise InvalidScheduleExpression(f"cron({text}) needs 6 fields (minutes hours day month weekday year)")
        minutes, hours, dom, month, dow, year = fields
        if (dom == "?") == (dow == "?"):
            raise InvalidScheduleExpression(f"cron({text}): exactly one of day-of-month and day-of-week must be '?'")
        return cls(
            minutes=_field(minutes, 0, 59, {}, "minutes"),
            hours=_field(hours, 0, 23, {}, "hours"),
            days_of_month=None if dom == "?" else _field(dom, 1, 31, {}, "day-of-month"),
            months=_field(month, 1, 12, _MONTHS, "month"),
            days_of_week=None if dow == "?" else _field(dow, 1, 7, _DAYS, "day-of-week"),
            years=_field(year, 1970, 2199, {}, "year"),
            timezone=timezone,
        )

    def _day_matches(self, day: datetime) -> bool:
        if day.year not in self.years or day.month not in self.months:
            return False
        if self.days_of_month is not None:
            return day.day in self.days_of_month
        return (day.weekday() + 1) % 7 + 1 in (self.days_of_week or ())

    def next_after(self, moment: float) -> float | None:
        """The first matching minute strictly after ``moment`` (epoch seconds), or None within five years."""
        zone = ZoneInfo(self.timezone)
        start = datetime.fromtimestamp(moment, zone).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        for _ in range(366 * _SEARCH_YEARS):
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate.timestamp()
            day = (day + timedelta(days=1)).replace(hour=0, minute=0)
        return None


def parse_rate(text: str) -> float:
    match = re.fullmatch(r"\s*(\d+)\s+([a-z]+)\s*", text)
    if not match:
        raise InvalidScheduleExpression(f"rate({text}): expected 'rate(<value> <unit>)'")
    value, unit = int(match.group(1)), match.group(2)
    singular = unit.removesuffix("s")
    if singular not in _RATE_UNITS or value < 1:
        raise InvalidScheduleExpression(f"rate({text}): unit must be minute(s), hour(s) or day(s), value >= 1")
    if (value == 1) != (unit == singular):
        raise InvalidScheduleExpression(f"rate({text}): EventBridge wants '1 {singular}' and '<n> {singular}s'")
    return float(value * _RATE_UNITS[singular])


class Expression:
    """A parsed ``rate(...)`` or ``cron(...)`` schedule expression."""

    def __init__(self, text: str, timezone: str = "UTC") -> None:
        self.text = text
        match = re.fullmatch(r"\s*(rate|cron|at)\((.*)\)\s*", text)
        if not match:
            raise InvalidScheduleExpression(f"{text!r} is not rate(...) or cron(...)")
        kind, body = match.groups()
        if kind == "at":
            raise UnsupportedScheduleExpression(f"{text}: one-time at() schedules are not supported locally")
        self.rate = parse_rate(body) if kind == "rate" else None
        self.cron = Cron.parse(body, timezone) if kind == "cron" else None

    def first(self, started: float) -> float | None:
        if self.rate is not None:
            return started + self.rate
        return self._cron().next_after(started)

    def following(self, fired_at: float, now: float) -> float | None:
        """The next firing after one due at ``fired_at``, skipping what was missed up to ``now``."""
        if self.rate is not None:
            missed = max(0, int((now - fired_at) // self.rate))
            return fired_at + (missed + 1) * self.rate
        return self._cron().next_after(max(fired_at, now))

    def _cron(self) -> Cron:
        if self.cron is None:
            raise InvalidScheduleExpression(f"{self.text} is not a cron expression")
        return self.cron


def scheduled_event(spec: ScheduleSpec, *, region: str, account_id: str, at: float) -> dict[str, Any]:
    """EventBridge's "Scheduled Event" for a rule firing at ``at``."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [spec.arn or f"arn:aws:events:{region}:{account_id}:rule/{spec.name}"],
        "detail": {},
    }


@dataclass(frozen=True)
class Firing:
    schedule: str
    target: str  # queue logical id or function key
    scheduled_for: float
    payload: str


class Scheduler:
    """Fires enabled schedules into SQS queues (through ``sqs``) or functions (through ``invoke``)."""

    def __init__(
        self,
        schedules: Sequence[ScheduleSpec],
        *,
        region: str,
        account_id: str,
        sqs: Any = None,
        queue_urls: Mapping[str, str] | None = None,  # queue logical id -> URL
        invoke: Callable[[str, dict[str, Any]], object] | None = None,  # (function key, event)
        clock: Callable[[], float] = time.time,
        poll_seconds: float = 1.0,
    ) -> None:
        self.schedules = list(schedules)
        self.region = region
        self.account_id = account_id
        self.sqs = sqs
        self.queue_urls = dict(queue_urls or {})
        self.invoke = invoke
        self.clock = clock
        self.poll_seconds = poll_seconds
        started = clock()
        self._expressions = [Expression(spec.expression, spec.timezone) for spec in self.schedules]
        self._due: list[float | None] = [
            expression.first(started) if spec.enabled else None
            for spec, expression in zip(self.schedules, self._expressions, strict=True)
        ]
        self.fired: list[Firing] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def next_fire(self, name: str) -> float | None:
        times = [due for spec, due in zip(self.schedules, self._due, strict=True) if spec.name == name and due]
        return min(times) if times else None

    def tick(self) -> list[Firing]:
        """Fire every schedule that is due by now."""
        firings: list[Firing] = []
        with self._lock:
            now = self.clock()
            for index, (spec, expression) in enumerate(zip(self.schedules, self._expressions, strict=True)):
                due = self._due[index]
                if due is None or due > now:
                    continue
                self._due[index] = expression.following(due, now)
                try:
                    firings.append(self._fire(spec, due))
                except Exception:
                    log.exception(
                        "schedule %s: firing into %s failed", spec.name, spec.target_queue or spec.target_function
                    )
        return firings

    def run_now(self, name: str) -> list[Firing]:
        """Fire every target of the schedule ``name`` now (``kestrel schedule run NAME``), enabled or not."""
        specs = [spec for spec in self.schedules if spec.name == name]
        if not specs:
            raise KeyError(f"no schedule named {name!r}; known: {sorted({s.name for s in self.schedules})}")
        now = self.clock()
        return [self._fire(spec, now) for spec in specs]

    def _fire(self, spec: ScheduleSpec, at: float) -> Firing:
        event = scheduled_event(spec, region=self.region, account_id=self.account_id, at=at)
        if spec.target_queue is not None:
            if self.sqs is None or spec.target_queue not in self.queue_urls:
                raise RuntimeError(f"schedule {spec.name}: no URL for queue {spec.target_queue}")
            url = self.queue_urls[spec.target_queue]
            body = spec.input if spec.input is not None else json.dumps(event)
            arguments: dict[str, Any] = {"QueueUrl": url, "MessageBody": body}
            if url.endswith(".fifo"):
                arguments["MessageGroupId"] = spec.message_group_id or spec.name
                arguments["MessageDeduplicationId"] = event["id"]
            self.sqs.send_message(**arguments)
            firing = Firing(spec.name, spec.target_queue, at, body)
        elif spec.target_function is not None:
            if self.invoke is None:
                raise RuntimeError(f"schedule {spec.name}: no invoke callback for function targets")
            payload = json.loads(spec.input) if spec.input is not None else event
            self.invoke(spec.target_function, payload)
            firing = Firing(spec.name, spec.target_function, at, json.dumps(payload))
        else:
            raise RuntimeError(f"schedule {spec.name} has no target")
        self.fired.append(firing)
        log.info("schedule %s fired into %s", spec.name, firing.target)
        return firing

    # ------------------------------------------------------------------ running
    def start(self) -> "Scheduler":
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.poll_seconds + 30)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.tick()
            pending = [due for due in self._due if due is not None]
            wait = min([self.poll_seconds, *(due - self.clock() for due in pending)])
            self._stop.wait(max(0.05, wait))
