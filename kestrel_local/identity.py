"""A local identity issuer standing in for Auth0: RS256 keys, OpenID discovery, JWKS, Auth0-shaped tokens.

The signing key is an RSA-2048 key pair kept in the directory the issuer is
given (``<state>/identity/``): created on first start, reused after restarts,
so tokens minted before a restart stay valid. Its ``kid`` is the key's RFC 7638
JWK thumbprint. ``rotate()`` brings in a new signing key while the previous
one stays published in the JWKS (as Auth0 does during a rotation), so token
verifiers' key refresh can be exercised; ``retire_previous()`` drops it.

The HTTP server (stdlib, daemon thread) serves what a JWT authorizer reads:
``GET /.well-known/openid-configuration`` and ``GET /.well-known/jwks.json``.
The issuer URL is ``http://127.0.0.1:<port>/``, with the trailing slash Auth0 uses.
"""

import base64
import hashlib
import json
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kestrel_local.http_server import BackgroundHttpServer

DEFAULT_AUDIENCE = "https://api.kestrel.local"  # the local stage's auth0Audience
DEFAULT_CLIENT_ID = "kestrel-local-client"
DEFAULT_LIFETIME_SECONDS = 24 * 3600

_CURRENT = "private_key.pem"
_PREVIOUS = "previous_private_key.pem"


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def jwk_thumbprint(jwk: Mapping[str, str]) -> str:
    """RFC 7638 thumbprint of an RSA JWK: SHA-256 over ``e``, ``kty``, ``n`` in that order, no whitespace."""
    canonical = json.dumps({"e": jwk["e"], "kty": jwk["kty"], "n": jwk["n"]}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    """An RSA key pair with its public JWK and RFC 7638 thumbprint (the ``kid``)."""

    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> "SigningKey":
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def from_pem(cls, pem: bytes) -> "SigningKey":
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the identity key is not an RSA private key")
        return cls(key)

    def to_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    def public_pem(self) -> bytes:
        return self.public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    @property
    def kid(self) -> str:
        numbers = self.public_key.public_numbers()
        return jwk_thumbprint({"kty": "RSA", "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e)})

    def jwk(self) -> dict[str, str]:
        numbers = self.public_key.public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
        }


def mint_token(
    key: SigningKey,
    issuer: str,
    *,
    audience: str | Sequence[str],
    tenant: str | None,
    user: str = "user-1",
    permissions: Sequence[str] = (),
    client_id: str = DEFAULT_CLIENT_ID,
    lifetime_seconds: int = DEFAULT_LIFETIME_SECONDS,
    issued_at: int | None = None,
    extra_claims: Mapping[str, Any] | None = None,
    headers: Mapping[str, Any] | None = None,
) -> str:
    """A signed RS256 access token shaped like Auth0's (Organizations + RBAC with permissions in the token).

    ``audience`` given as a string becomes Auth0's pair ``[audience, "<issuer>userinfo"]``;
    a sequence is used as is. ``user`` without a connection prefix becomes ``auth0|<user>``.
    ``extra_claims`` override or add claims (a value of ``None`` removes the claim).
    """
    now = int(time.time()) if issued_at is None else issued_at
    audiences = [audience, f"{issuer}userinfo"] if isinstance(audience, str) else list(audience)
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": user if "|" in user else f"auth0|{user}",
        "aud": audiences,
        "iat": now,
        "exp": now + lifetime_seconds,
        "azp": client_id,
        "scope": " ".join(permissions),
        "org_id": tenant,
        "permissions": list(permissions),
    }
    if tenant is None:
        del claims["org_id"]
    for name, value in (extra_claims or {}).items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, **(headers or {})})


def current_signing_key(key_dir: Path) -> SigningKey:
    """The key a running local issuer signs with, read from its directory (for `kestrel token`)."""
    path = key_dir / _CURRENT
    if not path.exists():
        raise FileNotFoundError(f"No local identity key in {key_dir}: run `kestrel up` first.")
    return SigningKey.from_pem(path.read_bytes())


