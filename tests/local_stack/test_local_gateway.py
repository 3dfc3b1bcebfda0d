"""The local HTTP API: JWT verification as API Gateway does it, payload 2.0 events, response mapping, CORS.

Everything runs for real on 127.0.0.1: the identity issuer, the gateway, and
the functions in their execution environments.
"""

import base64
import hashlib
import hmac
import http.client
import json
import re
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model

from kestrel_local.environments import Environments
from kestrel_local.gateway import Gateway
from kestrel_local.gateway_payload import stringify_claim
from kestrel_local.gateway_routes import CorsConfig, Router
from kestrel_local.identity import LocalIdentity, SigningKey, jwk_thumbprint, mint_token
from kestrel_local.jwt_verifier import JwtVerifier, Unauthorized
from kestrel_local.model import FunctionSpec, InvocationResult, JwtAuthorizerSpec, RouteSpec
from shared.auth import Principal

AUDIENCE = "https://api.dev.kestrel.example"
READ = ("read:projects",)
WRITE = ("write:projects",)
EVENT_FIELDS = {
    "version",
    "routeKey",
    "rawPath",
    "rawQueryString",
    "cookies",
    "headers",
    "queryStringParameters",
    "pathParameters",
    "requestContext",
    "body",
    "isBase64Encoded",
}


def function(name: str, handler: str) -> FunctionSpec:
    return FunctionSpec(
        name=name,
        logical_id=f"{name.title()}LambdaFunction",
        physical_name=f"kestrel-local-{name}",
        handler=handler,
        timeout_seconds=10,
        memory_mb=256,
        environment={"KESTREL_STAGE": "local"},
        reserved_concurrency=None,
    )


@pytest.fixture(scope="module")
def environments(tmp_path_factory):
    envs = Environments(
        {
            "echo": function("echo", "tests/support/handlers.echo"),
            "failing": function("failing", "tests/support/handlers.fail"),
            "respond": function("respond", "tests/support/gateway_handlers.respond"),
        },
        overrides={},
        log_dir=tmp_path_factory.mktemp("gateway-logs"),
    )
    yield envs
    envs.close()


@pytest.fixture
def identity(tmp_path):
    with LocalIdentity(tmp_path / "identity", audience=AUDIENCE) as issuer:
        yield issuer


def routes(authorizer: JwtAuthorizerSpec) -> list[RouteSpec]:
    return [
        RouteSpec("GET", "/v1/health", "echo", None, ()),
        RouteSpec("GET", "/v1/projects/{project_id}", "echo", authorizer, READ),
        RouteSpec("GET", "/v1/projects/special", "echo", None, ()),
        RouteSpec("POST", "/v1/projects", "echo", authorizer, WRITE),
        RouteSpec("GET", "/v1/me", "echo", authorizer, ()),
        RouteSpec("ANY", "/v1/files/{proxy+}", "echo", None, ()),
        RouteSpec("POST", "/v1/respond", "respond", None, ()),
        RouteSpec("GET", "/v1/fail", "failing", None, ()),
    ]


def authorizer_for(identity: LocalIdentity) -> JwtAuthorizerSpec:
    return JwtAuthorizerSpec(name="auth0", issuer=identity.issuer, audience=(AUDIENCE,))


@pytest.fixture
def gateway(identity, environments):
    with Gateway(routes(authorizer_for(identity)), environments) as gw:
        yield gw


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    raw: bytes

    @property
    def json(self):
        return json.loads(self.raw)

    @property
    def event(self) -> dict:
        return self.json["event"]


def call(base_url: str, method: str, path: str, *, token=None, body: bytes | None = None, headers=()) -> Reply:
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=15)
    try:
        connection.putrequest(method, path)
        all_headers = list(headers)
        if token is not None:
            all_headers.append(("Authorization", f"Bearer {token}"))
        if body is not None:
            all_headers.append(("Content-Length", str(len(body))))
        for name, value in all_headers:
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, claims: dict, sign=lambda signing_input: b"") -> str:
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64url(sign(signing_input.encode()))}"


# -- acceptance and the event ---------------------------------------------------------------------


