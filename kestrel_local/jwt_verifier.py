"""Token verification as the API Gateway HTTP API JWT authorizer does it.

1. The token comes from the identity source (``$request.header.Authorization``),
   with or without the ``Bearer`` prefix; none at all is a 401.
2. Only RS256: ``alg: none``, HMAC (the public key used as a shared secret) and
   anything else are refused before any key is looked at.
3. The key is the JWKS entry whose ``kid`` matches, found through the issuer's
   OpenID discovery document. Keys are cached (two hours, as API Gateway
   does); a token with an unknown ``kid`` triggers one refetch, at most once
   per ``refetch_interval_seconds``, so a stream of bad tokens cannot hammer
   the issuer.
4. Claims: ``iss`` equals the authorizer's issuer; ``aud`` contains one of its
   audiences (``client_id`` is checked only when there is no ``aud``); ``exp``
   is present and in the future; ``nbf`` and ``iat``, when present, are not in
   the future.
5. Scopes: when the route has authorization scopes, the token's ``scope``
   (space-separated) or ``scp`` must hold at least one of them, otherwise 403.

Failures raise ``Unauthorized`` (401) or ``Forbidden`` (403), each carrying the
``www-authenticate`` challenge API Gateway sends back.
"""

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeGuard

import jwt
from jwt.algorithms import RSAAlgorithm

from kestrel_local.model import JwtAuthorizerSpec

log = logging.getLogger(__name__)

KEY_CACHE_SECONDS = 2 * 3600  # "API Gateway can cache the public key for two hours"
ALGORITHMS = ("RS256",)


class AuthorizationError(Exception):
    status = 401
    message = "Unauthorized"

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description

    @property
    def www_authenticate(self) -> str:
        return f'Bearer scope="" error="invalid_token" error_description="{self.description}"'


class Unauthorized(AuthorizationError):
    """401: no token, or one that fails verification."""


class MissingToken(Unauthorized):
    def __init__(self) -> None:
        super().__init__("the token is missing")

    @property
    def www_authenticate(self) -> str:
        return "Bearer"  # RFC 6750 3.1: no error code when the request carried no credentials


class Forbidden(AuthorizationError):
    """403: a valid token without any of the route's scopes."""

    status = 403
    message = "Forbidden"

    def __init__(self, expected: Sequence[str]) -> None:
        super().__init__(f"expected scopes: [{' '.join(expected)}]")
        self.expected = tuple(expected)

    @property
    def www_authenticate(self) -> str:
        scopes = " ".join(self.expected)
        return f'Bearer scope="{scopes}" error="insufficient_scope" error_description="{self.description}"'


def token_scopes(claims: Mapping[str, Any]) -> list[str]:
    """The scopes a token carries: ``scope`` (space-separated) and ``scp`` (string or list)."""
    found: list[str] = []
    for name in ("scope", "scp"):
        value = claims.get(name)
        items = value.split() if isinstance(value, str) else value if isinstance(value, list) else []
        found.extend(str(item) for item in items if str(item) not in found)
    return found


def matched_scopes(claims: Mapping[str, Any], route_scopes: Sequence[str]) -> list[str] | None:
    """The route's scopes the token has (``authorizer.jwt.scopes``); ``None`` for a route without scopes."""
    if not route_scopes:
        return None
    held = set(token_scopes(claims))
    return [scope for scope in route_scopes if scope in held]


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


