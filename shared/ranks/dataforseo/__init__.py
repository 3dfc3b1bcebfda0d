"""DataForSEO's SERP API (Google organic): the typed httpx client and its models. See ``client`` for the errors."""

from shared.ranks.dataforseo.client import (
    MAX_TASKS_PER_POST,
    DataForSeoClient,
    DataForSeoTaskError,
    MaybeCarriedOut,
    NoSerpResults,
    TaskNotReady,
    UnparseableSerp,
    dataforseo_client,
    forget_client,
)
from shared.ranks.dataforseo.models import (
    FEATURE_TYPES,
    KNOWN_ITEM_TYPES,
    PostedTask,
    ReadyTask,
    SerpItem,
    SerpResult,
    SerpTaskIn,
)

__all__ = [
    "FEATURE_TYPES",
    "KNOWN_ITEM_TYPES",
    "MAX_TASKS_PER_POST",
    "DataForSeoClient",
    "DataForSeoTaskError",
    "MaybeCarriedOut",
    "NoSerpResults",
    "PostedTask",
    "ReadyTask",
    "SerpItem",
    "SerpResult",
    "SerpTaskIn",
    "TaskNotReady",
    "UnparseableSerp",
    "dataforseo_client",
    "forget_client",
]
