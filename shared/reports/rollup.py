"""The rollup: keeps the aggregates reports read in step with ``gsc_rows``.

A load that changed rows queues its days in ``gsc_rollup_pending`` inside its
own transaction (the outbox), then asks for a rollup of the property a few
seconds later (``request_rollup``), so that the chunks of one sync share one
rollup. ``rollup_property`` takes the pending days and rebuilds their
aggregates, a few whole weeks per transaction: a message repeated, late or
lost is harmless, as the pending rows say what is left to do. The nightly
``sweep`` asks again for every property that still has pending days (a lost
request, a failed send).
"""

import datetime as dt
import time
import uuid
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from shared import aws
from shared.dates import week_start
from shared.db import system_transaction, tenant_transaction
from shared.observability import logger
from shared.reports.data import rollups
from shared.reports.models.rollup import RollupPropertyMessage, RollupSweepMessage
from shared.runtime.work import Work
from shared.settings import RollupQueue, settings_of

# Eight weeks of a large property (~16,000 rows a day) rebuild in about ten seconds.
MAX_WEEKS_PER_TRANSACTION = 8
# Well within the function's 300 s timeout: the last batch started before it runs to its end.
TIME_BUDGET_SECONDS = 120.0


@dataclass(frozen=True)
class RollupResult:
    """How many days and ISO weeks were rebuilt (zero and zero: nothing was pending)."""

    days: int
    weeks: int
    last_day: dt.date | None = field(default=None, compare=False)  # the latest day rebuilt


def request_rollup(tenant_id: str, property_id: uuid.UUID) -> bool:
    """Ask for a rollup of the property after the configured delay; False when it could not be sent.

    Called after the load committed. A failed send is only logged: the days are pending in the database,
    and the nightly sweep asks for them.
    """
    settings = settings_of(RollupQueue)
    body = RollupPropertyMessage(tenant_id=tenant_id, property_id=property_id).model_dump_json()
    try:
        aws.client("sqs").send_message(
            QueueUrl=settings.rollup_queue_url, MessageBody=body, DelaySeconds=settings.rollup_delay_seconds
        )
    except (ClientError, BotoCoreError):
        logger.warning(
            "Rollup request not sent; the nightly sweep will ask for it",
            exc_info=True,
            extra={"tenant_id": tenant_id, "property_id": str(property_id)},
        )
        return False
    return True


def rollup_property(tenant_id: str, property_id: uuid.UUID) -> RollupResult:
    """Rebuild the aggregates of the property's pending days, and of their weeks.

    A few weeks per transaction (a backlog of months, as after a long backfill or the migration that
    queued every loaded day, would otherwise hold one transaction and its statements for minutes), until
    nothing is pending or the time budget is spent; then the rest is asked for again.
    """
    started = time.monotonic()
    days = weeks = 0
    last_day: dt.date | None = None
    while batch := _rollup_weeks(tenant_id, property_id):
        days += batch.days
        weeks += batch.weeks
        last_day = max(filter(None, (last_day, batch.last_day)), default=None)
        if time.monotonic() - started > TIME_BUDGET_SECONDS:
            logger.info(
                "Rollup time budget spent; the rest is asked for again",
                extra={"tenant_id": tenant_id, "property_id": str(property_id), "days": days},
            )
            request_rollup(tenant_id, property_id)
            return RollupResult(days=days, weeks=weeks, last_day=last_day)
    if last_day is not None:
        _rebuild_preset_ranges(tenant_id, property_id, last_day)
    return RollupResult(days=days, weeks=weeks, last_day=last_day)


def _rebuild_preset_ranges(tenant_id: str, property_id: uuid.UUID, last_changed: dt.date) -> None:
    """Once the pending days are done: the preset ranges (last 7 / 28 / 90 days and the ones before) anew."""
    with tenant_transaction(tenant_id) as session:
        if not rollups.lock_property(session, property_id):
            return
        built = rollups.rebuild_preset_ranges(session, property_id, last_changed=last_changed)
    logger.info(
        "Preset ranges rebuilt", extra={"tenant_id": tenant_id, "property_id": str(property_id), "ranges": built}
    )


def _rollup_weeks(tenant_id: str, property_id: uuid.UUID) -> RollupResult | None:
    """One transaction: the pending days of the first few pending weeks; None when nothing is pending."""
    context = {"tenant_id": tenant_id, "property_id": str(property_id)}
    with tenant_transaction(tenant_id) as session:
        # A deleted property took its pending days with it (foreign key cascade): nothing to do.
        if not rollups.lock_property(session, property_id):
            logger.info("Rollup skipped: the property does not exist", extra=context)
            return None
        days = rollups.take_pending(session, property_id, max_weeks=MAX_WEEKS_PER_TRANSACTION)
        if not days:
            return None
        weeks = sorted({week_start(day) for day in days})
        rollups.rebuild_days(session, property_id, days)
        rollups.rebuild_weeks(session, property_id, weeks)
    logger.info(
        "Rollup done",
        extra=context | {"days": len(days), "weeks": len(weeks), "first": str(days[0]), "last": str(days[-1])},
    )
    return RollupResult(days=len(days), weeks=len(weeks), last_day=days[-1])


def sweep() -> int:
    """Ask for a rollup of every property, of any tenant, with pending days; returns how many were asked for."""
    queue_url = settings_of(RollupQueue).rollup_queue_url
    with system_transaction() as session:
        targets = rollups.backlog(session)
    bodies = [
        RollupPropertyMessage(tenant_id=target.tenant_id, property_id=target.property_id).model_dump_json()
        for target in targets
    ]
    aws.send_message_batches(queue_url, bodies)
    logger.info("Rollup sweep", extra={"properties": len(bodies)})
    return len(bodies)


def run(message: RollupPropertyMessage | RollupSweepMessage, work: Work) -> None:
    """The rollup worker's unit of work: one property's pending days, or the nightly sweep."""
    if isinstance(message, RollupSweepMessage):
        sweep()
    else:
        rollup_property(message.tenant_id, message.property_id)