def test_a_good_token_reaches_the_function_with_the_event_api_gateway_builds(gateway, identity):
    token = identity.mint_token(tenant="org_acme", user="alice", permissions=("read:projects", "write:projects"))
    reply = call(
        gateway.url,
        "GET",
        "/v1/projects/p%20-1?limit=10&tag=a&tag=b&empty",
        token=token,
        headers=[
            ("Cookie", "session=abc; theme=dark"),
            ("X-Custom", "one"),
            ("X-Custom", "two"),
            ("User-Agent", "pytest-gateway"),
        ],
    )
    assert reply.status == 200, reply.raw
    assert reply.headers["content-type"] == "application/json"
    assert re.fullmatch(r"[A-Za-z0-9+/]{15}=", reply.headers["apigw-requestid"])
    event = reply.event
    APIGatewayProxyEventV2Model.model_validate(event)

    assert set(event) == EVENT_FIELDS - {"body"}
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /v1/projects/{project_id}"
    assert event["rawPath"] == "/v1/projects/p%20-1"
    assert event["rawQueryString"] == "limit=10&tag=a&tag=b&empty"
    assert event["queryStringParameters"] == {"limit": "10", "tag": "a,b", "empty": ""}
    assert event["pathParameters"] == {"project_id": "p -1"}
    assert event["cookies"] == ["session=abc", "theme=dark"]
    assert event["isBase64Encoded"] is False
    headers = event["headers"]
    assert "cookie" not in headers
    assert all(name == name.lower() for name in headers)
    assert headers["x-custom"] == "one,two"
    assert headers["authorization"] == f"Bearer {token}"
    assert headers["host"] == f"127.0.0.1:{gateway.port}"
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-amzn-trace-id"].startswith("Root=1-")

    context = event["requestContext"]
    assert set(context) == {
        "accountId",
        "apiId",
        "authorizer",
        "domainName",
        "domainPrefix",
        "http",
        "requestId",
        "routeKey",
        "stage",
        "time",
        "timeEpoch",
    }
    assert context["accountId"] == "123456789012"
    assert context["stage"] == "$default"
    assert context["routeKey"] == event["routeKey"]
    assert context["domainName"] == f"127.0.0.1:{gateway.port}"
    assert context["requestId"] == reply.headers["apigw-requestid"]
    assert context["http"] == {
        "method": "GET",
        "path": "/v1/projects/p%20-1",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "pytest-gateway",
    }
    assert re.fullmatch(r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000", context["time"])
    assert abs(context["timeEpoch"] - time.time() * 1000) < 60_000

    claims = context["authorizer"]["jwt"]["claims"]
    assert all(isinstance(value, str) for value in claims.values())
    assert claims["sub"] == "auth0|alice"
    assert claims["org_id"] == "org_acme"
    assert claims["iss"] == identity.issuer
    assert claims["aud"] == f"[{AUDIENCE} {identity.issuer}userinfo]"
    assert claims["permissions"] == "[read:projects write:projects]"
    assert claims["scope"] == "read:projects write:projects"
    assert int(claims["exp"]) - int(claims["iat"]) == 24 * 3600
    assert context["authorizer"]["jwt"]["scopes"] == ["read:projects"]
    # The functions read the claims as API Gateway hands them over.
    principal = Principal.from_claims(claims)
    assert principal.tenant_id == "org_acme"
    assert principal.permissions == {"read:projects", "write:projects"}


def test_public_routes_need_no_token_and_bodies_are_text_or_base64(gateway):
    health = call(gateway.url, "GET", "/v1/health", headers=[("X-Forwarded-For", "203.0.113.7")])
    assert health.status == 200
    assert health.event["headers"]["x-forwarded-for"] == "203.0.113.7, 127.0.0.1"
    assert "authorizer" not in health.event["requestContext"]
    assert {"cookies", "queryStringParameters", "pathParameters", "body"}.isdisjoint(health.event)

    png = bytes(range(256))
    binary = call(gateway.url, "PUT", "/v1/files/a/b.png", body=png, headers=[("Content-Type", "image/png")])
    assert binary.status == 200
    event = binary.event
    APIGatewayProxyEventV2Model.model_validate(event)
    assert event["routeKey"] == "ANY /v1/files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b.png"}
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == png
    assert event["headers"]["content-length"] == "256"

    document = json.dumps({"name": "Acmé"}).encode()
    text = call(gateway.url, "POST", "/v1/files/x", body=document, headers=[("Content-Type", "application/json")])
    assert (text.event["isBase64Encoded"], text.event["body"]) == (False, document.decode())
    latin = call(gateway.url, "POST", "/v1/files/x", body=b"caf\xe9", headers=[("Content-Type", "text/plain")])
    assert (latin.event["isBase64Encoded"], latin.event["body"]) == (True, "Y2Fm6Q==")
    form = call(
        gateway.url, "POST", "/v1/files/x", body=b"a=1", headers=[("Content-Type", "application/x-www-form-urlencoded")]
    )
    assert (form.event["isBase64Encoded"], form.event["body"]) == (True, "YT0x")


