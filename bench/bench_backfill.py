"""The demo property's 90-day Search Console backfill through the whole local stack, end to end.

Starts `kestrel up` in a child process on free ports with a fresh state directory (its first start
packages the local template, which is not timed), lets it connect the demo property to the local
Search Console API and start the 90-day backfill, and waits for the job. The figure is the job's
own created_at -> finished_at: API call, gsc_sync paging, chunks to S3, gsc_ingest COPY + merge and
the rollup, with the functions' reserved concurrency (dev values) enforced by the local runners.

    make bench-ingest     # runs this first, then bench_ingest (whose last line is machine-readable)
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from kestrel_local.config import PROJECT_ROOT
from kestrel_local.moto_server import free_port
from kestrel_local.postgres import drop_database, start_embedded

BACKFILL_DAYS = 90
START_TIMEOUT_SECONDS = 900
BACKFILL_TIMEOUT_SECONDS = 1800


def _get(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())


def _cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "kestrel_local.cli", *args], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def main() -> int:
    state_dir = Path(tempfile.mkdtemp(prefix="kestrel-bench-backfill-"))
    admin_url = start_embedded(PROJECT_ROOT / ".state" / "bench-postgres")
    database = f"kestrel_bench_{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT_URL", "KESTREL_"))}
    env.update(
        {
            "DATABASE_URL": admin_url,
            "KESTREL_LOCAL_DATABASE_NAME": database,
            "KESTREL_LOCAL_STATE_DIR": str(state_dir),
            "KESTREL_LOCAL_API_PORT": str(free_port()),
            "KESTREL_LOCAL_IDENTITY_PORT": str(free_port()),
            "KESTREL_LOCAL_AWS_PORT": str(free_port()),
            "KESTREL_LOCAL_SEARCH_CONSOLE_PORT": str(free_port()),
            "KESTREL_LOCAL_DATAFORSEO_PORT": str(free_port()),
            "KESTREL_LOCAL_DEMO_BACKFILL_DAYS": str(BACKFILL_DAYS),
        }
    )
    log = (state_dir / "up.log").open("ab")
    stack = subprocess.Popen(
        [sys.executable, "-m", "kestrel_local.cli", "up"], env=env, stdout=log, stderr=log, cwd=PROJECT_ROOT
    )
    try:
        print(f"Starting the local stack (state in {state_dir})...", flush=True)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not (state_dir / "banner.txt").exists():
            if stack.poll() is not None or time.monotonic() > deadline:
                print((state_dir / "up.log").read_text()[-4000:])
                return 1
            time.sleep(0.5)
        banner = (state_dir / "banner.txt").read_text()
        job_url = next(word for word in banner.split() if "/jobs/" in word)
        token = _cli(env, "token", "--tenant", "org_demo", "--user", "bench")
        deadline = time.monotonic() + BACKFILL_TIMEOUT_SECONDS
        job = _get(job_url, token)
        while job["status"] in ("pending", "running"):
            if time.monotonic() > deadline:
                print(f"The backfill did not finish in {BACKFILL_TIMEOUT_SECONDS}s: {job}")
                return 1
            progress = job.get("progress") or {}
            print(
                f"  {job['progress_percent']:3d}%  days {progress.get('days_done', 0)}/{progress.get('days_total', 0)}"
                f"  chunks {progress.get('chunks_done', 0)}/{progress.get('chunks_total', 0)}"
                f"  rows {progress.get('rows_loaded', 0)}",
                flush=True,
            )
            time.sleep(5)
            job = _get(job_url, token)
    finally:
        stack.send_signal(signal.SIGINT)
        stack.wait(timeout=600)
        drop_database(admin_url, database)
        shutil.rmtree(state_dir, ignore_errors=True)

    seconds = (datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(job["created_at"])).total_seconds()
    progress = job["progress"]
    print(
        f"90-day backfill of the demo property through the local stack: {job['status']} in {seconds:.1f} s"
        f"  ({progress['days_done']} days, {progress['chunks_done']} chunks, {progress['rows_loaded']} rows,"
        f" {progress['rows_loaded'] / seconds:.0f} rows/s end to end)"
    )
    print(f"bench-backfill status={job['status']} seconds={seconds:.1f} rows={progress['rows_loaded']}")
    return 0 if job["status"] == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
