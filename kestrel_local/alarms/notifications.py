"""What CloudWatch sends on an alarm's state change: its notification JSON and e-mail, published to SNS topics.

The notification JSON goes to each action topic of the new state (when
``ActionsEnabled``) with CloudWatch's subject, and SNS's e-mail variant holding
the text CloudWatch's alarm e-mails have; ``mail.TopicPublisher`` delivers that
to the topic's e-mail subscribers in the local mailbox.
"""

import json
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

from kestrel_local.alarms.evaluation import ALARM, INSUFFICIENT_DATA, OK, AlarmStatus, StateChange
from kestrel_local.model import AlarmSpec

log = logging.getLogger(__name__)

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


_STATISTIC_NAMES = {
    "SampleCount": "SAMPLE_COUNT",
    "Average": "AVERAGE",
    "Sum": "SUM",
    "Minimum": "MINIMUM",
    "Maximum": "MAXIMUM",
}


def region_name(region: str) -> str:
    return REGION_NAMES.get(region, region)


class Notifier(Protocol):
    def publish(self, topic_arn: str, *, subject: str, message: str, email_body: str | None = None) -> str: ...


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _email_time(moment: datetime) -> str:
    return moment.strftime("%A %d %B, %Y %H:%M:%S UTC")


class AlarmNotifications:
    """CloudWatch's messages about one account's alarms in one region, published through ``notifier`` (None: not)."""

    def __init__(
        self,
        *,
        region: str,
        account_id: str,
        topic_arns: Mapping[str, str] | None = None,  # topic logical id -> ARN (``ProvisionedStack.topics``)
        notifier: Notifier | None = None,
    ) -> None:
        self.region = region
        self.account_id = account_id
        self.topic_arns = dict(topic_arns or {})
        self.notifier = notifier

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

    def publish(self, spec: AlarmSpec, change: StateChange) -> None:
        """Publish the change to the SNS topics among the actions of its new state."""
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
