"""A local DataForSEO SERP API (Google organic) over deterministic SERPs of the demo world.

- ``serp``: the SERPs: the demo properties' pages where the Search Console stand-in ranks them, the
  competitor cast (``kestrel_local.demo_site.competitors``) around them, SERP features, and their HTML;
- ``server``: ``DataForSeoServer``, the documented contract (basic auth, ``task_post``, ``tasks_ready``,
  ``task_get/advanced``, ``task_get/html``, ``live/advanced``, status codes, costs) on one port.

Failure switches, for tests and for trying the worker by hand: a task whose keyword contains

- ``kestrel-no-results`` completes with ``40102 "No Search Results."``;
- ``kestrel-error-once`` answers its first ``task_get`` (or the keyword's first ``live/advanced`` call) with a
  task-level ``50000 "Internal Error."``, then the SERP;
- ``kestrel-unparseable`` has a SERP whose first organic result lacks its ``url``;
- ``kestrel-not-ready`` never completes (``40602 "Task In Queue."``, never in ``tasks_ready``);
- ``kestrel-all-features`` has every SERP feature, ``short_videos`` (a type the client does not know) included.

``DataForSeoServer.fail_next(n)`` makes the next ``n`` calls fail as a whole (status ``50000``, or an HTTP
status); a wrong login gets HTTP 401 (``40100``); more than 100 tasks in one ``task_post`` get ``40006`` for
the tasks past the 100th; an invalid field ``40501``.
"""

from kestrel_local.dataforseo.serp import FORCE_ALL_FEATURES, UNKNOWN_ITEM_TYPE, SerpRequest, build_serp, render_pages
from kestrel_local.dataforseo.server import (
    ERROR_ONCE,
    LIVE_PRICE,
    LOCAL_LOGIN,
    LOCAL_PASSWORD,
    NEVER_READY,
    NO_RESULTS,
    STANDARD_PRICE,
    UNPARSEABLE,
    DataForSeoServer,
    task_cost,
)

__all__ = [
    "ERROR_ONCE",
    "FORCE_ALL_FEATURES",
    "LIVE_PRICE",
    "LOCAL_LOGIN",
    "LOCAL_PASSWORD",
    "NEVER_READY",
    "NO_RESULTS",
    "STANDARD_PRICE",
    "UNKNOWN_ITEM_TYPE",
    "UNPARSEABLE",
    "DataForSeoServer",
    "SerpRequest",
    "build_serp",
    "render_pages",
    "task_cost",
]