class JwtVerifier:
    """One HTTP API JWT authorizer: its issuer, audiences and identity source, and the issuer's keys."""

    def __init__(
        self,
        spec: JwtAuthorizerSpec,
        *,
        cache_seconds: float = KEY_CACHE_SECONDS,
        refetch_interval_seconds: float = 10.0,
        http_timeout_seconds: float = 5.0,
        leeway_seconds: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.spec = spec
        self.cache_seconds = cache_seconds
        self.refetch_interval_seconds = refetch_interval_seconds
        self.http_timeout_seconds = http_timeout_seconds
        self.leeway_seconds = leeway_seconds
        self.clock = clock
        self.jwks_fetches = 0
        self._source, self._source_name = self._parse_identity_source(spec.identity_source)
        self._lock = threading.Lock()
        self._jwks_uri: str | None = None
        self._keys: dict[str, Any] = {}
        self._expires_at = 0.0
        self._next_refetch_at = 0.0

    @staticmethod
    def _parse_identity_source(source: str) -> tuple[str, str]:
        for prefix, kind in (("$request.header.", "header"), ("$request.querystring.", "querystring")):
            if source.startswith(prefix) and len(source) > len(prefix):
                name = source[len(prefix) :]
                return kind, name.lower() if kind == "header" else name
        raise ValueError(f"unsupported JWT identity source {source!r}")

    # -- the request ------------------------------------------------------------------------------

    def token_from(self, headers: Mapping[str, str], query: Mapping[str, str] | None = None) -> str | None:
        """The token in the identity source, without its ``Bearer`` prefix; ``None`` when absent or empty."""
        if self._source == "header":
            value = next((v for k, v in headers.items() if k.lower() == self._source_name), None)
        else:
            value = (query or {}).get(self._source_name)
        if value is None:
            return None
        value = value.strip()
        if value[:7].lower() == "bearer ":
            value = value[7:].strip()
        return value or None

    def verify(
        self,
        headers: Mapping[str, str],
        route_scopes: Sequence[str] = (),
        query: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """The verified claims of the request's token, or ``Unauthorized`` / ``Forbidden``."""
        return self.verify_token(self.token_from(headers, query), route_scopes)

    def verify_token(self, token: str | None, route_scopes: Sequence[str] = ()) -> dict[str, Any]:
        if not token:
            raise MissingToken()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("the token is malformed") from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise Unauthorized(f"signing method {algorithm} is invalid")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("the token has no kid header")
        key = self._key(kid)
        try:
            decoded = jwt.PyJWS().decode_complete(token, key, algorithms=list(ALGORITHMS))
            claims = json.loads(decoded["payload"])
        except jwt.InvalidSignatureError:
            raise Unauthorized("the token signature is invalid") from None
        except (jwt.PyJWTError, ValueError):
            raise Unauthorized("the token is malformed") from None
        if not isinstance(claims, dict):
            raise Unauthorized("the token is malformed")
        self._check_claims(claims)
        if route_scopes and not matched_scopes(claims, route_scopes):
            raise Forbidden(route_scopes)
        return claims

    def _check_claims(self, claims: dict[str, Any]) -> None:
        if claims.get("iss") != self.spec.issuer:
            raise Unauthorized("the token does not have a valid issuer")
        audience = claims.get("aud")
        if audience is not None:
            audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
            valid = any(isinstance(item, str) and item in self.spec.audience for item in audiences)
        else:
            valid = claims.get("client_id") in self.spec.audience
        if not valid:
            raise Unauthorized("the token does not have a valid audience")
        now = self.clock()
        expires = claims.get("exp")
        if not _is_number(expires):
            raise Unauthorized("the token has no valid exp claim")
        if expires <= now - self.leeway_seconds:
            raise Unauthorized("the token has expired")
        not_before = claims.get("nbf")
        if not_before is not None and (not _is_number(not_before) or not_before > now + self.leeway_seconds):
            raise Unauthorized("the token is not valid yet")
        issued = claims.get("iat")
        if issued is not None and (not _is_number(issued) or issued > now + self.leeway_seconds):
            raise Unauthorized("the token was issued in the future")

    # -- keys -------------------------------------------------------------------------------------

    def _key(self, kid: str) -> Any:
        with self._lock:
            now = self.clock()
            stale = now >= self._expires_at and now >= self._next_refetch_at
            if stale:
                self._refresh(now)
            key = self._keys.get(kid)
            if key is None and not stale and now >= self._next_refetch_at:
                self._next_refetch_at = now + self.refetch_interval_seconds
                self._refresh(now)
                key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("the token's kid does not match any of the issuer's keys")
        return key

    def _refresh(self, now: float) -> None:
        """Fetch the JWKS (discovering its URL first); on failure keep the keys we have and back off."""
        try:
            if self._jwks_uri is None:
                discovery_url = self.spec.issuer.rstrip("/") + "/.well-known/openid-configuration"
                jwks_uri = self._get_json(discovery_url).get("jwks_uri")
                if not isinstance(jwks_uri, str):
                    raise ValueError(f"{discovery_url} has no jwks_uri")
                self._jwks_uri = jwks_uri
            self.jwks_fetches += 1
            document = self._get_json(self._jwks_uri)
        except (OSError, ValueError) as exc:
            log.warning("cannot fetch the signing keys of %s: %s", self.spec.issuer, exc)
            self._jwks_uri = None
            self._next_refetch_at = now + self.refetch_interval_seconds
            return
        keys: dict[str, Any] = {}
        for entry in document.get("keys", []):
            if not isinstance(entry, dict) or entry.get("kty") != "RSA" or entry.get("use", "sig") != "sig":
                continue
            kid = entry.get("kid")
            if not isinstance(kid, str):
                continue
            try:
                keys[kid] = RSAAlgorithm.from_jwk(entry)
            except (jwt.PyJWTError, ValueError, KeyError):
                log.warning("ignoring an unusable JWKS entry %s of %s", kid, self.spec.issuer)
        self._keys = keys
        self._expires_at = now + self.cache_seconds

    def _get_json(self, url: str) -> dict[str, Any]:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"not an HTTP URL: {url}")
        request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - checked above
        with urllib.request.urlopen(request, timeout=self.http_timeout_seconds) as response:  # noqa: S310
            document = json.loads(response.read())
        if not isinstance(document, dict):
            raise ValueError(f"{url} did not return a JSON object")
        return document
