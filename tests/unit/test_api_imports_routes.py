"""The imports API's routes and their permissions, read from the code: no handler call, no database.

The API through its real Lambda handler is tests/integration/test_api_imports.py.
"""

from tests.support.http_events import ALL_PERMISSIONS


def test_every_permission_used_is_one_tokens_carry():
    from functions.api_imports.handler import app
    from shared.runtime.http import Authorize

    routes = app._static_routes + app._dynamic_routes
    permissions = {mw.permission for route in routes for mw in route.middlewares or [] if isinstance(mw, Authorize)}
    assert permissions == set(ALL_PERMISSIONS)
    for route in routes:
        expected = "read:projects" if route.method == "GET" else "write:projects"
        assert [mw.permission for mw in route.middlewares if isinstance(mw, Authorize)] == [expected], (
            route.openapi_path
        )
