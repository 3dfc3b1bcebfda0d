"""The rank_check worker: the daily schedule, a project's post and collects, and on-demand live checks.

A check is a ``rank_check`` job. The daily one of a project is found by its date (a redelivered post finds
the job and the tasks an earlier delivery made); its tasks, one per active keyword and day, are posted to
DataForSEO's standard queue 100 a call, each task's ``tag`` its ``rank_tasks`` id. Collects read
``tasks_ready`` (DataForSEO's list of the last three days' completed tasks not collected yet) and fetch each
of the job's tasks listed there, by its recorded id or, when the post's answer was lost, by its tag; a
known task missing from the list after ``_REFETCH_AFTER`` is fetched directly (its result was read but not
stored). Each result is stored with every item, the task marked collected and its cost recorded, in one
transaction; serp_screenshot is then sent the snapshots. A task DataForSEO cannot answer (no results, an
unparseable result, a refused field) fails alone, as an error of the job naming the keyword: never position
0. The job ends once no task is left posted.

Spending is checked before anything is posted: the month's recorded costs and the price of what is about to
be posted must fit the tenant's monthly budget, else nothing is posted and the job fails saying so.
"""

import datetime as dt
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

from shared import dates
from shared.db import TenantSession, system_transaction, tenant_transaction
from shared.errors import PermanentError
from shared.jobs import lifecycle
from shared.jobs.data import jobs
from shared.jobs.models import LIVE_STATUSES, JobErrors, JobKind, JobStatus
from shared.observability import logger
from shared.ranks import countries, enqueue, serp
from shared.ranks.data import schedule as schedule_data
from shared.ranks.data import snapshots, tasks
from shared.ranks.data.tasks import LIVE, STANDARD, TaskToPost
from shared.ranks.dataforseo import (
    MAX_TASKS_PER_POST,
    MaybeCarriedOut,
    SerpResult,
    SerpTaskIn,
    TaskNotReady,
    dataforseo_client,
)
from shared.ranks.models import (
    CollectRanksMessage,
    LiveRanksMessage,
    PostRanksMessage,
    RankCheckMessage,
    ScheduleRanksMessage,
)
from shared.runtime.work import ByConstruction, RunOnce, Work
from shared.settings import RankChecks, settings_of

LEASE = dt.timedelta(minutes=6)  # longer than the function's 300 s: live work is never taken over
SCHEDULED_BY = "schedule"
_REFETCH_AFTER = dt.timedelta(minutes=30)

RankUnit = ScheduleRanksMessage | PostRanksMessage | CollectRanksMessage | LiveRanksMessage


def rule_for(unit: RankUnit) -> RunOnce | ByConstruction:
    if isinstance(unit, ScheduleRanksMessage):
        return ByConstruction("each project's post it sends runs once per project and day")
    if isinstance(unit, PostRanksMessage):
        return RunOnce(unit.tenant_id, f"rank_post:{unit.project_id}:{unit.check_date.isoformat()}", lease=LEASE)
    if isinstance(unit, CollectRanksMessage):
        return RunOnce(unit.tenant_id, f"rank_collect:{unit.job_id}:{unit.attempt}", lease=LEASE)
    return RunOnce(unit.tenant_id, f"rank_live:{unit.job_id}", lease=LEASE)


def handle(message: RankCheckMessage, work: Work) -> None:
    if isinstance(message, ScheduleRanksMessage):
        schedule()
    elif isinstance(message, PostRanksMessage):
        post(message)
    elif isinstance(message, CollectRanksMessage):
        collect(message)
    else:
        live(message)


# ---------------------------------------------------------------- the daily schedule


def schedule(today: dt.date | None = None) -> int:
    """One ``post`` per project with active keywords, for today (UTC)."""
    day = today or dates.utc_today()
    with system_transaction() as session:
        targets = schedule_data.rank_projects(session)
    enqueue.posts([(target.tenant_id, target.project_id) for target in targets], day)
    logger.info("Daily rank checks sent", extra={"projects": len(targets), "date": day.isoformat()})
    return len(targets)


