"""CloudWatch alarms, evaluated locally against live metrics of the local stack.

Every ``tick`` (each ``interval`` seconds of the injectable ``clock``) the
``AlarmEvaluator`` collects each distinct metric once from its ``MetricSource``
and files the samples under the period (aligned to the clock, as CloudWatch
aligns them) the tick falls in. When a period completes, the alarm is evaluated
on the last ``EvaluationPeriods`` completed periods, each period's datapoint
being the alarm's statistic over that period's samples (no samples: a missing
datapoint). ``DatapointsToAlarm`` of them must breach for ALARM;
``TreatMissingData`` decides what missing datapoints count as:

- ``breaching`` / ``notBreaching``: missing datapoints breach / do not breach;
- ``missing`` (the default): only present datapoints count, looking back over an
  evaluation range of ``EvaluationPeriods + 2`` periods; with none at all the
  alarm goes to INSUFFICIENT_DATA; if too few are present to decide against
  ALARM, the state is kept (CloudWatch's "avoid premature transitions");
- ``ignore``: as ``missing``, but with no datapoints at all the state is kept.

Alarms start in INSUFFICIENT_DATA. On a state change the evaluator publishes
CloudWatch's notification JSON to each action topic of the new state (when
``ActionsEnabled``) with CloudWatch's subject, and SNS's e-mail variant holding
the text CloudWatch's alarm e-mails have; ``mail.TopicPublisher`` delivers that
to the topic's e-mail subscribers in the local mailbox. With ``state_path``
the alarms' states survive a restart of the local stack, as alarms in AWS
survive a deploy, so ``make up`` does not re-announce every alarm as OK.

Live metrics (``LiveMetrics``):

- ``AWS/SQS`` ``ApproximateNumberOfMessagesVisible`` / ``...NotVisible`` /
  ``...Delayed``: the queue's attributes, read through the SQS API.
- ``AWS/SQS`` ``ApproximateAgeOfOldestMessage``: SQS has no peek, so nothing
  can read a waiting message's SentTimestamp without receiving it (which would
  count as a receive and could redrive it). The value is the larger of (a) the
  age of the oldest message the queue's runner has received and not finished
  (``RunnerStats.oldest_unfinished_sent_ms``) and (b) how long the queue has
  been non-empty without its consumer receiving anything (a lower bound: the
  messages present then are still there). For a queue nobody consumes (a DLQ)
  (b) is exact to within a tick, since messages only arrive; an empty queue is 0.
- ``AWS/Lambda`` ``Invocations`` / ``Errors`` / ``Throttles`` / ``Duration`` /
  ``ConcurrentExecutions``: from ``FunctionPool.stats``; the counters as one
  sample per invocation since the previous tick (an error is 1, a success 0;
  each throttle 1), as Lambda reports them, so ``Sum`` is the count in the
  period and ``Average`` the rate. No invocations in a period: no datapoint.
- Anything else (``NumberOfMessagesSent``, custom EMF metrics): no datapoints.
"""

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from kestrel_local.environments import FunctionPool, FunctionStats
from kestrel_local.model import AlarmSpec
from kestrel_local.provision import ProvisionedStack
from kestrel_local.runner import QueueRunner, RunnerStats

log = logging.getLogger(__name__)

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
EXTRA_EVALUATION_PERIODS = 2  # CloudWatch's evaluation range goes back further than EvaluationPeriods

# Region names as CloudWatch writes them in alarm notifications ("EU (Ireland)", not "Europe (Ireland)").
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "af-south-1": "Africa (Cape Town)",
    "ap-east-1": "Asia Pacific (Hong Kong)",
    "ap-south-1": "Asia Pacific (Mumbai)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-northeast-3": "Asia Pacific (Osaka)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
    "ca-central-1": "Canada (Central)",
    "eu-central-1": "EU (Frankfurt)",
    "eu-central-2": "EU (Zurich)",
    "eu-west-1": "EU (Ireland)",
    "eu-west-2": "EU (London)",
    "eu-west-3": "EU (Paris)",
    "eu-north-1": "EU (Stockholm)",
    "eu-south-1": "EU (Milan)",
    "eu-south-2": "EU (Spain)",
    "me-south-1": "Middle East (Bahrain)",
    "sa-east-1": "South America (Sao Paulo)",
}

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
_STATISTIC_NAMES = {
    "SampleCount": "SAMPLE_COUNT",
    "Average": "AVERAGE",
    "Sum": "SUM",
    "Minimum": "MINIMUM",
    "Maximum": "MAXIMUM",
}


