"""Running osls (``npx sls``) offline, without AWS credentials, one packaging at a time per checkout."""

import fcntl
import hashlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kestrel_local.config import PROJECT_ROOT

PACKAGE_TIMEOUT_SECONDS = 600


def sls_environment() -> dict[str, str]:
    """The caller's environment without AWS credentials or endpoints, and a quiet osls."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(SLS_TELEMETRY_DISABLED="1", SLS_NOTIFICATIONS_MODE="off")
    return env


def run_sls(
    *args: str, cwd: Path = PROJECT_ROOT, timeout: int = PACKAGE_TIMEOUT_SECONDS
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npx", "--no-install", "sls", *args],
        cwd=cwd,
        env=sls_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def package_lock(project_root: Path = PROJECT_ROOT) -> Iterator[None]:
    """One `sls package` at a time per checkout.

    osls builds in the service's own `.serverless/` (wiping it first) and only then copies the
    result to `--package`, so two packaging runs in one checkout at once (the test suite and
    `make up`, say) would destroy each other's artifacts.
    """
    digest = hashlib.sha256(str(project_root).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"kestrel-sls-package-{digest}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
