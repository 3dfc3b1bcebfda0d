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
