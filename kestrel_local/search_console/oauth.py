"""Google's OAuth2 token endpoint, locally: access tokens for service accounts and for users' refresh tokens.

A service account's JWT assertion (RS256) is verified against the key
registered with ``register_service_account``; a refresh token is one registered
with ``register_refresh_token``. Each credential grants access to its sites;
``revoke`` revokes it and every access token minted from it. Error bodies and
messages are Google's.
"""

import json
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SCOPE_READONLY = "https://www.googleapis.com/auth/webmasters.readonly"
SCOPE_FULL = "https://www.googleapis.com/auth/webmasters"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Google's client libraries (google-auth) always sign service-account assertions for this audience,
# whatever the key file's token_uri says; Google's token endpoint requires it.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL, not a password)
TOKEN_LIFETIME_SECONDS = 3599


@dataclass
class _Credential:
    kind: str  # "service_account" | "authorized_user"
    sites: frozenset[str]
    scopes: frozenset[str] = frozenset()
    public_key: rsa.RSAPublicKey | None = None
    client_id: str = ""
    client_secret: str = ""
    revoked: bool = False


@dataclass
class _AccessToken:
    credential: str
    scopes: frozenset[str]
    expires_at: float


@dataclass(frozen=True)
class Access:
    """What a valid access token allows: its scopes, on its credential's sites."""

    scopes: frozenset[str]
    sites: frozenset[str]


class TokenEndpoint:
    """The credentials registered with the stand-in and the access tokens minted from them; ``clock`` in seconds."""

    def __init__(self, token_uri: str, *, clock: Callable[[], float]) -> None:
        self.token_uri = token_uri
        self._clock = clock
        self._lock = threading.Lock()
        self._credentials: dict[str, _Credential] = {}
        self._tokens: dict[str, _AccessToken] = {}

    def register_service_account(
        self, sites: Iterable[str], *, name: str = "kestrel-gsc", project_id: str = "kestrel-local"
    ) -> dict[str, str]:
        """A new service account with access to ``sites``: the JSON key file's content, as Google issues it."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        suffix = secrets.token_hex(3)
        email = f"{name}-{suffix}@{project_id}.iam.gserviceaccount.com"
        client_id = str(10**20 + secrets.randbelow(9 * 10**20))
        with self._lock:
            self._credentials[email] = _Credential("service_account", frozenset(sites), public_key=key.public_key())
        return {
            "type": "service_account",
            "project_id": project_id,
            "private_key_id": secrets.token_hex(20),
            "private_key": pem,
            "client_email": email,
            "client_id": client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{email.replace('@', '%40')}",
            "universe_domain": "googleapis.com",
        }

    def register_refresh_token(
        self, sites: Iterable[str], *, scopes: Iterable[str] = (SCOPE_READONLY,)
    ) -> dict[str, str]:
        """A user's OAuth grant on ``sites``: Google's ``authorized_user`` file (client id/secret, refresh token)."""
        refresh_token = "1//" + secrets.token_urlsafe(48)
        client_id = f"{secrets.randbelow(10**12):012d}-{secrets.token_hex(16)}.apps.googleusercontent.com"
        client_secret = "GOCSPX-" + secrets.token_urlsafe(21)
        with self._lock:
            self._credentials[refresh_token] = _Credential(
                "authorized_user", frozenset(sites), frozenset(scopes), client_id=client_id, client_secret=client_secret
            )
        return {
            "type": "authorized_user",
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": refresh_token,
            "token_uri": self.token_uri,
        }

    def revoke(self, credential: Mapping[str, str] | str) -> None:
        """Revoke a credential (its key file/authorized-user dict, client_email or refresh token) and its tokens."""
        if isinstance(credential, str):
            ident = credential
        else:
            ident = credential.get("client_email") or credential.get("refresh_token") or ""
        with self._lock:
            if ident not in self._credentials:
                raise KeyError(ident)
            self._credentials[ident].revoked = True
            for token in [t for t, info in self._tokens.items() if info.credential == ident]:
                del self._tokens[token]

    def token(self, raw: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
        """``POST /token`` (form or JSON body): the HTTP status and Google's JSON answer."""
        if "json" in content_type:
            try:
                loaded = json.loads(raw or b"{}")
            except ValueError:
                return 400, {"error": "invalid_request", "error_description": "Malformed JSON body."}
            form = {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
        else:
            form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        grant = form.get("grant_type")
        if grant == JWT_BEARER:
            return self._jwt_grant(form.get("assertion", ""))
        if grant == "refresh_token":
            return self._refresh_grant(form)
        if not grant:
            return 400, {"error": "invalid_request", "error_description": "Missing required parameter: grant_type"}
        return 400, {"error": "unsupported_grant_type", "error_description": f"Invalid grant_type: {grant}"}

    def _issue(self, credential: str, scopes: frozenset[str]) -> tuple[int, dict[str, Any]]:
        token = "ya29." + secrets.token_urlsafe(64)
        with self._lock:
            self._tokens[token] = _AccessToken(credential, scopes, self._clock() + TOKEN_LIFETIME_SECONDS)
        return 200, {"access_token": token, "expires_in": TOKEN_LIFETIME_SECONDS, "token_type": "Bearer"}

    def _jwt_grant(self, assertion: str) -> tuple[int, dict[str, Any]]:
        def invalid(description: str) -> tuple[int, dict[str, Any]]:
            return 400, {"error": "invalid_grant", "error_description": description}

        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return invalid("Invalid JWT: malformed assertion.")
        issuer = str(unverified.get("iss", ""))
        with self._lock:
            credential = self._credentials.get(issuer)
        if credential is None or credential.kind != "service_account" or credential.public_key is None:
            return invalid("Invalid grant: account not found")
        if credential.revoked:
            return invalid("Invalid JWT Signature.")  # what Google answers for a deleted key
        try:
            claims = jwt.decode(
                assertion,
                credential.public_key,
                algorithms=["RS256"],
                audience=[self.token_uri, GOOGLE_TOKEN_AUDIENCE],
                options={"require": ["iss", "aud", "iat", "exp"]},
                leeway=0,
            )
        except jwt.ExpiredSignatureError:
            return invalid("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
        except jwt.InvalidAudienceError:
            return invalid("Invalid JWT: Failed audience check.")
        except jwt.InvalidSignatureError:
            return invalid("Invalid JWT Signature.")
        except jwt.PyJWTError as error:
            return invalid(f"Invalid JWT: {error}")
        if int(claims["exp"]) - int(claims["iat"]) > 3600:
            return invalid("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
        scopes = frozenset(str(claims.get("scope", "")).split())
        if not scopes:
            return 400, {"error": "invalid_scope", "error_description": "Invalid OAuth scope or ID token audience."}
        return self._issue(issuer, scopes)

    def _refresh_grant(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        refresh_token = form.get("refresh_token", "")
        with self._lock:
            credential = self._credentials.get(refresh_token)
        if credential is None or credential.kind != "authorized_user" or credential.revoked:
            return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
        if form.get("client_id") != credential.client_id or form.get("client_secret") != credential.client_secret:
            return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
        return self._issue(refresh_token, credential.scopes)

    def access(self, authorization: str, now: float) -> Access | None:
        """What the ``Authorization`` header's bearer token allows at ``now``; None: unknown, expired or revoked."""
        scheme, _, token = authorization.partition(" ")
        with self._lock:
            info = self._tokens.get(token) if scheme.lower() == "bearer" else None
            credential = self._credentials.get(info.credential) if info else None
        if info is None or credential is None or credential.revoked or info.expires_at <= now:
            return None
        return Access(info.scopes, credential.sites)
