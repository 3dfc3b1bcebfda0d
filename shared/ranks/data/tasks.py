"""rank_tasks: a check's DataForSEO tasks (one per keyword and day in the standard queue), their states and
costs (the tenant's spending), and the ``rank_check`` jobs they belong to.

A task's cost is recorded when it is posted: first the price it is expected to cost (a reservation, under
the tenant's budget lock, so two checks of one tenant never both pass the budget with the same dollars),
then what DataForSEO charged. A tenant's month is the sum of its tasks posted that month.
"""

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, func, select, text, update

from shared.db import TenantSession
from shared.jobs.models import JobKind
from shared.jobs.tables import Job
from shared.projects.tables import Keyword
from shared.ranks.tables import RankBudget, RankTask

BUDGET_LOCK_CLASS = 0x524B  # "RK": a tenant's rank budget (its posts and live checks)
_LOCK_TENANT = text("SELECT pg_advisory_xact_lock(:lock_class, hashtext(:tenant_id))")

STANDARD = "standard"
LIVE = "live"


@dataclass(frozen=True)
class TaskToPost:
    """A task with what DataForSEO needs of its keyword."""

    id: uuid.UUID
    keyword_id: uuid.UUID
    keyword: str
    locale: str
    country: str
    device: str
    depth: int


@dataclass(frozen=True)
class PostedTask:
    id: uuid.UUID
    keyword_id: uuid.UUID
    provider_task_id: str | None
    posted_at: dt.datetime
    cost: Decimal


@dataclass(frozen=True)
class TaskCounts:
    pending: int
    posted: int
    collected: int
    failed: int


def lock_budget(session: TenantSession) -> None:
    """Serialise the tenant's spending decisions until the transaction ends."""
    session.execute(_LOCK_TENANT, {"lock_class": BUDGET_LOCK_CLASS, "tenant_id": session.tenant_id})


def budget_of(session: TenantSession) -> RankBudget | None:
    return session.get(RankBudget, session.tenant_id)


def set_budget(session: TenantSession, *, monthly_budget_usd: Decimal, live_checks_per_day: int) -> None:
    budget = budget_of(session)
    if budget is None:
        session.add(
            RankBudget(
                tenant_id=session.tenant_id,
                monthly_budget_usd=monthly_budget_usd,
                live_checks_per_day=live_checks_per_day,
            )
        )
    else:
        budget.monthly_budget_usd = monthly_budget_usd
        budget.live_checks_per_day = live_checks_per_day
    session.flush()


def spent_since(session: TenantSession, since: dt.datetime) -> Decimal:
    """What the tenant's tasks posted since ``since`` cost (or are reserved to cost)."""
    total = session.scalar(
        select(func.coalesce(func.sum(RankTask.cost), 0)).where(
            RankTask.tenant_id == session.tenant_id, RankTask.posted_at >= since
        )
    )
    return Decimal(total or 0)


def live_checks_since(session: TenantSession, since: dt.datetime) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                RankTask.tenant_id == session.tenant_id, RankTask.mode == LIVE, RankTask.created_at >= since
            )
        )
        or 0
    )


# ---------------------------------------------------------------- jobs


def daily_job(session: TenantSession, project_id: uuid.UUID, check_date: dt.date) -> Job | None:
    """The project's daily check job of ``check_date`` (an earlier delivery of the day's post made it)."""
    return session.scalar(
        select(Job).where(
            Job.tenant_id == session.tenant_id,
            Job.project_id == project_id,
            Job.kind == JobKind.RANK_CHECK,
            Job.input["mode"].astext == STANDARD,
            Job.input["check_date"].astext == check_date.isoformat(),
        )
    )


# ---------------------------------------------------------------- creating tasks


