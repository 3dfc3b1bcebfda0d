"""Lambda's SQS event shape, built from messages received through the SQS API."""

from typing import Any


def _attribute_to_event(value: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {"dataType": value["DataType"], "stringListValues": [], "binaryListValues": []}
    if "StringValue" in value:
        converted["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        converted["binaryValue"] = value["BinaryValue"]
    return converted


def sqs_record(message: dict[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """One record as Lambda's event source mapping delivers it (from ReceiveMessage output)."""
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", "0"),
            "SenderId": attributes.get("SenderId", "AIDAIENQZJOLO23YVJ4VO"),
            "ApproximateFirstReceiveTimestamp": attributes.get("ApproximateFirstReceiveTimestamp", "0"),
            **{
                k: v
                for k, v in attributes.items()
                if k in ("MessageGroupId", "MessageDeduplicationId", "SequenceNumber")
            },
        },
        "messageAttributes": {
            name: _attribute_to_event(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def sqs_event(messages: list[dict[str, Any]], *, queue_arn: str, region: str) -> dict[str, Any]:
    return {"Records": [sqs_record(message, queue_arn=queue_arn, region=region) for message in messages]}


def failed_message_ids(response: dict[str, Any] | None) -> set[str]:
    """Message ids a handler reported as failed (ReportBatchItemFailures)."""
    return {item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])}
