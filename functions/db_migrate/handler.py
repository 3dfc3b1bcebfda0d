"""db_migrate: runs migrations on every deploy, as a CloudFormation custom resource.

Not one of the product functions: CloudFormation calls it when the stack's
``DatabaseMigration`` resource is created or its ``Revision`` changes, and it
answers through the presigned ``ResponseURL`` as the custom resource protocol
requires. Deleting the stack never touches the data.
"""

import json
import urllib.request
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.migrate import migrate_to_head
from shared.observability import logger

PHYSICAL_ID = "kestrel-database-migration"


def _respond(event: dict[str, Any], status: str, reason: str, data: dict[str, str]) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:3500],
            "PhysicalResourceId": PHYSICAL_ID,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data,
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - the URL is CloudFormation's presigned S3 URL
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        logger.info("Answered CloudFormation", extra={"status": status, "http_status": response.status})


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    revision = str(event.get("ResourceProperties", {}).get("Revision", ""))
    try:
        if event["RequestType"] in ("Create", "Update"):
            migrate_to_head()
        _respond(event, "SUCCESS", f"Schema at {revision}", {"Revision": revision})
    except Exception as exc:
        logger.exception("Migration failed")
        _respond(event, "FAILED", f"Migration failed: {exc}. See log stream {context.log_stream_name}.", {})
