"""CloudWatch alarms, evaluated locally against live metrics of the local stack, on their periods.

Every ``tick`` (each ``interval`` seconds of the injectable ``clock``) the
``AlarmEvaluator`` collects each distinct metric once from its ``MetricSource``
and files the samples under the period (aligned to the clock, as CloudWatch
aligns them) the tick falls in. When a period completes, the alarm is decided
(``evaluation.decide``) on its last completed periods. Alarms start in
INSUFFICIENT_DATA; every state change is published (``notifications``). With
``state_path`` the alarms' states survive a restart of the local stack, as
alarms in AWS survive a deploy, so ``make up`` does not re-announce every alarm
as OK.
"""

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from kestrel_local.alarms.evaluation import (
    EXTRA_EVALUATION_PERIODS,
    AlarmStatus,
    Datapoint,
    StateChange,
    decide,
    unsupported,
)
from kestrel_local.alarms.metrics import MetricKey, MetricSource, statistic
from kestrel_local.alarms.notifications import AlarmNotifications, Notifier
from kestrel_local.model import AlarmSpec

log = logging.getLogger(__name__)


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
        self.notifications = AlarmNotifications(
            region=region, account_id=account_id, topic_arns=topic_arns, notifier=notifier
        )
        self.clock = clock
        self.interval = interval
        self.state_path = state_path
        self.skipped: dict[str, str] = {}
        self.alarms: dict[str, AlarmStatus] = {}
        created = datetime.fromtimestamp(clock(), UTC)
        for spec in alarms:
            problem = unsupported(spec)
            if problem:
                self.skipped[spec.name] = problem
                log.warning("alarm %s is not evaluated locally: %s", spec.name, problem)
                continue
            self.alarms[spec.name] = AlarmStatus(spec, updated=created, configuration_updated=created)
        self._restore()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

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
            self.notifications.publish(self.alarms[change.alarm].spec, change)
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
        decided = decide(spec, window, status.state)
        if decided is None:
            return None
        new_state, reason = decided
        if new_state == status.state:
            status.reason = reason
            return None
        old_state = status.state
        moment = datetime.fromtimestamp(now, UTC)
        status.state, status.reason, status.updated = new_state, reason, moment
        return StateChange(
            spec.name, old_state, new_state, reason, moment, self.notifications.notification(status, old_state)
        )

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
