"""An alarm's decision as CloudWatch makes it: the new state and its reason, from the last periods' datapoints.

The alarm is evaluated on the last ``EvaluationPeriods`` completed periods,
each period's datapoint being the alarm's statistic over that period's samples
(no samples: a missing datapoint). ``DatapointsToAlarm`` of them must breach for
ALARM; ``TreatMissingData`` decides what missing datapoints count as:

- ``breaching`` / ``notBreaching``: missing datapoints breach / do not breach;
- ``missing`` (the default): only present datapoints count, looking back over an
  evaluation range of ``EvaluationPeriods + 2`` periods; with none at all the
  alarm goes to INSUFFICIENT_DATA; if too few are present to decide against
  ALARM, the state is kept (CloudWatch's "avoid premature transitions");
- ``ignore``: as ``missing``, but with no datapoints at all the state is kept.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kestrel_local.alarms.metrics import statistic
from kestrel_local.model import AlarmSpec

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
EXTRA_EVALUATION_PERIODS = 2  # CloudWatch's evaluation range goes back further than EvaluationPeriods

_COMPARISONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanOrEqualToThreshold": (lambda v, t: v >= t, "greater than or equal to"),
    "GreaterThanThreshold": (lambda v, t: v > t, "greater than"),
    "LessThanThreshold": (lambda v, t: v < t, "less than"),
    "LessThanOrEqualToThreshold": (lambda v, t: v <= t, "less than or equal to"),
}
# Anomaly-detection operators compare against a band from a model, which needs metric math: not evaluated.
ANOMALY_COMPARISONS = (
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
)


@dataclass(frozen=True)
class Datapoint:
    period_start: float
    value: float | None  # None: missing


@dataclass(frozen=True)
class StateChange:
    alarm: str
    old_state: str
    new_state: str
    reason: str
    timestamp: datetime
    notification: dict[str, Any]


@dataclass
class AlarmStatus:
    spec: AlarmSpec
    state: str = INSUFFICIENT_DATA
    reason: str = "Unchecked: Initial alarm creation"
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))
    configuration_updated: datetime = field(default_factory=lambda: datetime.now(UTC))
    samples: dict[int, list[float]] = field(default_factory=dict)  # period index -> samples
    evaluated_through: int | None = None  # last completed period index evaluated
    last_datapoints: tuple[Datapoint, ...] = ()


def _datapoint_text(point: Datapoint) -> str:
    stamp = datetime.fromtimestamp(point.period_start, UTC).strftime("%d/%m/%y %H:%M:%S")
    return f"{point.value!r} ({stamp})"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def unsupported(spec: AlarmSpec) -> str | None:
    """Why the alarm cannot be evaluated locally, or None when it can."""
    if spec.comparison in ANOMALY_COMPARISONS:
        return f"{spec.comparison} needs an anomaly detection band (metric math)"
    if spec.comparison not in _COMPARISONS:
        return f"unknown comparison operator {spec.comparison}"
    try:
        statistic(spec.statistic, [1.0])
    except ValueError as error:
        return str(error)
    if spec.period_seconds <= 0 or not 1 <= spec.datapoints_to_alarm <= spec.evaluation_periods:
        return "invalid period, evaluation periods or datapoints to alarm"
    return None


def decide(spec: AlarmSpec, window: Sequence[Datapoint], current: str) -> tuple[str, str] | None:
    """The new state and CloudWatch's reason for it, from the datapoints (most recent first); None: keep."""
    compare, phrase = _COMPARISONS[spec.comparison]
    n, m, treat = spec.evaluation_periods, spec.datapoints_to_alarm, spec.treat_missing_data

    def breaches(point: Datapoint) -> bool:
        return point.value is not None and compare(point.value, spec.threshold)

    if treat in ("breaching", "notBreaching"):
        present = [p for p in window[:n] if p.value is not None]
        missing = n - len(present)
        count = sum(1 for p in present if breaches(p)) + (missing if treat == "breaching" else 0)
        new_state = ALARM if count >= m else OK
        label = "Breaching" if treat == "breaching" else "NonBreaching"
        if not present:
            reason = (
                f"Threshold Crossed: no datapoints were received for {_plural(n, 'period')} and "
                f"{_plural(missing, 'missing datapoint')} {'was' if missing == 1 else 'were'} treated as [{label}]."
            )
            return new_state, reason
        reason = _threshold_reason(spec, new_state, present, n, phrase, breaches)
        if missing:
            reason = reason.rstrip(".") + (
                f" and {_plural(missing, 'missing datapoint')} {'was' if missing == 1 else 'were'} "
                f"treated as [{label}]."
            )
        return new_state, reason

    present = [p for p in window if p.value is not None][:n]
    if not present:
        if treat == "ignore":
            return None
        return INSUFFICIENT_DATA, (
            f"Insufficient Data: {_plural(n, 'datapoint')} {'was' if n == 1 else 'were'} unknown."
        )
    breaching_count = sum(1 for p in present if breaches(p))
    if breaching_count >= m:
        return ALARM, _threshold_reason(spec, ALARM, present, n, phrase, breaches)
    if breaching_count + (n - len(present)) >= m:
        return None  # the missing datapoints could still make it ALARM: keep the state (no premature OK)
    return OK, _threshold_reason(spec, OK, present, n, phrase, breaches)


def _threshold_reason(
    spec: AlarmSpec,
    new_state: str,
    present: Sequence[Datapoint],
    n: int,
    phrase: str,
    breaches: Callable[[Datapoint], bool],
) -> str:
    listed = [p for p in present if breaches(p) == (new_state == ALARM)]
    verb = "was" if len(listed) == 1 else "were"
    negation = "" if new_state == ALARM else "not "
    transition = "OK -> ALARM" if new_state == ALARM else "ALARM -> OK"
    needed = spec.datapoints_to_alarm if new_state == ALARM else n - spec.datapoints_to_alarm + 1
    points = ", ".join(_datapoint_text(p) for p in listed)
    return (
        f"Threshold Crossed: {len(listed)} out of the last {n} datapoints [{points}] {verb} {negation}{phrase} "
        f"the threshold ({spec.threshold!r}) (minimum {_plural(needed, 'datapoint')} for {transition} transition)."
    )
