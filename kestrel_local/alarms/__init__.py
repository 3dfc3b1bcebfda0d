"""CloudWatch alarms, evaluated locally against live metrics of the local stack.

- ``metrics``: the samples of each metric (SQS queue attributes, the runners' and functions' stats);
- ``evaluation``: CloudWatch's decision from a period's datapoints, ``TreatMissingData`` included;
- ``notifications``: CloudWatch's notification JSON and alarm e-mail, published to SNS topics;
- ``evaluator``: ``AlarmEvaluator``, which samples, decides on each completed period and notifies.

The names the local stack and its tests use are importable from here.
"""

from kestrel_local.alarms.evaluation import ALARM, INSUFFICIENT_DATA, OK, Datapoint, StateChange, decide
from kestrel_local.alarms.evaluator import AlarmEvaluator
from kestrel_local.alarms.metrics import LiveMetrics, MetricKey, MetricSource, statistic

__all__ = [
    "ALARM",
    "INSUFFICIENT_DATA",
    "OK",
    "AlarmEvaluator",
    "Datapoint",
    "LiveMetrics",
    "MetricKey",
    "MetricSource",
    "StateChange",
    "decide",
    "statistic",
]
