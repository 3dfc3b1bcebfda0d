"""rank_check: the daily schedule's fan-out, a project's daily check (post, then collects), on-demand live checks."""

from shared.ranks import checks
from shared.ranks.checks import RankUnit
from shared.ranks.models import RankCheckMessage
from shared.runtime.worker import Worker
from shared.settings import Database, DataForSeo, RankCheckQueue, RankChecks, ScreenshotQueue

worker: Worker[RankUnit, RankUnit] = Worker(
    "rank_check",
    RankCheckMessage,
    checks.handle,
    idempotency=checks.rule_for,
    settings=(Database, DataForSeo, RankChecks, RankCheckQueue, ScreenshotQueue),
)
handler = worker.lambda_handler()