def test_routing_prefers_the_most_specific_route_and_answers_404_otherwise(gateway):
    assert call(gateway.url, "GET", "/v1/projects/special").event["routeKey"] == "GET /v1/projects/special"
    for method, path in [("GET", "/v1/nothing"), ("DELETE", "/v1/health"), ("GET", "/v1/files"), ("GET", "/")]:
        reply = call(gateway.url, method, path)
        assert (reply.status, reply.json) == (404, {"message": "Not Found"}), (method, path)
        assert reply.headers["content-type"] == "application/json"

    router = Router(
        [
            RouteSpec("GET", "/pets/dog/1", "a", None, ()),
            RouteSpec("GET", "/pets/dog/{id}", "b", None, ()),
            RouteSpec("GET", "/pets/{proxy+}", "c", None, ()),
            RouteSpec("ANY", "/{proxy+}", "d", None, ()),
            RouteSpec("ANY", "/pets/cat/{id}", "e", None, ()),
            RouteSpec("GET", "/pets/cat/{id}", "f", None, ()),
        ]
    )

    def function_for(method, path):
        match = router.match(method, path)
        return match[0].function if match else None

    assert function_for("GET", "/pets/dog/1") == "a"
    assert function_for("GET", "/pets/dog/2") == "b"
    assert function_for("GET", "/pets/bird/1") == "c"
    assert function_for("POST", "/pets/dog/1") == "d"
    assert function_for("GET", "/pets/cat/1") == "f"
    assert function_for("POST", "/pets/cat/1") == "e"
    assert function_for("GET", "/") is None
    assert router.match("GET", "/pets/x/y/z") == (router.routes[2].spec, {"proxy": "x/y/z"})


# -- rejections -----------------------------------------------------------------------------------


def _rejected_tokens(identity: LocalIdentity) -> dict[str, str | None]:
    good_claims = jwt.decode(
        identity.mint_token(tenant="org_acme", permissions=READ), options={"verify_signature": False}
    )
    kid = identity.signing_key.kid
    public_pem = identity.signing_key.public_pem()
    foreign = SigningKey.generate()
    now = int(time.time())
    valid = identity.mint_token(tenant="org_acme", permissions=READ)
    head, _, signature = valid.split(".")
    tampered_claims = {**good_claims, "org_id": "org_victim"}
    return {
        "alg none": forge({"alg": "none", "typ": "JWT", "kid": kid}, good_claims),
        "HS256 with the public key as secret": forge(
            {"alg": "HS256", "typ": "JWT", "kid": kid},
            good_claims,
            lambda data: hmac.new(public_pem, data, hashlib.sha256).digest(),
        ),
        "RS256 header over an HMAC signature": forge(
            {"alg": "RS256", "typ": "JWT", "kid": kid},
            good_claims,
            lambda data: hmac.new(public_pem, data, hashlib.sha256).digest(),
        ),
        "unknown kid": mint_token(foreign, identity.issuer, audience=AUDIENCE, tenant="org_acme", permissions=READ),
        "known kid, foreign key": mint_token(
            foreign, identity.issuer, audience=AUDIENCE, tenant="org_acme", permissions=READ, headers={"kid": kid}
        ),
        "tampered payload": f"{head}.{b64url(json.dumps(tampered_claims).encode())}.{signature}",
        "expired": identity.mint_token(
            tenant="org_acme", permissions=READ, issued_at=now - 7200, lifetime_seconds=3600
        ),
        "no exp": identity.mint_token(tenant="org_acme", permissions=READ, extra_claims={"exp": None}),
        "not yet valid": identity.mint_token(tenant="org_acme", permissions=READ, extra_claims={"nbf": now + 600}),
        "issued in the future": identity.mint_token(tenant="org_acme", permissions=READ, issued_at=now + 600),
        "wrong audience": identity.mint_token(tenant="org_acme", permissions=READ, audience="https://other.example"),
        "wrong issuer": mint_token(
            identity.signing_key,
            "https://kestrel.eu.auth0.com/",
            audience=AUDIENCE,
            tenant="org_acme",
            permissions=READ,
        ),
        "garbage": "not-a-jwt",
        "three garbage segments": "abc.def.ghi",
        "empty bearer": "",
        "missing": None,
    }