# ---------------------------------------------------------------- spending


def month_start(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def day_start(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _usd(amount: Decimal) -> str:
    return f"${amount.quantize(Decimal('0.01'))}" if amount >= 1 else f"${amount.normalize():f}"


def budget_reached(budget: Decimal, spent: Decimal, needed: Decimal, checks: int) -> str:
    return (
        f"Monthly DataForSEO budget of {_usd(budget)} reached ({_usd(spent)} spent this month; these "
        f"{checks} keyword check{'s' if checks != 1 else ''} would cost {_usd(needed)} more). Nothing was posted: "
        "raise the tenant's budget or wait for next month."
    )


@dataclass(frozen=True)
class Planned:
    task: TaskToPost
    task_in: SerpTaskIn
    price: Decimal


def _reserve(tenant_id: str, job_id: uuid.UUID, *, mode: str) -> list[Planned] | None:
    """The job's pending tasks, reserved at their price within the tenant's monthly budget.

    None when the budget does not allow them: nothing was posted, the tasks and the job have failed.
    Tasks whose keyword cannot be checked (a country DataForSEO has no location for) fail alone.
    """
    settings = settings_of(RankChecks)
    base = settings.rank_live_price_usd if mode == LIVE else settings.rank_standard_price_usd
    with tenant_transaction(tenant_id) as session:
        tasks.lock_budget(session)
        planned: list[Planned] = []
        errors = JobErrors()
        for task in tasks.pending(session, job_id):
            try:
                location = countries.location_code(task.country)
            except ValueError as exc:
                reason = f"The keyword's country cannot be checked: {exc}"
                tasks.fail(session, task.id, reason)
                errors.add_keyword(task.keyword_id, reason)
                continue
            task_in = SerpTaskIn(
                tag=str(task.id),
                keyword=task.keyword,
                location_code=location,
                language_code=serp.language_code(task.locale),
                device="mobile" if task.device == "mobile" else "desktop",
                depth=task.depth,
            )
            price = serp.task_price(task.depth, base, settings.rank_extra_page_factor)
            planned.append(Planned(task, task_in, price))
        lifecycle.add_errors(session, job_id, errors)
        if not planned:
            return []
        budget_row = tasks.budget_of(session)
        budget = budget_row.monthly_budget_usd if budget_row is not None else settings.rank_monthly_budget_usd
        now = dt.datetime.now(dt.UTC)
        spent = tasks.spent_since(session, month_start(now))
        needed = sum((plan.price for plan in planned), Decimal(0))
        if spent + needed > budget:
            reason = budget_reached(budget, spent, needed, len(planned))
            tasks.fail_pending(session, job_id, reason)
            lifecycle.fail(session, job_id, reason)
            logger.warning("Rank check over budget", extra={"job_id": str(job_id), "spent": str(spent)})
            return None
        tasks.reserve(session, {plan.task.id: plan.price for plan in planned})
    return planned


# ---------------------------------------------------------------- a project's daily check: post


def post(message: PostRanksMessage) -> None:
    tenant_id, project_id, day = message.tenant_id, message.project_id, message.check_date
    with tenant_transaction(tenant_id) as session:
        depth = snapshots.project_depth(session, project_id)
        if depth is None:
            return  # the project was deleted since the schedule listed it
        job = tasks.daily_job(session, project_id, day)
        if job is None:
            job = jobs.create(
                session,
                kind=JobKind.RANK_CHECK,
                project_id=project_id,
                input={"mode": STANDARD, "check_date": day.isoformat()},
                created_by=SCHEDULED_BY,
            )
        if JobStatus(job.status) not in LIVE_STATUSES:
            return
        job_id = job.id
        jobs.mark_started(session, job_id)
        tasks.create_daily(session, project_id, day, job_id=job_id, depth=depth)
    planned = _reserve(tenant_id, job_id, mode=STANDARD)
    if planned is None:
        return
    posted = refused = 0
    client = dataforseo_client()
    for start in range(0, len(planned), MAX_TASKS_PER_POST):
        batch = planned[start : start + MAX_TASKS_PER_POST]
        try:
            answers = client.post_tasks([plan.task_in for plan in batch])
        except MaybeCarriedOut:
            # No answer to a call DataForSEO may have carried out: this batch stays posted (without ids, found
            # by their tags in tasks_ready if created, failed at no cost after three days if not), so it is
            # never paid twice; the batches after it are posted by the redelivery.
            with tenant_transaction(tenant_id) as session:
                tasks.unreserve(session, [plan.task.id for plan in planned[start + len(batch) :]])
            raise
        except Exception:
            # Refused as a whole (a 50000 answer, a wrong login): DataForSEO created none of this batch's
            # tasks, so they and the batches after it are posted by the redelivery.
            with tenant_transaction(tenant_id) as session:
                tasks.unreserve(session, [plan.task.id for plan in planned[start:]])
            raise
        by_tag = {plan.task_in.tag: plan for plan in batch}
        errors = JobErrors()
        with tenant_transaction(tenant_id) as session:
            for answer in answers:
                plan = by_tag.get(answer.tag)
                if plan is None:
                    continue
                if answer.created and answer.task_id is not None:
                    tasks.record_posted(session, plan.task.id, answer.task_id, answer.cost)
                    posted += 1
                elif answer.status_code:
                    reason = f"DataForSEO refused the check: {answer.status_code} {answer.status_message}"
                    tasks.fail(session, plan.task.id, reason, cost=Decimal(0))
                    errors.add_keyword(plan.task.keyword_id, reason)
                    refused += 1
                # no answer for the task: it stays posted without an id, and a collect finds it by its tag
            lifecycle.add_errors(session, job_id, errors)
    with tenant_transaction(tenant_id) as session:
        lifecycle.report_progress(
            session, job_id, percent=10, counters={"keywords": len(planned), "posted": posted, "refused": refused}
        )
    logger.info("Rank checks posted", extra={"job_id": str(job_id), "posted": posted, "refused": refused})
    if not _finish_if_done(tenant_id, job_id):
        enqueue.collect(tenant_id, job_id, attempt=1, delay_seconds=settings_of(RankChecks).rank_collect_delay_seconds)


# ---------------------------------------------------------------- collect


def collect(message: CollectRanksMessage, *, now: Callable[[], dt.datetime] | None = None) -> None:
    tenant_id, job_id = message.tenant_id, message.job_id
    settings = settings_of(RankChecks)
    clock = now or (lambda: dt.datetime.now(dt.UTC))
    with tenant_transaction(tenant_id) as session:
        job = jobs.get(session, job_id, kind=JobKind.RANK_CHECK)
        if JobStatus(job.status) not in LIVE_STATUSES:
            return
        waiting = tasks.posted(session, job_id)
    client = dataforseo_client()
    more_ready = False
    if waiting:
        ready = client.tasks_ready()
        ready_ids = {task.task_id for task in ready}
        ready_by_tag = {task.tag: task.task_id for task in ready if task.tag}
        to_fetch: list[tuple[tasks.PostedTask, str]] = []
        for task in waiting:
            if task.provider_task_id is not None and (
                task.provider_task_id in ready_ids or clock() - task.posted_at > _REFETCH_AFTER
            ):
                to_fetch.append((task, task.provider_task_id))
            elif task.provider_task_id is None and str(task.id) in ready_by_tag:
                to_fetch.append((task, ready_by_tag[str(task.id)]))  # its post's answer was lost: found by tag
        more_ready = len(to_fetch) > settings.rank_collect_batch
        stored: list[uuid.UUID] = []
        project_id = job.project_id
        for task, provider_task_id in to_fetch[: settings.rank_collect_batch]:
            try:
                result = client.task_get_advanced(provider_task_id)
            except TaskNotReady:
                continue
            except PermanentError as exc:  # no results, unparseable, refused: this keyword's check failed
                _fail_task(tenant_id, job_id, task.id, task.keyword_id, exc.detail)
                continue
            snapshot_id = _store(tenant_id, task.id, task.keyword_id, provider_task_id, result)
            if snapshot_id is not None:
                stored.append(snapshot_id)
        if stored and project_id is not None:
            enqueue.screenshots(tenant_id, project_id, stored)
        _expire(tenant_id, job_id, clock() - dt.timedelta(days=settings.rank_task_max_age_days))
    if not _finish_if_done(tenant_id, job_id):
        delay = 0 if more_ready else min(900, settings.rank_collect_delay_seconds * message.attempt)
        enqueue.collect(tenant_id, job_id, attempt=message.attempt + 1, delay_seconds=delay)


def _fail_task(tenant_id: str, job_id: uuid.UUID, task_id: uuid.UUID, keyword_id: uuid.UUID, reason: str) -> None:
    errors = JobErrors()
    errors.add_keyword(keyword_id, reason)
    with tenant_transaction(tenant_id) as session:
        tasks.fail(session, task_id, reason)
        lifecycle.add_errors(session, job_id, errors)


def _expire(tenant_id: str, job_id: uuid.UUID, before: dt.datetime) -> None:
    """Tasks posted before ``before`` and never collected fail (DataForSEO lists three days of them).

    One without an id was never created at DataForSEO (it would have been listed by its tag): it cost nothing.
    """
    errors = JobErrors()
    with tenant_transaction(tenant_id) as session:
        for task in tasks.posted(session, job_id):
            if task.posted_at >= before:
                continue
            reason = "DataForSEO did not return this check's result within the days it keeps results ready."
            tasks.fail(session, task.id, reason, cost=None if task.provider_task_id else Decimal(0))
            errors.add_keyword(task.keyword_id, reason)
        lifecycle.add_errors(session, job_id, errors)


def _finish_if_done(tenant_id: str, job_id: uuid.UUID) -> bool:
    """End the job once none of its tasks waits; True when it has ended (or had)."""
    with tenant_transaction(tenant_id) as session:
        job = jobs.get(session, job_id, for_update=True)
        if JobStatus(job.status) not in LIVE_STATUSES:
            return True
        counts = tasks.counts(session, job_id)
        if counts.pending or counts.posted:
            return False
        counters = dict(job.counters or {}) | {"collected": counts.collected, "failed": counts.failed}
        if counts.collected == 0:
            lifecycle.fail(
                session,
                job_id,
                "No keyword could be checked (see the job's errors)." if counts.failed else "No active keyword.",
                counters=counters,
            )
        else:
            lifecycle.finish(
                session, job_id, lifecycle.Outcome(succeeded=counts.collected, failed=counts.failed), counters=counters
            )
    return True


# ---------------------------------------------------------------- storing a result


def _store(
    tenant_id: str,
    task_id: uuid.UUID,
    keyword_id: uuid.UUID,
    provider_task_id: str,
    result: SerpResult,
) -> uuid.UUID | None:
    """The result as the keyword's snapshot of the day with every item, the task collected: one transaction.

    None when another delivery collected the task first (nothing is written).
    """
    with tenant_transaction(tenant_id) as session:
        task = tasks.get(session, task_id)
        if task is None or task.status != "posted":
            return None
        checked = snapshots.checked_keywords(session, [keyword_id]).get(keyword_id)
        if checked is None:
            return None  # the keyword was deleted: its task went with it
        snapshot_id = store_result(session, checked, task.check_date, task.depth, task_id, result)
        cost = result.cost if result.cost > 0 else task.cost
        tasks.mark_collected(session, task_id, provider_task_id=provider_task_id, cost=cost)
    return snapshot_id


def snapshot_values(
    checked: snapshots.CheckedKeyword, check_date: dt.date, depth: int, task_id: uuid.UUID | None, result: SerpResult
) -> tuple[dict[str, object], list[dict[str, object]]]:
    """The snapshot row and its item rows of a result (pure)."""
    summary = serp.summarize(result, checked.domain)
    snapshot: dict[str, object] = {
        "project_id": checked.project_id,
        "keyword_id": checked.keyword_id,
        "check_date": check_date,
        "device": result.device,
        "location_code": result.location_code,
        "language_code": result.language_code,
        "depth": depth,
        "rank_task_id": task_id,
        "provider_task_id": result.task_id,
        "check_url": result.check_url,
        "fetched_at": result.datetime,
        "se_results_count": result.se_results_count,
        "items_count": len(result.items),
        "item_types": list(dict.fromkeys(result.item_types or [item.type for item in result.items])),
        "position": summary.position,
        "rank_absolute": summary.rank_absolute,
        "url": summary.url,
        "features_present": summary.features_present,
        "features_owned": summary.features_owned,
    }
    items: list[dict[str, object]] = [
        {
            "item_index": index,
            "type": item.type,
            "rank_group": item.rank_group,
            "rank_absolute": item.rank_absolute,
            "domain": item.domain,
            "url": item.url,
            "title": item.title,
            "description": item.description,
            "known": item.known,
            "raw": None if item.known else item.raw,
        }
        for index, item in enumerate(result.items)
    ]
    return snapshot, items


def store_result(
    session: TenantSession,
    checked: snapshots.CheckedKeyword,
    check_date: dt.date,
    depth: int,
    task_id: uuid.UUID | None,
    result: SerpResult,
) -> uuid.UUID:
    snapshot, items = snapshot_values(checked, check_date, depth, task_id, result)
    return snapshots.store(session, snapshot, items)


# ---------------------------------------------------------------- on-demand: live


def live(message: LiveRanksMessage) -> None:
    tenant_id, job_id = message.tenant_id, message.job_id
    settings = settings_of(RankChecks)
    with tenant_transaction(tenant_id) as session:
        job = jobs.get(session, job_id, kind=JobKind.RANK_CHECK)
        if JobStatus(job.status) not in LIVE_STATUSES:
            return
        jobs.mark_started(session, job_id)
        project_id = job.project_id
    planned = _reserve(tenant_id, job_id, mode=LIVE)
    if planned is None:
        return
    client = dataforseo_client()
    stored: list[uuid.UUID] = []
    unfinished: list[uuid.UUID] = []
    first_transient: Exception | None = None

    def check(plan: Planned) -> SerpResult | Exception:
        try:
            return client.live_advanced(plan.task_in)
        except Exception as exc:  # handed back to the loop below, which classifies it
            return exc

    with ThreadPoolExecutor(max_workers=settings.rank_live_parallel) as pool:
        for plan, outcome in zip(planned, pool.map(check, planned), strict=True):
            if isinstance(outcome, PermanentError):
                _fail_task(tenant_id, job_id, plan.task.id, plan.task.keyword_id, outcome.detail)
            elif isinstance(outcome, Exception):
                unfinished.append(plan.task.id)
                first_transient = first_transient or outcome
            else:
                snapshot_id = _store(tenant_id, plan.task.id, plan.task.keyword_id, outcome.task_id, outcome)
                if snapshot_id is not None:
                    stored.append(snapshot_id)
    if stored and project_id is not None:
        enqueue.screenshots(tenant_id, project_id, stored)
    if first_transient is not None:
        # Checks that did not answer are pending again, for the redelivery; those that answered are kept.
        with tenant_transaction(tenant_id) as session:
            tasks.unreserve(session, unfinished)
        raise first_transient
    _finish_if_done(tenant_id, job_id)
