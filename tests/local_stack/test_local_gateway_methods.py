"""The local gateway answers a method no route declares as API Gateway HTTP API does: a JSON 404, never the
stdlib server's HTML 501."""

import http.client
import json

import pytest

from kestrel_local.gateway import Gateway
from kestrel_local.model import InvocationResult, RouteSpec


class NeverInvoked:
    def invoke(self, function: str, event: dict) -> InvocationResult:
        raise AssertionError(f"{function} must not be invoked")


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "BREW"])
def test_an_undeclared_method_is_a_json_404(method):
    with Gateway([RouteSpec("GET", "/v1/health", "api", None, ())], NeverInvoked()) as gateway:
        connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=5)
        connection.request(method, "/v1/health")
        response = connection.getresponse()
        assert response.status == 404
        assert response.getheader("Content-Type") == "application/json"
        assert json.loads(response.read()) == {"message": "Not Found"}
        connection.close()