def test_every_bad_token_is_refused_with_401_before_the_function_runs(gateway, identity):
    tokens = _rejected_tokens(identity)
    echo_before = gateway.stats["GET /v1/projects/{project_id}"].requests
    for case, token in tokens.items():
        headers = [] if token is None else [("Authorization", f"Bearer {token}")]
        reply = call(gateway.url, "GET", "/v1/projects/p-1", headers=headers)
        assert reply.status == 401, (case, reply.raw)
        assert reply.json == {"message": "Unauthorized"}, case
        challenge = reply.headers["www-authenticate"]
        assert challenge.startswith("Bearer"), case
        if token:
            assert 'error="invalid_token"' in challenge, case
    stats = gateway.stats["GET /v1/projects/{project_id}"]
    assert stats.requests - echo_before == stats.client_errors == len(tokens)
    assert (
        'error_description="the token does not have a valid audience"'
        in call(gateway.url, "GET", "/v1/projects/p-1", token=tokens["wrong audience"]).headers["www-authenticate"]
    )
    assert "expired" in call(gateway.url, "GET", "/v1/me", token=tokens["expired"]).headers["www-authenticate"]


def test_raw_tokens_and_client_id_audiences_are_accepted_as_api_gateway_does(gateway, identity):
    token = identity.mint_token(tenant="org_acme", permissions=READ)
    assert call(gateway.url, "GET", "/v1/projects/p-1", headers=[("Authorization", token)]).status == 200
    client_token = identity.mint_token(
        tenant="org_acme", permissions=READ, extra_claims={"aud": None, "client_id": AUDIENCE}
    )
    assert call(gateway.url, "GET", "/v1/projects/p-1", token=client_token).status == 200
    # When both are present, aud decides.
    both = identity.mint_token(
        tenant="org_acme", permissions=READ, audience="https://other.example", extra_claims={"client_id": AUDIENCE}
    )
    assert call(gateway.url, "GET", "/v1/projects/p-1", token=both).status == 401


def test_a_token_without_any_of_the_routes_scopes_is_forbidden(gateway, identity):
    writer = identity.mint_token(tenant="org_acme", permissions=WRITE)
    reply = call(gateway.url, "GET", "/v1/projects/p-1", token=writer)
    assert (reply.status, reply.json) == (403, {"message": "Forbidden"})
    assert 'error="insufficient_scope"' in reply.headers["www-authenticate"]
    assert call(gateway.url, "POST", "/v1/projects", token=writer, body=b"{}").status == 200

    scp = identity.mint_token(tenant="org_acme", extra_claims={"scope": None, "scp": ["read:projects"]})
    assert call(gateway.url, "GET", "/v1/projects/p-1", token=scp).status == 200

    # A route without scopes takes any valid token, and says so with null scopes.
    nothing = identity.mint_token(tenant="org_acme")
    me = call(gateway.url, "GET", "/v1/me", token=nothing)
    assert me.status == 200
    assert me.event["requestContext"]["authorizer"]["jwt"]["scopes"] is None
    assert gateway.stats["GET /v1/projects/{project_id}"].client_errors == 1


# -- keys -----------------------------------------------------------------------------------------


