"""On-demand rank checks (``POST /v1/projects/{project_id}/rank-checks``): a ``rank_check`` job of the asked
keywords through DataForSEO's ``live/advanced``, within the tenant's daily limit of on-demand checks.

A day's checks are counted from the tenant's live tasks created since 00:00 UTC, under the tenant's budget
lock, so two requests never both pass the limit. Each keyword checked counts once.
"""

import datetime as dt
import uuid

from shared import dates
from shared.auth import Principal
from shared.errors import InvalidRequest, LimitReached, NotFound
from shared.jobs.data import jobs
from shared.jobs.models import JobKind, JobOut
from shared.projects.data import projects
from shared.ranks import enqueue
from shared.ranks.data import tasks
from shared.ranks.data.tasks import LIVE
from shared.ranks.models import RankCheckIn
from shared.settings import RankChecks, settings_of
from shared.tenancy.scope import tenant_scope


def request(principal: Principal, project_id: uuid.UUID, body: RankCheckIn) -> JobOut:
    settings = settings_of(RankChecks)
    now = dt.datetime.now(dt.UTC)
    with tenant_scope(principal) as session:
        project = projects.get(session, project_id)
        keyword_ids = tasks.project_keywords(session, project_id, body.keyword_ids)
        if body.keyword_ids is not None and len(keyword_ids) < len(set(body.keyword_ids)):
            missing = next(k for k in body.keyword_ids if k not in set(keyword_ids))
            raise NotFound(f"Keyword {missing} does not exist in project {project_id}.")
        if not keyword_ids:
            raise InvalidRequest("The project has no active keyword to check.", field="keyword_ids")
        if len(keyword_ids) > settings.rank_live_max_keywords:
            raise InvalidRequest(
                f"At most {settings.rank_live_max_keywords} keywords can be checked on demand at once "
                f"({len(keyword_ids)} asked): pass `keyword_ids`.",
                field="keyword_ids",
            )
        tasks.lock_budget(session)
        budget = tasks.budget_of(session)
        limit = budget.live_checks_per_day if budget is not None else settings.rank_live_checks_per_day
        used = tasks.live_checks_since(session, now.replace(hour=0, minute=0, second=0, microsecond=0))
        if used + len(keyword_ids) > limit:
            tomorrow = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
            raise LimitReached(
                f"The daily limit of {limit} on-demand keyword checks is reached: {used} used today, "
                f"{len(keyword_ids)} asked. It resets at 00:00 UTC; the daily check runs anyway.",
                limit=limit,
                used=used,
                retry_after=int((tomorrow - now).total_seconds()),
            )
        today = dates.utc_today()
        job = jobs.create(
            session,
            kind=JobKind.RANK_CHECK,
            project_id=project_id,
            input={"mode": LIVE, "check_date": today.isoformat(), "keyword_ids": [str(k) for k in keyword_ids]},
            created_by=principal.subject,
        )
        tasks.create_live(session, project_id, keyword_ids, job_id=job.id, check_date=today, depth=project.rank_depth)
        out = JobOut.model_validate(jobs.get(session, job.id))
    enqueue.live(principal.tenant_id, out.id)
    return out