def region_name(region: str) -> str:
    return REGION_NAMES.get(region, region)


# ---------------------------------------------------------------------------- metrics
@dataclass(frozen=True)
class MetricKey:
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, alarm: AlarmSpec) -> "MetricKey":
        return cls(alarm.namespace, alarm.metric, tuple(sorted(alarm.dimensions.items())))

    def dimension(self, name: str) -> str | None:
        return dict(self.dimensions).get(name)


class MetricSource(Protocol):
    """Raw samples of metrics: for each key, the values observed since the previous call (possibly none)."""

    def collect(self, keys: Collection[MetricKey], now: float) -> dict[MetricKey, list[float]]: ...


def statistic(name: str, samples: Sequence[float]) -> float:
    """A CloudWatch statistic (or ``pNN`` percentile, nearest rank) over a period's samples."""
    if name == "Sum":
        return float(sum(samples))
    if name == "Average":
        return float(sum(samples)) / len(samples)
    if name == "Minimum":
        return float(min(samples))
    if name == "Maximum":
        return float(max(samples))
    if name == "SampleCount":
        return float(len(samples))
    if name.lower().startswith("p"):
        ordered = sorted(samples)
        rank = max(1, math.ceil(float(name[1:]) / 100 * len(ordered)))
        return float(ordered[rank - 1])
    raise ValueError(f"unsupported statistic {name!r}")


class LiveMetrics:
    """The local stack's metrics: queue attributes through the SQS API, runner and function pool stats."""

    def __init__(
        self,
        sqs: Any,
        *,
        queue_urls: Mapping[str, str],  # queue name -> URL
        runners: Mapping[str, RunnerStats] | None = None,  # queue name -> its runner's stats
        functions: Mapping[str, FunctionStats] | None = None,  # physical function name -> pool stats
    ) -> None:
        self.sqs = sqs
        self.queue_urls = queue_urls
        self.runners = runners if runners is not None else {}
        self.functions = functions if functions is not None else {}
        self._counters: dict[tuple[str, str], int] = {}
        self._durations_seen: dict[str, int] = {}
        self._stalled_since: dict[str, tuple[float, int]] = {}  # queue name -> (since, received count then)

    @classmethod
    def for_stack(
        cls,
        provisioned: ProvisionedStack,
        sqs: Any,
        *,
        runners: Iterable[QueueRunner] = (),
        pools: Mapping[str, FunctionPool] | None = None,
    ) -> "LiveMetrics":
        """The provisioned stack's queues, with the runners consuming them and the functions' pools."""
        names = {queue.url: queue.name for queue in provisioned.queues.values()}
        return cls(
            sqs,
            queue_urls={queue.name: queue.url for queue in provisioned.queues.values()},
            runners={names[r.queue_url]: r.stats for r in runners if r.queue_url in names},
            functions={pool.spec.physical_name: pool.stats for pool in (pools or {}).values()},
        )

    def collect(self, keys: Collection[MetricKey], now: float) -> dict[MetricKey, list[float]]:
        samples: dict[MetricKey, list[float]] = {}
        queue_attributes: dict[str, dict[str, str] | None] = {}
        for key in keys:
            try:
                if key.namespace == "AWS/SQS":
                    name = key.dimension("QueueName") or ""
                    if name not in queue_attributes:
                        queue_attributes[name] = self._queue_attributes(name)
                    samples[key] = self._sqs(key.metric, name, queue_attributes[name], now)
                elif key.namespace == "AWS/Lambda":
                    samples[key] = self._lambda(key.metric, key.dimension("FunctionName") or "")
                else:
                    samples[key] = []
            except Exception:  # the emulator restarting: no datapoint this time
                log.debug("metric %s unavailable", key, exc_info=True)
                samples[key] = []
        return samples

    def _queue_attributes(self, name: str) -> dict[str, str] | None:
        url = self.queue_urls.get(name)
        if url is None:
            return None
        attributes: dict[str, str] = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return attributes

    def _sqs(self, metric: str, name: str, attributes: dict[str, str] | None, now: float) -> list[float]:
        if attributes is None:
            return []
        counts = {
            "ApproximateNumberOfMessagesVisible": int(attributes.get("ApproximateNumberOfMessages", 0)),
            "ApproximateNumberOfMessagesNotVisible": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            "ApproximateNumberOfMessagesDelayed": int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        }
        if metric in counts:
            return [float(counts[metric])]
        if metric == "ApproximateAgeOfOldestMessage":
            return [self._oldest_age(name, sum(counts.values()), now)]
        return []

    def _oldest_age(self, name: str, depth: int, now: float) -> float:
        stats = self.runners.get(name)
        received = stats.messages_received if stats else 0
        if depth == 0:
            self._stalled_since.pop(name, None)
            return 0.0
        since, received_then = self._stalled_since.get(name, (now, received))
        if received != received_then:
            since, received_then = now, received
        self._stalled_since[name] = (since, received_then)
        in_flight: list[int] = []
        if stats is not None:
            for _ in range(3):
                try:
                    in_flight = list(stats.oldest_unfinished_sent_ms.values())
                    break
                except RuntimeError:  # changed while copying
                    continue
        oldest_in_flight = now - min(in_flight) / 1000 if in_flight else 0.0
        return float(max(0.0, oldest_in_flight, now - since))

    def _lambda(self, metric: str, function: str) -> list[float]:
        stats = self.functions.get(function)
        if stats is None:
            return []
        if metric == "ConcurrentExecutions":
            return [float(stats.in_use)]
        invocations = self._delta(function, "invocations", stats.invocations)
        if metric == "Invocations":
            return [1.0] * invocations
        if metric == "Errors":
            errors = min(invocations, self._delta(function, "errors", stats.errors))
            return [1.0] * errors + [0.0] * (invocations - errors)
        if metric == "Throttles":
            throttles = self._delta(function, "throttles", stats.throttles)
            return [1.0] * throttles + [0.0] * invocations
        if metric == "Duration":
            durations = list(stats.durations_ms)
            seen = self._durations_seen.get(function, 0)
            self._durations_seen[function] = stats.invocations
            return [float(d) for d in durations[len(durations) - min(len(durations), stats.invocations - seen) :]]
        return []

    def _delta(self, function: str, counter: str, value: int) -> int:
        previous = self._counters.get((function, counter), 0)
        self._counters[(function, counter)] = value
        return max(0, value - previous)