def test_keys_are_fetched_once_and_refreshed_when_the_issuer_rotates(gateway, identity):
    first = identity.mint_token(tenant="org_acme", permissions=READ)
    for _ in range(5):
        assert call(gateway.url, "GET", "/v1/projects/p-1", token=first).status == 200
    assert identity.requests == {"openid-configuration": 1, "jwks": 1}

    identity.rotate()
    assert len(identity.jwks()["keys"]) == 2
    second = identity.mint_token(tenant="org_acme", permissions=READ)
    assert jwt.get_unverified_header(second)["kid"] != jwt.get_unverified_header(first)["kid"]
    assert call(gateway.url, "GET", "/v1/projects/p-1", token=second).status == 200
    assert call(gateway.url, "GET", "/v1/projects/p-1", token=first).status == 200  # still published
    assert identity.requests["jwks"] == 2

    # Unknown kids do not hammer the issuer: one refetch per interval at most.
    foreign = SigningKey.generate()
    for _ in range(5):
        stranger = mint_token(foreign, identity.issuer, audience=AUDIENCE, tenant="org_acme", permissions=READ)
        assert call(gateway.url, "GET", "/v1/projects/p-1", token=stranger).status == 401
    assert identity.requests["jwks"] == 2


def test_an_unknown_kid_refetches_once_per_interval(identity):
    clock = [time.time() + 5]  # ahead of the tokens minted below, whatever second they fall in
    verifier = JwtVerifier(authorizer_for(identity), refetch_interval_seconds=30, clock=lambda: clock[0])
    verifier.verify_token(identity.mint_token(tenant="org_acme"))
    identity.rotate()
    rotated = identity.mint_token(tenant="org_acme")
    verifier.verify_token(rotated)  # unknown kid: one refetch
    assert verifier.jwks_fetches == 2
    identity.rotate()
    again = identity.mint_token(tenant="org_acme")
    with pytest.raises(Unauthorized, match="kid"):
        verifier.verify_token(again)  # within the interval: no refetch
    clock[0] += 31
    assert verifier.verify_token(again)["org_id"] == "org_acme"
    assert verifier.jwks_fetches == 3


def test_the_identity_keeps_its_key_across_restarts_and_publishes_discovery(tmp_path):
    with LocalIdentity(tmp_path / "identity") as first:
        kid = first.signing_key.kid
        token = first.mint_token(tenant="org_acme")
    assert (tmp_path / "identity" / "private_key.pem").stat().st_mode & 0o777 == 0o600
    with LocalIdentity(tmp_path / "identity") as second:
        assert second.signing_key.kid == kid
        assert jwt.get_unverified_header(token)["kid"] == kid
        reply = call(second.issuer.rstrip("/"), "GET", "/.well-known/openid-configuration")
        discovery = reply.json
        assert discovery["issuer"] == second.issuer == f"http://127.0.0.1:{second.port}/"
        assert discovery["id_token_signing_alg_values_supported"] == ["RS256"]
        keys = call(second.issuer.rstrip("/"), "GET", urlsplit(discovery["jwks_uri"]).path).json["keys"]
        assert [key["kid"] for key in keys] == [kid]
        assert jwk_thumbprint(keys[0]) == kid
    # RFC 7638, section 3.1
    example = {
        "kty": "RSA",
        "e": "AQAB",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiF"
        "V4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0"
        "zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csF"
        "Cur-kEgU8awapJzKnqDKgw",
    }
    assert jwk_thumbprint(example) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


# -- responses ------------------------------------------------------------------------------------


def respond(gateway: Gateway, response) -> Reply:
    body = json.dumps({"response": response}).encode()
    return call(gateway.url, "POST", "/v1/respond", body=body, headers=[("Content-Type", "application/json")])


