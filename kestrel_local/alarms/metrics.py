"""The local stack's metrics, sampled for alarms: queue attributes through the SQS API, runner and pool stats.

``LiveMetrics.collect`` returns, for each metric, the samples observed since
the previous call:

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

import logging
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kestrel_local.environments import FunctionPool, FunctionStats
from kestrel_local.model import AlarmSpec
from kestrel_local.provision import ProvisionedStack
from kestrel_local.runner import QueueRunner, RunnerStats

log = logging.getLogger(__name__)


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