class LocalIdentity(BackgroundHttpServer):
    """The local Auth0: keys in ``key_dir``, discovery and JWKS over HTTP, tokens on demand.

    ``start()`` serves in a daemon thread; ``port=0`` picks a free port.
    """

    def __init__(
        self,
        key_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        audience: str = DEFAULT_AUDIENCE,
        client_id: str = DEFAULT_CLIENT_ID,
    ) -> None:
        self.key_dir = key_dir
        self.audience = audience
        self.client_id = client_id
        self.requests: dict[str, int] = {"openid-configuration": 0, "jwks": 0}
        self._lock = threading.Lock()
        key_dir.mkdir(parents=True, exist_ok=True)
        self._key = self._load(_CURRENT) or self._store(_CURRENT, SigningKey.generate())
        self._previous = self._load(_PREVIOUS)
        identity = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/.well-known/openid-configuration":
                    identity._count("openid-configuration")
                    self._reply(200, identity.openid_configuration())
                elif path == "/.well-known/jwks.json":
                    identity._count("jwks")
                    self._reply(200, identity.jwks())
                else:
                    self._reply(404, {"error": "not_found"})

            def _reply(self, status: int, document: Mapping[str, Any]) -> None:
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "public, max-age=15")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        super().__init__(host, port, Handler, name="identity")

    # -- keys -------------------------------------------------------------------------------------

    def _load(self, name: str) -> SigningKey | None:
        path = self.key_dir / name
        return SigningKey.from_pem(path.read_bytes()) if path.exists() else None

    def _store(self, name: str, key: SigningKey) -> SigningKey:
        path = self.key_dir / name
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(key.to_pem())
        os.replace(temporary, path)
        (self.key_dir / name.replace("private", "public")).write_bytes(key.public_pem())
        return key

    @property
    def signing_key(self) -> SigningKey:
        return self._key

    @property
    def keys(self) -> tuple[SigningKey, ...]:
        """The published keys: the signing key first, then the previous one during a rotation."""
        return (self._key,) if self._previous is None else (self._key, self._previous)

    def rotate(self) -> SigningKey:
        """Sign with a new key from now on; the old one stays in the JWKS until ``retire_previous()``."""
        with self._lock:
            new = SigningKey.generate()
            self._previous = self._store(_PREVIOUS, self._key)
            self._key = self._store(_CURRENT, new)
            return new

    def retire_previous(self) -> None:
        with self._lock:
            self._previous = None
            for name in (_PREVIOUS, _PREVIOUS.replace("private", "public")):
                (self.key_dir / name).unlink(missing_ok=True)

    # -- documents --------------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        return f"{self.url}/"  # with the trailing slash, as Auth0 issuers have it

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}.well-known/jwks.json"

    def openid_configuration(self) -> dict[str, Any]:
        issuer = self.issuer
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}authorize",
            "token_endpoint": f"{issuer}oauth/token",
            "userinfo_endpoint": f"{issuer}userinfo",
            "jwks_uri": self.jwks_uri,
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "response_types_supported": ["code", "token", "id_token", "code token", "code id_token"],
            "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "claims_supported": ["aud", "exp", "iat", "iss", "sub", "org_id", "permissions", "scope", "azp"],
        }

    def jwks(self) -> dict[str, Any]:
        with self._lock:
            return {"keys": [key.jwk() for key in self.keys]}

    def _count(self, document: str) -> None:
        with self._lock:
            self.requests[document] += 1

    # -- tokens -----------------------------------------------------------------------------------

    def mint_token(
        self,
        *,
        tenant: str | None,
        user: str = "user-1",
        permissions: Sequence[str] = (),
        audience: str | Sequence[str] | None = None,
        lifetime_seconds: int = DEFAULT_LIFETIME_SECONDS,
        issued_at: int | None = None,
        extra_claims: Mapping[str, Any] | None = None,
        key: SigningKey | None = None,
    ) -> str:
        """An access token for ``user`` in organization ``tenant``, signed with the current key."""
        return mint_token(
            key or self._key,
            self.issuer,
            audience=self.audience if audience is None else audience,
            tenant=tenant,
            user=user,
            permissions=permissions,
            client_id=self.client_id,
            lifetime_seconds=lifetime_seconds,
            issued_at=issued_at,
            extra_claims=extra_claims,
        )