def test_both_response_formats_are_mapped_to_http(gateway):
    structured = respond(
        gateway,
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/problem+json", "X-Count": 3, "Content-Length": "999"},
            "cookies": ["a=1; Path=/", "b=2; HttpOnly"],
            "body": '{"created": true}',
        },
    )
    assert structured.status == 201
    assert structured.headers["content-type"] == "application/problem+json"
    assert structured.headers["x-count"] == "3"
    assert structured.headers.get_all("set-cookie") == ["a=1; Path=/", "b=2; HttpOnly"]
    assert structured.json == {"created": True}

    binary = respond(
        gateway, {"statusCode": 200, "body": base64.b64encode(b"\x89PNG\x00").decode(), "isBase64Encoded": True}
    )
    assert (binary.status, binary.raw) == (200, b"\x89PNG\x00")
    assert respond(gateway, {"statusCode": 204}).raw == b""

    for inferred in [{"items": [1, 2]}, ["a", "b"], "Hello from Lambda!", 42, None]:
        reply = respond(gateway, inferred)
        assert reply.status == 200
        assert reply.headers["content-type"] == "application/json"
        assert reply.json == inferred

    for malformed in [{"statusCode": "ok"}, {"statusCode": 200, "body": {"not": "a string"}}, {"statusCode": 99}]:
        reply = respond(gateway, malformed)
        assert (reply.status, reply.json) == (502, {"message": "Bad Gateway"}), malformed


def test_a_failing_function_is_a_500(gateway):
    reply = call(gateway.url, "GET", "/v1/fail")
    assert (reply.status, reply.json) == (500, {"message": "Internal Server Error"})
    assert gateway.stats["GET /v1/fail"].server_errors == 1


class FakeInvoker:
    def __init__(self, result: InvocationResult, delay: float = 0.0) -> None:
        self.result = result
        self.delay = delay
        self.released = threading.Event()

    def invoke(self, function, event):
        self.released.wait(self.delay)
        return self.result


def test_throttles_are_429_and_slow_integrations_503():
    route = RouteSpec("GET", "/x", "f", None, ())
    throttled = FakeInvoker(InvocationResult("f", "r", False, None, "TooManyRequestsException", "Rate Exceeded."))
    with Gateway([route], throttled) as gw:
        reply = call(gw.url, "GET", "/x")
        assert (reply.status, reply.json) == (429, {"message": "Too Many Requests"})
    slow = FakeInvoker(InvocationResult("f", "r", True, {"ok": True}), delay=5)
    with Gateway([route], slow, integration_timeout_seconds=0.2) as gw:
        reply = call(gw.url, "GET", "/x")
        slow.released.set()
        assert (reply.status, reply.json) == (503, {"message": "Service Unavailable"})


def test_cors_preflights_are_answered_by_the_gateway(identity, environments):
    cors = CorsConfig(
        allow_origins=("http://localhost:3000",),
        allow_methods=("GET", "POST", "OPTIONS"),
        allow_headers=("Authorization", "Content-Type"),
        max_age=600,
    )
    with Gateway(routes(authorizer_for(identity)), environments, cors=cors) as gw:
        preflight = call(
            gw.url,
            "OPTIONS",
            "/v1/projects/p-1",
            headers=[
                ("Origin", "http://localhost:3000"),
                ("Access-Control-Request-Method", "GET"),
                ("Access-Control-Request-Headers", "authorization,content-type"),
            ],
        )
        assert preflight.status == 204
        assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
        assert preflight.headers["access-control-allow-methods"] == "GET,POST,OPTIONS"
        assert preflight.headers["access-control-allow-headers"] == "authorization,content-type"
        assert preflight.headers["access-control-max-age"] == "600"

        stranger = call(
            gw.url,
            "OPTIONS",
            "/v1/projects/p-1",
            headers=[("Origin", "https://evil.example"), ("Access-Control-Request-Method", "GET")],
        )
        assert stranger.status == 204
        assert "access-control-allow-origin" not in stranger.headers

        actual = call(gw.url, "GET", "/v1/health", headers=[("Origin", "http://localhost:3000")])
        assert actual.status == 200
        assert actual.headers["access-control-allow-origin"] == "http://localhost:3000"
        assert gw.stats["$preflight"].requests == 2


def test_claims_are_stringified_as_api_gateway_does():
    assert stringify_claim("x") == "x"
    assert stringify_claim(1700000000) == "1700000000"
    assert stringify_claim(1.5) == "1.5"
    assert stringify_claim(True) == "true"
    assert stringify_claim(["a", "b", 3]) == "[a b 3]"
    assert stringify_claim({"b": 1, "a": "x"}) == "map[a:x b:1]"