# ---------------------------------------------------------------------------- evaluation
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


class Notifier(Protocol):
    def publish(self, topic_arn: str, *, subject: str, message: str, email_body: str | None = None) -> str: ...


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _email_time(moment: datetime) -> str:
    return moment.strftime("%A %d %B, %Y %H:%M:%S UTC")


def _datapoint_text(point: Datapoint) -> str:
    stamp = datetime.fromtimestamp(point.period_start, UTC).strftime("%d/%m/%y %H:%M:%S")
    return f"{point.value!r} ({stamp})"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class AlarmEvaluator:
    """Evaluates alarms on their periods; publishes CloudWatch's notifications on every state change."""

    def __init__(
        self,
        alarms: Sequence[AlarmSpec],
        metrics: MetricSource,
        *,
        region: str,
        account_id: str,
        topic_arns: Mapping[str, str] | None = None,  # topic logical id -> ARN (``ProvisionedStack.topics``)
        notifier: Notifier | None = None,
        clock: Callable[[], float] = time.time,
        interval: float = 10.0,
        state_path: Path | None = None,
    ) -> None:
        self.metrics = metrics
        self.region = region
        self.account_id = account_id
        self.topic_arns = dict(topic_arns or {})
        self.notifier = notifier
        self.clock = clock
        self.interval = interval
        self.state_path = state_path
        self.skipped: dict[str, str] = {}
        self.alarms: dict[str, AlarmStatus] = {}
        created = datetime.fromtimestamp(clock(), UTC)
        for spec in alarms:
            problem = self._unsupported(spec)
            if problem:
                self.skipped[spec.name] = problem
                log.warning("alarm %s is not evaluated locally: %s", spec.name, problem)
                continue
            self.alarms[spec.name] = AlarmStatus(spec, updated=created, configuration_updated=created)
        self._restore()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def _unsupported(spec: AlarmSpec) -> str | None:
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

    # ------------------------------------------------------------------ running
    def start(self) -> "AlarmEvaluator":
        self._thread = threading.Thread(target=self._run, name="alarm-evaluator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("alarm evaluation failed")
            self._stop.wait(self.interval)

    def tick(self) -> list[StateChange]:
        """Sample every metric once; evaluate the alarms whose period just completed."""
        with self._lock:
            now = self.clock()
            keys = {MetricKey.of(status.spec) for status in self.alarms.values()}
            samples = self.metrics.collect(keys, now)
            changes: list[StateChange] = []
            for status in self.alarms.values():
                spec = status.spec
                current = int(now // spec.period_seconds)
                status.samples.setdefault(current, []).extend(samples.get(MetricKey.of(spec), []))
                completed = current - 1
                if status.evaluated_through is None:
                    status.evaluated_through = completed  # the period the evaluator started in is the first
                    continue
                if completed <= status.evaluated_through:
                    continue
                status.evaluated_through = completed
                change = self._evaluate(status, completed, now)
                if change is not None:
                    changes.append(change)
                oldest = completed - spec.evaluation_periods - EXTRA_EVALUATION_PERIODS
                status.samples = {p: s for p, s in status.samples.items() if p > oldest}
            if changes:
                self._save()
        for change in changes:
            self._notify(self.alarms[change.alarm].spec, change)
        return changes

    def states(self) -> dict[str, str]:
        return {name: status.state for name, status in self.alarms.items()}

    # ------------------------------------------------------------------ the decision
    def _evaluate(self, status: AlarmStatus, completed: int, now: float) -> StateChange | None:
        spec = status.spec
        period = spec.period_seconds
        window = [
            Datapoint(
                float(index * period),
                statistic(spec.statistic, status.samples[index]) if status.samples.get(index) else None,
            )
            for index in range(completed, completed - spec.evaluation_periods - EXTRA_EVALUATION_PERIODS, -1)
        ]
        status.last_datapoints = tuple(window)
        decided = self.decide(spec, window, status.state)
        if decided is None:
            return None
        new_state, reason = decided
        if new_state == status.state:
            status.reason = reason
            return None
        old_state = status.state
        moment = datetime.fromtimestamp(now, UTC)
        status.state, status.reason, status.updated = new_state, reason, moment
        return StateChange(spec.name, old_state, new_state, reason, moment, self.notification(status, old_state))

    @staticmethod
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
            reason = AlarmEvaluator._threshold_reason(spec, new_state, present, n, phrase, breaches)
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
            return ALARM, AlarmEvaluator._threshold_reason(spec, ALARM, present, n, phrase, breaches)
        if breaching_count + (n - len(present)) >= m:
            return None  # the missing datapoints could still make it ALARM: keep the state (no premature OK)
        return OK, AlarmEvaluator._threshold_reason(spec, OK, present, n, phrase, breaches)

    @staticmethod
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

    # ------------------------------------------------------------------ notifications
    def alarm_arn(self, name: str) -> str:
        return f"arn:aws:cloudwatch:{self.region}:{self.account_id}:alarm:{name}"

    def _action_arns(self, actions: Iterable[str]) -> list[str]:
        return [self.topic_arns.get(action, action) for action in actions]

    def notification(self, status: AlarmStatus, old_state: str) -> dict[str, Any]:
        """The JSON CloudWatch publishes to an alarm's SNS actions."""
        spec = status.spec
        trigger: dict[str, Any] = {"MetricName": spec.metric, "Namespace": spec.namespace}
        if spec.statistic in _STATISTIC_NAMES:
            trigger |= {"StatisticType": "Statistic", "Statistic": _STATISTIC_NAMES[spec.statistic]}
        else:
            trigger |= {"StatisticType": "ExtendedStatistic", "ExtendedStatistic": spec.statistic}
        trigger |= {
            "Unit": spec.unit,
            "Dimensions": [{"value": value, "name": name} for name, value in spec.dimensions.items()],
            "Period": spec.period_seconds,
            "EvaluationPeriods": spec.evaluation_periods,
            "DatapointsToAlarm": spec.datapoints_to_alarm,
            "ComparisonOperator": spec.comparison,
            "Threshold": spec.threshold,
            "TreatMissingData": f"- TreatMissingData: {spec.treat_missing_data}",
            "EvaluateLowSampleCountPercentile": "",
        }
        return {
            "AlarmName": spec.name,
            "AlarmDescription": spec.description or None,
            "AWSAccountId": self.account_id,
            "AlarmConfigurationUpdatedTimestamp": _iso(status.configuration_updated),
            "NewStateValue": status.state,
            "NewStateReason": status.reason,
            "StateChangeTime": _iso(status.updated),
            "Region": region_name(self.region),
            "AlarmArn": self.alarm_arn(spec.name),
            "OldStateValue": old_state,
            "OKActions": self._action_arns(spec.ok_actions),
            "AlarmActions": self._action_arns(spec.alarm_actions),
            "InsufficientDataActions": self._action_arns(spec.insufficient_data_actions),
            "Trigger": trigger,
        }

    def subject(self, spec: AlarmSpec, state: str) -> str:
        return f'{state}: "{spec.name}" in {region_name(self.region)}'

    def email_text(self, spec: AlarmSpec, change: StateChange) -> str:
        """The text of CloudWatch's alarm e-mail (SNS appends its unsubscribe footer)."""
        stamp = _email_time(change.timestamp)
        dimensions = ", ".join(f"{name} = {value}" for name, value in spec.dimensions.items())

        def actions(values: Iterable[str]) -> str:
            arns = self._action_arns(values)
            return f" [{', '.join(arns)}]" if arns else ""

        return (
            f'You are receiving this email because your Amazon CloudWatch Alarm "{spec.name}" in the '
            f"{region_name(self.region)} region has entered the {change.new_state} state, because "
            f'"{change.reason}" at "{stamp}".\n\n'
            "View this alarm in the AWS Management Console:\n"
            f"https://{self.region}.console.aws.amazon.com/cloudwatch/deeplink.js?region={self.region}"
            f"#alarmsV2:alarm/{quote(spec.name, safe='')}\n\n"
            "Alarm Details:\n"
            f"- Name:                       {spec.name}\n"
            f"- Description:                {spec.description}\n"
            f"- State Change:               {change.old_state} -> {change.new_state}\n"
            f"- Reason for State Change:    {change.reason}\n"
            f"- Timestamp:                  {stamp}\n"
            f"- AWS Account:                {self.account_id}\n"
            f"- Alarm Arn:                  {self.alarm_arn(spec.name)}\n\n"
            "Threshold:\n"
            f"- The alarm is in the ALARM state when the metric is {spec.comparison} {spec.threshold!r} for at least "
            f"{spec.datapoints_to_alarm} of the last {spec.evaluation_periods} period(s) of {spec.period_seconds} "
            "seconds.\n\n"
            "Monitored Metric:\n"
            f"- MetricNamespace:                     {spec.namespace}\n"
            f"- MetricName:                          {spec.metric}\n"
            f"- Dimensions:                          [{dimensions}]\n"
            f"- Period:                              {spec.period_seconds} seconds\n"
            f"- Statistic:                           {spec.statistic}\n"
            f"- Unit:                                {spec.unit or 'not specified'}\n"
            f"- TreatMissingData:                    {spec.treat_missing_data}\n\n\n"
            "State Change Actions:\n"
            f"- OK:{actions(spec.ok_actions)}\n"
            f"- ALARM:{actions(spec.alarm_actions)}\n"
            f"- INSUFFICIENT_DATA:{actions(spec.insufficient_data_actions)}\n"
        )

    def _notify(self, spec: AlarmSpec, change: StateChange) -> None:
        if not spec.actions_enabled or self.notifier is None:
            return
        actions = {
            OK: spec.ok_actions,
            ALARM: spec.alarm_actions,
            INSUFFICIENT_DATA: spec.insufficient_data_actions,
        }[change.new_state]
        message = json.dumps(change.notification, separators=(",", ":"))
        for arn in self._action_arns(actions):
            if not arn.startswith("arn:aws:sns:"):
                log.warning("alarm %s: action %s is not an SNS topic; not performed locally", spec.name, arn)
                continue
            try:
                self.notifier.publish(
                    arn,
                    subject=self.subject(spec, change.new_state),
                    message=message,
                    email_body=self.email_text(spec, change),
                )
            except Exception:
                log.exception("alarm %s: publishing to %s failed", spec.name, arn)

    # ------------------------------------------------------------------ persistence
    def _fingerprint(self, spec: AlarmSpec) -> str:
        return json.dumps(
            [spec.namespace, spec.metric, sorted(spec.dimensions.items()), spec.statistic, spec.period_seconds,
             spec.evaluation_periods, spec.datapoints_to_alarm, spec.threshold, spec.comparison,
             spec.treat_missing_data],
        )  # fmt: skip

    def _restore(self) -> None:
        if self.state_path is None or not self.state_path.exists():
            return
        try:
            saved = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return
        for name, status in self.alarms.items():
            entry = saved.get(name)
            if not entry or entry.get("configuration") != self._fingerprint(status.spec):
                continue  # new or changed alarm: starts over in INSUFFICIENT_DATA, as an updated alarm would
            status.state = entry["state"]
            status.reason = entry["reason"]
            status.updated = datetime.fromisoformat(entry["updated"])
            status.configuration_updated = datetime.fromisoformat(entry["configuration_updated"])

    def _save(self) -> None:
        if self.state_path is None:
            return
        document = {
            name: {
                "state": status.state,
                "reason": status.reason,
                "updated": status.updated.isoformat(),
                "configuration_updated": status.configuration_updated.isoformat(),
                "configuration": self._fingerprint(status.spec),
            }
            for name, status in self.alarms.items()
        }
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(document, indent=2))
        temporary.replace(self.state_path)
