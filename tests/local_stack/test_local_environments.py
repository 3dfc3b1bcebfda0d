"""Execution environments behave like Lambda's: isolated, warm, replaced after a timeout or a crash."""

import os
import threading

import pytest

from kestrel_local.environments import Environments
from kestrel_local.model import FunctionSpec


def spec(name: str, handler: str, *, timeout: int = 10, reserved: int | None = None) -> FunctionSpec:
    return FunctionSpec(
        name=name,
        logical_id=f"{name.title()}LambdaFunction",
        physical_name=f"kestrel-local-{name}",
        handler=f"tests/support/handlers.{handler}",
        timeout_seconds=timeout,
        memory_mb=256,
        environment={"KESTREL_STAGE": "local", "KESTREL_FLAVOUR": name},
        reserved_concurrency=reserved,
    )


@pytest.fixture
def environments(tmp_path):
    os.environ["SECRET_OF_THE_TEST_RUNNER"] = "must not leak"
    envs = Environments(
        {
            "echo": spec("echo", "echo"),
            "sleepy": spec("sleepy", "sleep", timeout=1, reserved=2),
            "failing": spec("failing", "fail"),
            "crashing": spec("crashing", "crash"),
        },
        overrides={"AWS_ENDPOINT_URL": "http://127.0.0.1:1"},
        log_dir=tmp_path / "logs",
    )
    yield envs
    envs.close()
    del os.environ["SECRET_OF_THE_TEST_RUNNER"]


def test_environment_is_warm_isolated_and_gets_a_context(environments):
    first = environments.invoke("echo", {"n": 1})
    second = environments.invoke("echo", {"n": 2})
    assert first.ok
    assert second.ok
    assert first.response["pid"] == second.response["pid"] != os.getpid()
    assert second.response["event"] == {"n": 2}
    assert second.response["function_name"] == "kestrel-local-echo"
    assert 0 < second.response["remaining_ms"] <= 10_000
    assert second.response["request_id"] == second.request_id
    assert second.response["environment"] == {
        "KESTREL_STAGE": "local",
        "KESTREL_FLAVOUR": "echo",
        "AWS_LAMBDA_FUNCTION_NAME": "kestrel-local-echo",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    }
    assert environments.pools["echo"].stats.environments_started == 1


def test_a_timeout_kills_the_environment_and_the_next_call_gets_a_new_one(environments):
    first = environments.invoke("sleepy", {"seconds": 0})
    timed_out = environments.invoke("sleepy", {"seconds": 5})
    assert timed_out.ok is False
    assert timed_out.error_type == "Timeout"
    assert "timed out after 1.00 seconds" in (timed_out.error_message or "")
    after = environments.invoke("sleepy", {"seconds": 0})
    assert after.ok
    assert after.response["pid"] != first.response["pid"]
    stats = environments.pools["sleepy"].stats
    assert stats.errors == 1
    assert stats.environments_replaced == 1


def test_handler_exceptions_keep_the_environment_but_crashes_replace_it(environments):
    failed = environments.invoke("failing", {"message": "bad input"})
    assert (failed.ok, failed.error_type, failed.error_message) == (False, "ValueError", "bad input")
    crashed = environments.invoke("crashing", {})
    assert crashed.error_type == "RuntimeExited"
    assert "exit status 3" in (crashed.error_message or "")
    assert environments.pools["failing"].stats.environments_replaced == 0
    assert environments.pools["crashing"].stats.environments_replaced == 1
    log = (environments.log_dir / "failing.log").read_text()
    assert "ValueError: bad input" in log


def test_concurrency_never_exceeds_the_reserved_limit(environments):
    results = []

    def call():
        results.append(environments.invoke("sleepy", {"seconds": 0.3}))

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(result.ok for result in results)
    spans = sorted((r.response["started"], r.response["ended"]) for r in results)
    most_at_once = max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)
    assert most_at_once <= 2
    assert environments.pools["sleepy"].stats.peak_in_use == 2
    assert len({r.response["pid"] for r in results}) == 2
