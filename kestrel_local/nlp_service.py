"""The NLP service as a local process: what `kestrel up`, the tests and the benchmark start.

In AWS the service is a Fargate task built from nlp_service/Dockerfile; here it is the same
package run from the dev venv (``python -m kestrel_nlp``, with ``nlp_service/`` on
``PYTHONPATH``), on its own port. ``start()`` returns once ``/ready`` answers 200 (spaCy
loaded) and raises with the end of the service's log if the process exits or is not ready in
time; ``ready_seconds`` is how long that took.
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Self

import httpx

from kestrel_local.config import PROJECT_ROOT

NLP_SERVICE_DIR = PROJECT_ROOT / "nlp_service"
LOG_TAIL_BYTES = 4_000


class NlpServiceProcess:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        environment: dict[str, str] | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.url = f"http://{host}:{port}"
        self.environment = dict(environment or {})
        self.log_path = log_path
        self.ready_seconds: float | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, timeout: float = 60.0) -> Self:
        environment = {**os.environ, **self.environment}
        inherited = environment.get("PYTHONPATH")
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(NLP_SERVICE_DIR), inherited]))
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
        output: IO[bytes] | int = self._log if self._log is not None else subprocess.DEVNULL
        began = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kestrel_nlp", "--host", self.host, "--port", str(self.port)],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT if self._log is not None else subprocess.DEVNULL,
        )
        deadline = began + timeout
        with httpx.Client(timeout=2.0) as client:
            while True:
                code = self.process.poll()
                if code is not None:
                    self._close_log()
                    raise RuntimeError(f"the NLP service exited with {code} before it was ready{self._log_tail()}")
                try:
                    if client.get(f"{self.url}/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.perf_counter() > deadline:
                    self.stop()
                    raise RuntimeError(f"the NLP service was not ready within {timeout:.0f} s{self._log_tail()}")
                time.sleep(0.1)
        self.ready_seconds = time.perf_counter() - began
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close_log()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def _log_tail(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return " (no log: pass log_path to keep the service's output)"
        with self.log_path.open("rb") as log:
            log.seek(max(0, self.log_path.stat().st_size - LOG_TAIL_BYTES))
            tail = log.read().decode("utf-8", "replace")
        if self.log_path.stat().st_size > LOG_TAIL_BYTES:
            tail = tail.partition("\n")[2]  # from the first whole line
        tail = tail.strip()
        return f"; the end of {self.log_path}:\n{tail}"
