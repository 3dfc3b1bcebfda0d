"""Keeping the stack's bucket contents across restarts of the emulator, which keeps nothing.

Queued messages point at uploaded objects, so saving the messages alone
would lose the work. Objects are restored *before* the bucket notifications
are configured, so putting them back does not announce them a second time.
"""

import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kestrel_local.provision import ensure_bucket_exists

INDEX = "index.json"


def save_buckets(s3: Any, buckets: Iterable[str], directory: Path) -> int:
    """Copy every object of ``buckets`` into ``directory``; returns how many were saved."""
    saved = 0
    for bucket in buckets:
        target = directory / bucket
        target.mkdir(parents=True, exist_ok=True)
        index: list[dict[str, Any]] = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for entry in page.get("Contents", []):
                obj = s3.get_object(Bucket=bucket, Key=entry["Key"])
                file_name = f"{len(index):08d}.bin"
                with (target / file_name).open("wb") as out:
                    shutil.copyfileobj(obj["Body"], out)
                index.append(
                    {
                        "key": entry["Key"],
                        "file": file_name,
                        "content_type": obj.get("ContentType"),
                        "metadata": obj.get("Metadata", {}),
                    }
                )
        (target / INDEX).write_text(json.dumps(index))
        saved += len(index)
    return saved


def restore_buckets(s3: Any, directory: Path, *, region: str) -> int:
    """Put saved objects back (creating their buckets), then forget them; returns how many."""
    restored = 0
    if not directory.exists():
        return 0
    for target in sorted(path for path in directory.iterdir() if (path / INDEX).exists()):
        ensure_bucket_exists(s3, target.name, region)
        for entry in json.loads((target / INDEX).read_text()):
            extra: dict[str, Any] = {"Metadata": entry["metadata"]}
            if entry["content_type"]:
                extra["ContentType"] = entry["content_type"]
            with (target / entry["file"]).open("rb") as body:
                s3.put_object(Bucket=target.name, Key=entry["key"], Body=body, **extra)
            restored += 1
    shutil.rmtree(directory)
    return restored
