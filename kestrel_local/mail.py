"""The local mailbox: what SNS would have e-mailed to a topic's e-mail subscribers.

moto accepts e-mail subscriptions but delivers nothing. ``TopicPublisher``
publishes through the SNS API in the emulator (so SQS, HTTP and Lambda
subscribers get the message as usual) and then, from the same call, "delivers"
the message to every ``email`` / ``email-json`` subscription the emulator lists
for the topic: one JSON file per message in ``<state>/mail/``, with the body
SNS would send (the ``email`` variant of a JSON-structured message plus SNS's
unsubscribe footer; the SNS notification envelope for ``email-json``).

Delivering from the publish path, rather than subscribing a local queue to the
topic and draining it, keeps the topic's subscriber list exactly the
template's and makes delivery synchronous: the mail file exists when
``publish`` returns.
"""

import json
import os
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

SNS_SENDER = "no-reply@sns.amazonaws.com"
SNS_SUBJECT_LIMIT = 100


@dataclass(frozen=True)
class MailMessage:
    id: str
    to: str
    sender: str
    subject: str
    date: str  # RFC 2822, as in the e-mail's Date header
    body: str
    protocol: str  # "email" or "email-json"
    topic_arn: str
    subscription_arn: str
    message_id: str  # the SNS message id
    raw: str  # the published message's default (JSON) variant


class Mailbox:
    """``<state>/mail/``: one ``<time>-<id>.json`` file per delivered message."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def deliver(
        self,
        *,
        to: str,
        subject: str,
        body: str,
        topic_arn: str,
        subscription_arn: str,
        message_id: str,
        raw: str,
        protocol: str = "email",
        sender: str = f"AWS Notifications <{SNS_SENDER}>",
        now: datetime | None = None,
    ) -> MailMessage:
        now = now or datetime.now(UTC)
        identifier = f"{now.strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}"
        message = MailMessage(
            id=identifier,
            to=to,
            sender=sender,
            subject=subject,
            date=format_datetime(now),
            body=body,
            protocol=protocol,
            topic_arn=topic_arn,
            subscription_arn=subscription_arn,
            message_id=message_id,
            raw=raw,
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.directory / f".{identifier}.tmp"
        temporary.write_text(json.dumps(asdict(message), indent=2))
        os.replace(temporary, self.directory / f"{identifier}.json")
        return message

    def list(self) -> list[MailMessage]:
        """Every message, oldest first."""
        if not self.directory.is_dir():
            return []
        return [self._load(path) for path in sorted(self.directory.glob("*.json"))]

    def read(self, identifier: str) -> MailMessage:
        """One message by id (or an unambiguous prefix of it)."""
        if "/" in identifier or identifier.startswith("."):
            raise KeyError(identifier)
        exact = self.directory / f"{identifier}.json"
        if exact.exists():
            return self._load(exact)
        matches = sorted(self.directory.glob(f"{identifier}*.json")) if self.directory.is_dir() else []
        if len(matches) != 1:
            raise KeyError(identifier)
        return self._load(matches[0])

    @staticmethod
    def _load(path: Path) -> MailMessage:
        return MailMessage(**json.loads(path.read_text()))


def sns_email_footer(region: str, subscription_arn: str, endpoint: str) -> str:
    return (
        "\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below "
        f"to unsubscribe:\nhttps://sns.{region}.amazonaws.com/unsubscribe.html?SubscriptionArn={subscription_arn}"
        f"&Endpoint={endpoint}\n\nPlease do not reply directly to this email. If you have any questions or comments "
        "regarding this email, please contact us at https://aws.amazon.com/support"
    )


class TopicPublisher:
    """Publishes to a topic in the emulator and delivers it to the topic's e-mail subscribers' mailbox."""

    def __init__(self, sns: Any, mailbox: Mailbox, *, region: str) -> None:
        self.sns = sns
        self.mailbox = mailbox
        self.region = region

    def publish(self, topic_arn: str, *, subject: str, message: str, email_body: str | None = None) -> str:
        """Publish ``message``; e-mail subscribers get ``email_body`` when given (SNS's ``email`` variant)."""
        subject = subject[:SNS_SUBJECT_LIMIT]
        if email_body is None:
            published = self.sns.publish(TopicArn=topic_arn, Subject=subject, Message=message)
        else:
            published = self.sns.publish(
                TopicArn=topic_arn,
                Subject=subject,
                Message=json.dumps({"default": message, "email": email_body}),
                MessageStructure="json",
            )
        message_id: str = published["MessageId"]
        display_name = self.sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"].get("DisplayName") or ""
        sender = f"{display_name or 'AWS Notifications'} <{SNS_SENDER}>"
        now = datetime.now(UTC)
        paginator = self.sns.get_paginator("list_subscriptions_by_topic")
        for page in paginator.paginate(TopicArn=topic_arn):
            for subscription in page["Subscriptions"]:
                protocol, endpoint = subscription["Protocol"], subscription["Endpoint"]
                arn = subscription["SubscriptionArn"]
                if protocol == "email":
                    body = (email_body if email_body is not None else message) + sns_email_footer(
                        self.region, arn, endpoint
                    )
                elif protocol == "email-json":
                    body = json.dumps(self._envelope(topic_arn, message_id, subject, message, arn, now), indent=2)
                else:
                    continue
                self.mailbox.deliver(
                    to=endpoint,
                    subject=subject,
                    body=body,
                    topic_arn=topic_arn,
                    subscription_arn=arn,
                    message_id=message_id,
                    raw=message,
                    protocol=protocol,
                    sender=sender,
                    now=now,
                )
        return message_id

    def _envelope(
        self, topic_arn: str, message_id: str, subject: str, message: str, subscription_arn: str, now: datetime
    ) -> dict[str, Any]:
        return {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": topic_arn,
            "Subject": subject,
            "Message": message,
            "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
            "SignatureVersion": "1",
            "Signature": "local",
            "SigningCertURL": f"https://sns.{self.region}.amazonaws.com/SimpleNotificationService-local.pem",
            "UnsubscribeURL": f"https://sns.{self.region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription_arn}",
        }