def create_daily(
    session: TenantSession, project_id: uuid.UUID, check_date: dt.date, *, job_id: uuid.UUID, depth: int
) -> int:
    """One standard task per active keyword of the project and day; a keyword's existing task is kept."""
    result = session.execute(
        text(
            "INSERT INTO rank_tasks (tenant_id, project_id, keyword_id, check_date, mode, depth, job_id)"
            " SELECT k.tenant_id, k.project_id, k.id, :check_date, 'standard', :depth, :job_id FROM keywords k"
            " WHERE k.tenant_id = :tenant_id AND k.project_id = :project_id AND k.active"
            " ON CONFLICT (keyword_id, check_date) WHERE mode = 'standard' DO NOTHING"
        ),
        {
            "tenant_id": session.tenant_id,
            "project_id": project_id,
            "check_date": check_date,
            "depth": depth,
            "job_id": job_id,
        },
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def create_live(
    session: TenantSession,
    project_id: uuid.UUID,
    keyword_ids: Sequence[uuid.UUID],
    *,
    job_id: uuid.UUID,
    check_date: dt.date,
    depth: int,
) -> None:
    session.add_all(
        RankTask(
            tenant_id=session.tenant_id,
            project_id=project_id,
            keyword_id=keyword_id,
            check_date=check_date,
            mode=LIVE,
            depth=depth,
            job_id=job_id,
        )
        for keyword_id in keyword_ids
    )
    session.flush()


def project_keywords(
    session: TenantSession, project_id: uuid.UUID, keyword_ids: Sequence[uuid.UUID] | None
) -> list[uuid.UUID]:
    """The project's keywords among ``keyword_ids`` (every active one when None), in the given order."""
    stmt = select(Keyword.id).where(Keyword.tenant_id == session.tenant_id, Keyword.project_id == project_id)
    if keyword_ids is None:
        return list(session.scalars(stmt.where(Keyword.active).order_by(Keyword.created_at, Keyword.id)))
    found = set(session.scalars(stmt.where(Keyword.id.in_(keyword_ids))))
    return [keyword_id for keyword_id in dict.fromkeys(keyword_ids) if keyword_id in found]


# ---------------------------------------------------------------- posting


def _of_job(session: TenantSession, job_id: uuid.UUID) -> Select[RankTask]:
    return select(RankTask).where(RankTask.tenant_id == session.tenant_id, RankTask.job_id == job_id)


def pending(session: TenantSession, job_id: uuid.UUID) -> list[TaskToPost]:
    rows = session.execute(
        select(RankTask.id, RankTask.keyword_id, RankTask.depth, Keyword.text, Keyword.locale, Keyword.country)
        .add_columns(Keyword.device)
        .join(Keyword, Keyword.id == RankTask.keyword_id)
        .where(RankTask.tenant_id == session.tenant_id, RankTask.job_id == job_id, RankTask.status == "pending")
        .order_by(RankTask.id)
    ).all()
    return [
        TaskToPost(
            id=row.id,
            keyword_id=row.keyword_id,
            keyword=row.text,
            locale=row.locale,
            country=row.country,
            device=row.device,
            depth=row.depth,
        )
        for row in rows
    ]


def reserve(session: TenantSession, prices: Mapping[uuid.UUID, Decimal]) -> None:
    """Pending tasks become posted, at their expected price, before DataForSEO is called: a redelivery
    never posts them again (a task DataForSEO created but whose answer was lost is found by its tag)."""
    for task_id, price in prices.items():
        session.execute(
            update(RankTask)
            .where(RankTask.tenant_id == session.tenant_id, RankTask.id == task_id, RankTask.status == "pending")
            .values(status="posted", posted_at=func.now(), cost=price)
        )


def unreserve(session: TenantSession, task_ids: Sequence[uuid.UUID]) -> None:
    """Posted tasks DataForSEO certainly did not create (the call failed as a whole) are pending again."""
    session.execute(
        update(RankTask)
        .where(
            RankTask.tenant_id == session.tenant_id,
            RankTask.id.in_(task_ids),
            RankTask.status == "posted",
            RankTask.provider_task_id.is_(None),
        )
        .values(status="pending", posted_at=None, cost=0)
    )


def record_posted(session: TenantSession, task_id: uuid.UUID, provider_task_id: str, cost: Decimal) -> None:
    session.execute(
        update(RankTask)
        .where(RankTask.tenant_id == session.tenant_id, RankTask.id == task_id)
        .values(provider_task_id=provider_task_id, cost=cost)
    )


def fail(session: TenantSession, task_id: uuid.UUID, error: str, *, cost: Decimal | None = None) -> None:
    values: dict[str, object] = {"status": "failed", "error": error}
    if cost is not None:
        values["cost"] = cost
    session.execute(
        update(RankTask).where(RankTask.tenant_id == session.tenant_id, RankTask.id == task_id).values(**values)
    )


def fail_pending(session: TenantSession, job_id: uuid.UUID, error: str) -> int:
    result = session.execute(
        update(RankTask)
        .where(RankTask.tenant_id == session.tenant_id, RankTask.job_id == job_id, RankTask.status == "pending")
        .values(status="failed", error=error)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- collecting


def posted(session: TenantSession, job_id: uuid.UUID) -> list[PostedTask]:
    rows = session.scalars(_of_job(session, job_id).where(RankTask.status == "posted").order_by(RankTask.posted_at))
    return [
        PostedTask(
            id=row.id,
            keyword_id=row.keyword_id,
            provider_task_id=row.provider_task_id,
            posted_at=row.posted_at or dt.datetime.now(dt.UTC),
            cost=row.cost,
        )
        for row in rows
    ]


def mark_collected(session: TenantSession, task_id: uuid.UUID, *, provider_task_id: str, cost: Decimal) -> bool:
    """A posted task's result is stored; False when another delivery collected it first."""
    done = session.execute(
        update(RankTask)
        .where(RankTask.tenant_id == session.tenant_id, RankTask.id == task_id, RankTask.status == "posted")
        .values(status="collected", collected_at=func.now(), provider_task_id=provider_task_id, cost=cost)
        .returning(RankTask.id)
    ).first()
    return done is not None


def counts(session: TenantSession, job_id: uuid.UUID) -> TaskCounts:
    result = session.execute(
        select(RankTask.status, func.count())
        .where(RankTask.tenant_id == session.tenant_id, RankTask.job_id == job_id)
        .group_by(RankTask.status)
    )
    rows: dict[str, int] = {row[0]: row[1] for row in result}
    return TaskCounts(
        pending=rows.get("pending", 0),
        posted=rows.get("posted", 0),
        collected=rows.get("collected", 0),
        failed=rows.get("failed", 0),
    )


def task_for_keyword(session: TenantSession, job_id: uuid.UUID, keyword_id: uuid.UUID) -> RankTask | None:
    return session.scalar(_of_job(session, job_id).where(RankTask.keyword_id == keyword_id))


def get(session: TenantSession, task_id: uuid.UUID) -> RankTask | None:
    return session.scalar(select(RankTask).where(RankTask.tenant_id == session.tenant_id, RankTask.id == task_id))
