"""A real `kestrel up` in a child process, on ephemeral ports and a temporary state directory."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from kestrel_local.moto_server import free_port
from kestrel_local.search_console import SearchConsoleServer
from tests.support.services import admin_url

__all__ = ["admin_url"]  # the fixture of tests/support/services.py this suite uses

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 600  # the first start packages the local template (about a minute on a busy machine)


@dataclass
class RunningStack:
    state_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    @property
    def runtime(self) -> dict[str, Any]:
        runtime: dict[str, Any] = json.loads((self.state_dir / "runtime.json").read_text())
        return runtime

    @property
    def api(self) -> str:
        return str(self.runtime["api_url"])

    def start(self) -> None:
        (self.state_dir / "banner.txt").unlink(missing_ok=True)
        log = (self.state_dir / "up.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kestrel_local.cli", "up"], env=self.env, stdout=log, stderr=log, cwd=ROOT
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not (self.state_dir / "banner.txt").exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"kestrel up failed:\n{(self.state_dir / 'up.log').read_text()[-5000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Ctrl-C, as a developer stops it."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=900)
        assert self.process.returncode == 0, (self.state_dir / "up.log").read_text()[-3000:]

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "kestrel_local.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=ROOT,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            region_name="eu-west-1",
            endpoint_url=self.runtime["aws_endpoint"],
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def queue_url(self, name: str) -> str:
        url: str = self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
        return url

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = json.loads(self.cli("status", "--json"))
        return status


@pytest.fixture(scope="session")
def search_console() -> Iterator[SearchConsoleServer]:
    """A Search Console API the stack is pointed at, as it would be at Google's: the tests hold its credentials."""
    server = SearchConsoleServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def local_stack(
    tmp_path_factory: pytest.TempPathFactory,
    admin_url: str,
    search_console: SearchConsoleServer,
) -> Iterator[RunningStack]:
    state_dir = tmp_path_factory.mktemp("kestrel-local")
    # The stack runs its own emulator: none of the runner's AWS settings, dummy credentials for the CLI's clients.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KESTREL_"))}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "DATABASE_URL": admin_url,
            "KESTREL_LOCAL_DATABASE_NAME": f"kestrel_e2e_{uuid.uuid4().hex[:8]}",
            "KESTREL_LOCAL_STATE_DIR": str(state_dir),
            "KESTREL_LOCAL_API_PORT": str(free_port()),
            "KESTREL_LOCAL_IDENTITY_PORT": str(free_port()),
            "KESTREL_LOCAL_AWS_PORT": str(free_port()),
            "KESTREL_LOCAL_DEMO_SITE_PORT": str(free_port()),
            "KESTREL_LOCAL_NLP_PORT": str(free_port()),
            "KESTREL_LOCAL_DATAFORSEO_PORT": str(free_port()),
            # Faster than the cloud where waiting is all a test would do: redelivery and alarm checks.
            "KESTREL_LOCAL_VISIBILITY_TIMEOUT_SECONDS": "2",
            "KESTREL_LOCAL_ALARM_INTERVAL_SECONDS": "1",
            "KESTREL_LOCAL_FUNCTION_ENVIRONMENT": json.dumps({"KESTREL_DB_LOCK_TIMEOUT_MS": "300"}),
            # The configuration for the real API, pointed at a server this test session controls.
            "KESTREL_LOCAL_GSC_API_BASE_URL": f"{search_console.url}/webmasters/v3",
            "KESTREL_LOCAL_GSC_TOKEN_URI": search_console.token_uri,
        }
    )
    stack = RunningStack(state_dir=state_dir, env=env)
    stack.start()
    yield stack
    if stack.process is not None and stack.process.poll() is None:
        stack.stop()
