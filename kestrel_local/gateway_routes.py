"""The local HTTP API's routing and CORS: which route a request matches, and the CORS answer.

Exact method or ``ANY``; path templates with ``{param}`` and a trailing greedy ``{proxy+}``; the most
specific route wins (per segment, literal over ``{param}`` over ``{proxy+}``, then an exact method over
``ANY``). ``CorsConfig`` answers preflights and decorates responses to allowed origins.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from kestrel_local.model import RouteSpec

# -- configuration and stats ----------------------------------------------------------------------


@dataclass(frozen=True)
class CorsConfig:
    """The HTTP API's CORS configuration (``provider.httpApi.cors`` in serverless.yml)."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    def allows_origin(self, origin: str) -> bool:
        return "*" in self.allow_origins or origin in self.allow_origins

    def _origin_header(self, origin: str) -> str:
        return "*" if "*" in self.allow_origins and not self.allow_credentials else origin

    def response_headers(self, origin: str | None) -> list[tuple[str, str]]:
        """Headers added to an actual (non-preflight) response."""
        if not origin or not self.allows_origin(origin):
            return []
        headers = [("access-control-allow-origin", self._origin_header(origin))]
        if self.allow_credentials:
            headers.append(("access-control-allow-credentials", "true"))
        if self.expose_headers:
            headers.append(("access-control-expose-headers", ",".join(self.expose_headers)))
        return headers

    def preflight_headers(self, origin: str, method: str, request_headers: str) -> list[tuple[str, str]]:
        """Headers of the preflight answer; none when the origin, method or a header is not allowed."""
        methods = {m.upper() for m in self.allow_methods}
        allowed = {h.lower() for h in self.allow_headers}
        requested = [h.strip().lower() for h in request_headers.split(",") if h.strip()]
        if (
            not self.allows_origin(origin)
            or ("*" not in methods and method.upper() not in methods)
            or ("*" not in allowed and any(h not in allowed for h in requested))
        ):
            return []
        headers = [("access-control-allow-origin", self._origin_header(origin))]
        headers.append(("access-control-allow-methods", ",".join(self.allow_methods) if methods else method))
        if requested:
            headers.append(("access-control-allow-headers", ",".join(requested)))
        if self.allow_credentials:
            headers.append(("access-control-allow-credentials", "true"))
        if self.max_age is not None:
            headers.append(("access-control-max-age", str(self.max_age)))
        return headers


@dataclass
class RouteStats:
    requests: int = 0
    client_errors: int = 0  # 4xx, authorizer rejections included
    server_errors: int = 0  # 5xx


# -- routing --------------------------------------------------------------------------------------

_LITERAL, _PARAM, _GREEDY = 2, 1, 0


@dataclass(frozen=True)
class _Route:
    spec: RouteSpec
    segments: tuple[tuple[int, str], ...]

    @classmethod
    def compile(cls, spec: RouteSpec) -> "_Route":
        segments: list[tuple[int, str]] = []
        parts = spec.path.lstrip("/").split("/")
        for index, part in enumerate(parts):
            if part.startswith("{") and part.endswith("+}"):
                if index != len(parts) - 1:
                    raise ValueError(f"{spec.route_key}: a greedy path variable must be the last segment")
                segments.append((_GREEDY, part[1:-2]))
            elif part.startswith("{") and part.endswith("}"):
                segments.append((_PARAM, part[1:-1]))
            else:
                segments.append((_LITERAL, part))
        return cls(spec, tuple(segments))

    @property
    def rank(self) -> tuple[tuple[int, ...], int]:
        return tuple(kind for kind, _ in self.segments), int(self.spec.method != "ANY")

    def match(self, method: str, parts: Sequence[str]) -> dict[str, str] | None:
        if self.spec.method not in ("ANY", method):
            return None
        params: dict[str, str] = {}
        for index, (kind, value) in enumerate(self.segments):
            if kind == _GREEDY:
                rest = "/".join(parts[index:])
                if not rest:
                    return None
                params[value] = unquote(rest)
                return params
            if index >= len(parts):
                return None
            if kind == _LITERAL:
                if unquote(parts[index]) != value:
                    return None
            elif not parts[index]:
                return None
            else:
                params[value] = unquote(parts[index])
        return params if len(parts) == len(self.segments) else None


class Router:
    """HTTP API route selection: the most specific matching route."""

    def __init__(self, routes: Iterable[RouteSpec]) -> None:
        self.routes = [_Route.compile(route) for route in routes]

    def match(self, method: str, path: str) -> tuple[RouteSpec, dict[str, str]] | None:
        parts = path.lstrip("/").split("/")
        best: tuple[_Route, dict[str, str]] | None = None
        for route in self.routes:
            params = route.match(method, parts)
            if params is not None and (best is None or route.rank > best[0].rank):
                best = (route, params)
        return (best[0].spec, best[1]) if best else None
