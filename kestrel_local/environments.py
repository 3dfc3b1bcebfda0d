"""Lambda-like execution environments: one process per concurrent execution, kept warm and reused.

Each environment is a fresh interpreter (``spawn``) that gets only its
function's environment variables, imports the handler once (the cold start)
and then serves invocations one at a time, as Lambda does. A handler that
runs past the function's timeout, or takes its process down, costs that
environment: it is killed and the next invocation starts a new one.
Everything the function prints (its JSON log lines) goes to
``<state>/logs/<function>.log``.
"""

import importlib
import multiprocessing
import os
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from kestrel_local.config import PROJECT_ROOT
from kestrel_local.lambda_context import LocalLambdaContext
from kestrel_local.model import FunctionSpec, InvocationResult

# Variables a function process inherits from the local stack; everything else comes from its spec.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "VIRTUAL_ENV", "XDG_RUNTIME_DIR")


def _serve(conn: Connection, spec: FunctionSpec, environment: dict[str, str], log_path: str) -> None:
    """The environment's process: cold start once, then one invocation at a time."""
    log = open(log_path, "a", buffering=1)  # noqa: SIM115 - lives as long as the process
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout = sys.stderr = log
    os.environ.clear()
    os.environ.update(environment)
    os.chdir(PROJECT_ROOT)
    sys.path.insert(0, str(PROJECT_ROOT))
    module_name, _, attribute = spec.handler.rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name.replace("/", ".")), attribute)
    except BaseException as exc:  # an init error is reported on every invocation, as Lambda does
        init_error: BaseException | None = exc
        traceback.print_exc()
    else:
        init_error = None
    conn.send(("ready", None))
    while True:
        try:
            request_id, event = conn.recv()
        except EOFError:
            return
        context = LocalLambdaContext(
            function_name=spec.physical_name,
            memory_limit_in_mb=spec.memory_mb,
            timeout_seconds=spec.timeout_seconds,
            aws_request_id=request_id,
        )
        started = time.time()
        if init_error is not None:
            conn.send(("error", type(init_error).__name__, str(init_error), started))
            continue
        try:
            response = handler(event, context)
        except Exception as exc:
            traceback.print_exc()
            conn.send(("error", type(exc).__name__, str(exc), started))
        else:
            conn.send(("ok", response, None, started))


@dataclass
class _Environment:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    invocations: int = 0


@dataclass
class FunctionStats:
    invocations: int = 0
    errors: int = 0
    throttles: int = 0
    in_use: int = 0
    peak_in_use: int = 0
    environments_started: int = 0
    environments_replaced: int = 0
    durations_ms: deque[float] = field(default_factory=lambda: deque(maxlen=1000))


class FunctionPool:
    """The execution environments of one function, at most ``limit`` at once."""

    def __init__(self, spec: FunctionSpec, environment: dict[str, str], log_dir: Path, limit: int) -> None:
        self.spec = spec
        self.limit = max(1, limit)
        self.stats = FunctionStats()
        self._environment = environment
        self._log_path = str(log_dir / f"{spec.name}.log")
        self._idle: list[_Environment] = []
        self._slots = threading.BoundedSemaphore(self.limit)
        self._lock = threading.Lock()
        self._context = multiprocessing.get_context("spawn")
        self._closed = False

    @property
    def environment(self) -> dict[str, str]:
        """The variables every environment of this function starts with."""
        return dict(self._environment)

    def _start(self) -> _Environment:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_serve,
            args=(child, self.spec, self._environment, self._log_path),
            name=f"lambda:{self.spec.name}",
            daemon=True,
        )
        process.start()
        child.close()
        parent.recv()  # "ready": the cold start is over
        with self._lock:
            self.stats.environments_started += 1
        return _Environment(process=process, conn=parent)

    def _discard(self, env: _Environment) -> None:
        env.conn.close()
        if env.process.is_alive():
            env.process.kill()
        env.process.join(timeout=5)
        with self._lock:
            self.stats.environments_replaced += 1

    def invoke(self, event: dict[str, Any], *, wait: bool = True) -> InvocationResult:
        """Run one invocation; with ``wait=False`` a call beyond the limit is throttled, as Lambda does."""
        request_id = str(uuid.uuid4())
        if not self._slots.acquire(blocking=wait):
            with self._lock:
                self.stats.throttles += 1
            return InvocationResult(
                self.spec.name, request_id, False, None, "TooManyRequestsException", "Rate Exceeded."
            )
        with self._lock:
            self.stats.in_use += 1
            self.stats.peak_in_use = max(self.stats.peak_in_use, self.stats.in_use)
            env = self._idle.pop() if self._idle else None
        try:
            return self._run(env, request_id, event)
        finally:
            with self._lock:
                self.stats.in_use -= 1
            self._slots.release()

    def _run(self, env: _Environment | None, request_id: str, event: dict[str, Any]) -> InvocationResult:
        env = env or self._start()
        begun = time.monotonic()
        try:
            env.conn.send((request_id, event))
            ready = env.conn.poll(self.spec.timeout_seconds)
            message = env.conn.recv() if ready else None
        except (EOFError, OSError, BrokenPipeError):
            message = ("crashed",)
        duration = (time.monotonic() - begun) * 1000
        with self._lock:
            self.stats.invocations += 1
            self.stats.durations_ms.append(duration)
        if message is None or message[0] == "crashed":
            self._discard(env)
            with self._lock:
                self.stats.errors += 1
            if message is None:
                detail = f"Task timed out after {self.spec.timeout_seconds:.2f} seconds"
                return InvocationResult(self.spec.name, request_id, False, None, "Timeout", detail, duration)
            exit_code = env.process.exitcode
            detail = f"Runtime exited with error: exit status {exit_code}"
            return InvocationResult(self.spec.name, request_id, False, None, "RuntimeExited", detail, duration)
        env.invocations += 1
        with self._lock:
            if self._closed:
                self._discard(env)
            else:
                self._idle.append(env)
        status, payload, detail, started = message
        if status == "ok":
            return InvocationResult(self.spec.name, request_id, True, payload, None, None, duration, started)
        with self._lock:
            self.stats.errors += 1
        return InvocationResult(self.spec.name, request_id, False, None, payload, detail, duration, started)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for env in idle:
            env.conn.close()
            env.process.terminate()
            env.process.join(timeout=5)


class Environments:
    """All functions' pools: the local stand-in for the Lambda service."""

    def __init__(
        self, functions: dict[str, FunctionSpec], overrides: dict[str, str], log_dir: Path, default_limit: int = 4
    ) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir = log_dir
        base = {name: os.environ[name] for name in _INHERITED if name in os.environ}
        self.pools = {
            name: FunctionPool(
                spec,
                {
                    **base,
                    **spec.environment,
                    **overrides,
                    "AWS_LAMBDA_FUNCTION_NAME": spec.physical_name,
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
                },
                log_dir,
                spec.reserved_concurrency or default_limit,
            )
            for name, spec in functions.items()
        }

    def invoke(self, function: str, event: dict[str, Any]) -> InvocationResult:
        return self.pools[function].invoke(event)

    def close(self) -> None:
        for pool in self.pools.values():
            pool.close()
