"""Tiny handlers the local-stack tests run inside execution environments."""

import os
import time
from typing import Any


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "event": event,
        "function_name": context.function_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id,
        "environment": {k: v for k, v in os.environ.items() if k.startswith(("KESTREL_", "AWS_LAMBDA", "SECRET"))},
    }


def sleep(event: dict[str, Any], context: Any) -> dict[str, Any]:
    started = time.time()
    time.sleep(float(event.get("seconds", 0)))
    return {"pid": os.getpid(), "started": started, "ended": time.time()}


def fail(event: dict[str, Any], context: Any) -> None:
    raise ValueError(event.get("message", "boom"))


def crash(event: dict[str, Any], context: Any) -> None:
    os._exit(3)


def sqs_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Records each record it sees; bodies steer it: "fail" (item failure), "raise", "sleep:<s>"."""
    import json

    started = time.time()
    failures = []
    bodies = [record["body"] for record in event["Records"]]
    if "raise" in bodies:
        raise RuntimeError("batch blew up")
    for body in bodies:
        if body.startswith("sleep:"):
            time.sleep(float(body.split(":", 1)[1]))
    ended = time.time()
    with open(os.environ["RECORD_FILE"], "a") as out:
        for record in event["Records"]:
            out.write(
                json.dumps(
                    {
                        "pid": os.getpid(),
                        "started": started,
                        "ended": ended,
                        "message_id": record["messageId"],
                        "body": record["body"],
                        "receive_count": record["attributes"]["ApproximateReceiveCount"],
                        "batch_size": len(event["Records"]),
                        "record": record,
                    }
                )
                + "\n"
            )
            if record["body"] == "fail":
                failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def nlp_entities(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Calls the NLP service where the function is told it is (KESTREL_NLP_SERVICE_URL), as the NLP workers do."""
    import json
    import urllib.request

    url = os.environ["KESTREL_NLP_SERVICE_URL"]
    with urllib.request.urlopen(f"{url}/ready", timeout=10) as response:  # noqa: S310 - the test's own service
        ready = json.loads(response.read())
    request = urllib.request.Request(  # noqa: S310
        f"{url}/v1/entities",
        data=json.dumps({"documents": event["documents"]}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        entities = json.loads(response.read())
    return {"url": url, "ready": ready, "entities": entities}
