"""EventBridge schedules fired locally: an injectable clock, SQS and Lambda targets (expressions: tests/unit)."""

import json
import time
import uuid
from datetime import UTC, datetime

import pytest

from kestrel_local.model import ScheduleSpec
from kestrel_local.schedules import Scheduler
from tests.support.local_stack import REGION, FakeClock, clients

ACCOUNT = "123456789012"


def _at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _iso(moment: float | None) -> str:
    assert moment is not None
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M %a")


def _queue(sqs):
    url = sqs.create_queue(QueueName=f"schedule-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    return url


def _bodies(sqs, url):
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    return [m["Body"] for m in messages]


def test_a_cron_schedule_fires_the_scheduled_event_into_its_queue(moto):
    sqs = clients(moto.endpoint).sqs
    url = _queue(sqs)
    spec = ScheduleSpec(
        name="kestrel-local-nightly",
        expression="cron(0 5 * * ? *)",
        enabled=True,
        target_queue="NightlyQueue",
        target_function=None,
        input=None,
        arn=f"arn:aws:events:{REGION}:{ACCOUNT}:rule/kestrel-local-nightly",
    )
    clock = FakeClock(_at("2026-11-22 04:58:30"))
    scheduler = Scheduler(
        [spec], region=REGION, account_id=ACCOUNT, sqs=sqs, queue_urls={"NightlyQueue": url}, clock=clock
    )
    assert scheduler.tick() == []
    clock.advance(60)
    assert scheduler.tick() == []
    clock.advance(31)  # 05:00:01
    (firing,) = scheduler.tick()
    assert scheduler.tick() == []  # once per occurrence
    (body,) = _bodies(sqs, url)
    event = json.loads(body)
    assert event | {"id": None} == {
        "version": "0",
        "id": None,
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": "2026-11-22T05:00:00Z",
        "region": REGION,
        "resources": [spec.arn],
        "detail": {},
    }
    assert firing.payload == body
    assert _iso(scheduler.next_fire(spec.name)) == "2026-11-23 05:00 Mon"
    clock.advance(3 * 86400)  # the machine slept through two occurrences: one firing, not three
    assert len(scheduler.tick()) == 1
    assert _iso(scheduler.next_fire(spec.name)) == "2026-11-26 05:00 Thu"


def test_rate_schedules_inputs_lambda_targets_and_run_now(moto):
    sqs = clients(moto.endpoint).sqs
    url = _queue(sqs)
    invoked = []
    specs = [
        ScheduleSpec("every-5", "rate(5 minutes)", True, "Q", None, '{"kind": "rollup"}'),
        ScheduleSpec("hourly", "rate(1 hour)", True, None, "rollup", None),
        ScheduleSpec("off", "rate(1 minute)", False, None, "rollup", '{"manual": true}'),
    ]
    clock = FakeClock(_at("2026-11-22 06:00:10"))
    scheduler = Scheduler(
        specs,
        region=REGION,
        account_id=ACCOUNT,
        sqs=sqs,
        queue_urls={"Q": url},
        invoke=lambda function, event: invoked.append((function, event)),
        clock=clock,
    )
    clock.advance(299)
    assert scheduler.tick() == []
    clock.advance(1)
    assert [f.schedule for f in scheduler.tick()] == ["every-5"]
    assert _bodies(sqs, url) == ['{"kind": "rollup"}']  # the target's Input, verbatim
    clock.advance(3300)
    assert sorted(f.schedule for f in scheduler.tick()) == ["every-5", "hourly"]
    ((function, event),) = invoked
    assert function == "rollup"
    assert event["detail-type"] == "Scheduled Event"
    assert scheduler.next_fire("off") is None  # disabled: never fires on its own
    scheduler.run_now("off")
    assert invoked[-1] == ("rollup", {"manual": True})
    with pytest.raises(KeyError, match="no schedule named"):
        scheduler.run_now("missing")


def test_the_scheduler_thread_fires_on_the_real_clock(moto):
    sqs = clients(moto.endpoint).sqs
    url = _queue(sqs)
    clock = FakeClock(0.0)
    spec = ScheduleSpec("soon", "rate(1 minute)", True, "Q", None, "tick")
    scheduler = Scheduler([spec], region=REGION, account_id=ACCOUNT, sqs=sqs, queue_urls={"Q": url}, clock=clock,
                          poll_seconds=0.05)  # fmt: skip
    scheduler.start()
    try:
        clock.advance(60)
        for _ in range(100):
            if _bodies(sqs, url):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the scheduler thread did not fire")
    finally:
        scheduler.stop()
