"""Handlers the benchmarks run in execution environments."""

import json
import os
import time
from typing import Any


def empty_sqs(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Does nothing but note, per message, how long after it was sent the handler started."""
    started_ms = time.time() * 1000
    path = os.environ.get("BENCH_LATENCY_FILE")
    if path:
        with open(path, "a") as out:
            out.write(
                json.dumps([started_ms - int(record["attributes"]["SentTimestamp"]) for record in event["Records"]])
                + "\n"
            )
    return {"batchItemFailures": []}
