"""The SSRF rules of fetches made on a customer's behalf, against a real HTTP server on loopback."""

import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import trustme

from shared.crawl.ssrf import AddressPolicy, BlockedAddress, check_url, guarded_client, is_public, pinned_endpoint

DEMO_HOST = "demo-outdoor.example.com"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("93.184.215.14", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("127.8.9.10", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # the cloud metadata service
        ("100.64.0.1", False),  # shared address space (carrier NAT)
        ("0.0.0.0", False),  # noqa: S104 (an address under test, not a binding)
        ("224.0.0.1", False),
        ("255.255.255.255", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("fd00:ec2::254", False),  # the metadata service over IPv6
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("::ffff:169.254.169.254", False),
        ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
        ("2002:808:808::1", True),  # 6to4 of 8.8.8.8
    ],
)
def test_only_public_addresses_are_public(address, public):
    assert is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "gopher://example.com/", "ftp://example.com/x", "example.com/x", "http:///nohost"]
)
def test_only_http_and_https_urls_with_a_host(url):
    with pytest.raises(BlockedAddress):
        check_url(url)


def test_credentials_in_a_url_are_refused():
    with pytest.raises(BlockedAddress, match="credentials"):
        check_url("https://user:secret@example.com/")
    assert check_url("https://Example.com:8443/a?b") == "example.com"


class _Site(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:
        _Site.seen.append(f"{self.headers['Host']} {self.path}")
        if self.path == "/to-metadata":
            self.send_response(301)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
            return
        body = b"<html><title>Demo</title></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[int]:
    _Site.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
def test_loopback_is_never_reached(site, host):
    with guarded_client(AddressPolicy()) as client, pytest.raises(BlockedAddress, match="not a public address"):
        client.get(f"http://{host}:{site}/")
    assert _Site.seen == []


def test_a_name_that_resolves_to_loopback_among_public_addresses_is_refused(site, monkeypatch):
    def resolve(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with guarded_client(AddressPolicy()) as client, pytest.raises(BlockedAddress, match=r"127\.0\.0\.1"):
        client.get(f"http://rebinding.example:{site}/")
    assert _Site.seen == []


def test_a_pinned_host_reaches_its_address_and_a_redirect_to_the_metadata_service_does_not(site):
    policy = AddressPolicy(pinned={DEMO_HOST: "127.0.0.1"})
    with guarded_client(policy) as client:
        page = client.get(f"http://{DEMO_HOST}:{site}/")
        assert (page.status_code, page.text) == (200, "<html><title>Demo</title></html>")
        hop = client.get(f"http://{DEMO_HOST}:{site}/to-metadata")
        assert hop.status_code == 301
        with pytest.raises(BlockedAddress, match=r"169\.254\.169\.254"):
            client.get(hop.headers["Location"])
    assert _Site.seen == [f"{DEMO_HOST}:{site} /", f"{DEMO_HOST}:{site} /to-metadata"]
    # Pinning one host opens nothing else on that address.
    with guarded_client(policy) as client, pytest.raises(BlockedAddress):
        client.get(f"http://127.0.0.1:{site}/")


def test_proxy_variables_do_not_route_around_the_check(site, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{site}")
    monkeypatch.setenv("ALL_PROXY", f"http://127.0.0.1:{site}")
    with guarded_client(AddressPolicy()) as client, pytest.raises(BlockedAddress):
        client.get("http://169.254.169.254/latest/meta-data/")
    assert _Site.seen == []


@pytest.mark.parametrize(
    ("value", "endpoint"),
    [
        ("127.0.0.1", ("127.0.0.1", None)),
        ("::1", ("::1", None)),
        ("127.0.0.1:3003", ("127.0.0.1", 3003)),
        ("[::1]:3003", ("::1", 3003)),
    ],
)
def test_a_pinned_value_is_an_address_with_an_optional_port(value, endpoint):
    assert pinned_endpoint(value) == endpoint


@pytest.mark.parametrize("value", ["demo.local", "127.0.0.1:http", "[::1]:99999"])
def test_a_pinned_value_must_be_an_address(value):
    with pytest.raises(ValueError, match="pinned address"):
        pinned_endpoint(value)


def test_a_pinned_port_is_used_whatever_the_urls_port(site):
    policy = AddressPolicy(pinned={DEMO_HOST: f"127.0.0.1:{site}"})
    with guarded_client(policy, user_agent="KestrelBot/1.0") as client:
        page = client.get(f"http://{DEMO_HOST}/")
    assert page.status_code == 200
    # The Host header still names the URL's host (no port: 80 is the default), not the address.
    assert _Site.seen == [f"{DEMO_HOST} /"]


@pytest.fixture(scope="module")
def demo_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_site(demo_ca) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    demo_ca.issue_cert(DEMO_HOST).configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_demo_sites_ca_is_trusted_when_given_and_the_host_name_still_verified(tls_site, demo_ca, tmp_path):
    ca_file = tmp_path / "demo-ca.pem"
    demo_ca.cert_pem.write_to_path(str(ca_file))
    policy = AddressPolicy(pinned={DEMO_HOST: f"127.0.0.1:{tls_site}", "other.example.com": f"127.0.0.1:{tls_site}"})
    with guarded_client(policy, ca_file=str(ca_file)) as client:
        assert client.get(f"https://{DEMO_HOST}/").status_code == 200
        # The certificate names the demo host only: another name pinned to the same server fails verification.
        with pytest.raises(httpx.ConnectError, match="certificate verify failed"):
            client.get("https://other.example.com/")
    # Without the CA, the default trust store does not know the demo site's certificate.
    with guarded_client(policy) as client, pytest.raises(httpx.ConnectError, match="certificate verify failed"):
        client.get(f"https://{DEMO_HOST}/")
