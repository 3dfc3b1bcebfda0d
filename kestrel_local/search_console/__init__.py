"""A local Google Search Console API: ``searchanalytics.query`` over synthetic data, OAuth2 tokens, quotas.

- ``synthetic``: deterministic synthetic data, seeded by the site URL;
- ``query``: ``searchanalytics.query`` validated and answered as Google documents it;
- ``oauth``: Google's OAuth2 token endpoint for service accounts and refresh tokens;
- ``server``: ``SearchConsoleServer``, the HTTP server that puts them on one port.

The names the local stack, its tests and the demo use are importable from here.
"""

from kestrel_local.search_console.oauth import JWT_BEARER, SCOPE_FULL, SCOPE_READONLY
from kestrel_local.search_console.query import ROWS_PER_DAY_CAP, ApiError, QueryRequest, parse_request, run_query
from kestrel_local.search_console.server import SearchConsoleServer
from kestrel_local.search_console.synthetic import SyntheticConfig, brand_term, ctr_for_position, day_rows

__all__ = [
    "JWT_BEARER",
    "ROWS_PER_DAY_CAP",
    "SCOPE_FULL",
    "SCOPE_READONLY",
    "ApiError",
    "QueryRequest",
    "SearchConsoleServer",
    "SyntheticConfig",
    "brand_term",
    "ctr_for_position",
    "day_rows",
    "parse_request",
    "run_query",
]
