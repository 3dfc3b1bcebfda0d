"""Fetching on a customer's behalf without reaching the platform's own network (SSRF rules).

A URL a customer gives (a site to crawl, a competitor's page) may name, or redirect
to, an address inside the VPC or the cloud metadata service. Every connection made
for such a fetch therefore goes through ``GuardedBackend``: it resolves the host
itself, refuses the whole host when any of its addresses is not public (loopback,
private, link-local with 169.254.169.254, shared, multicast, reserved, unspecified,
and IPv6 forms that embed such an IPv4 address), and connects to an address it
checked, never resolving twice, so DNS cannot answer differently between the check
and the connection. Redirects are followed by the caller, hop by hop, each through
the same backend. TLS still verifies the certificate for the URL's host name.

The local stack reaches its demo site through ``AddressPolicy.pinned``: an explicit
map from a host name to the address to use, optionally with a port (``"127.0.0.1:3003"``,
``"[::1]:3003"``), which is configuration, not a switch that turns the protection off
(every other host is still checked). Its TLS certificate is signed by its own CA, which
``guarded_client(ca_file=...)`` adds to the default trust store; verification stays on.
"""

import ipaddress
import socket
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from shared.errors import InvalidRequest

ALLOWED_SCHEMES = ("http", "https")
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddress(InvalidRequest):
    """The URL names, resolves to, or redirects to an address Kestrel must not reach."""


class HostNotFound(httpcore.ConnectError):
    """The host name does not resolve (a connection error that callers may tell apart from a refusal)."""


def is_public(address: IpAddress) -> bool:
    """Whether ``address`` is on the public internet (an embedded IPv4 address is judged as itself)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None:
            return is_public(embedded)
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified)


def check_url(url: str) -> str:
    """The URL's host, if the URL may be fetched at all: http(s), a host, no credentials in it."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise BlockedAddress(f"{url!r}: only http and https URLs are fetched, not {parts.scheme or 'no scheme'}.")
    if not parts.hostname:
        raise BlockedAddress(f"{url!r} has no host.")
    if parts.username or parts.password:
        raise BlockedAddress(f"{url!r} carries credentials; they are not sent.")
    return parts.hostname


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses a host may be reached at: public ones, or the one ``pinned`` names for it."""

    pinned: Mapping[str, str] = field(default_factory=dict)

    def endpoints(self, host: str, port: int) -> list[tuple[str, int]]:
        """The checked (address, port) pairs to connect to, in resolver order; ``BlockedAddress`` if any is not public.

        A pinned host is reached at its pinned address, and at its pinned port when one is given,
        whatever the URL's port (the demo site listens on a high port but is crawled as its real URL).
        """
        name = host.lower().rstrip(".").strip("[]")
        if name in self.pinned:
            pinned_address, pinned_port = pinned_endpoint(self.pinned[name])
            return [(pinned_address, pinned_port or port)]
        try:
            literal: IpAddress | None = ipaddress.ip_address(name)
        except ValueError:
            literal = None
        if literal is not None:
            resolved = [literal]
        else:
            try:
                infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
            except socket.gaierror as exc:
                raise HostNotFound(f"{host} does not resolve: {exc}") from exc
            resolved = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
        for address in resolved:
            if not is_public(address):
                raise BlockedAddress(f"{host} resolves to {address}, which is not a public address.")
        return [(str(address), port) for address in resolved]


def pinned_endpoint(value: str) -> tuple[str, int | None]:
    """A pinned value as (address, port or None): ``"10.0.0.5"``, ``"::1"``, ``"127.0.0.1:3003"``, ``"[::1]:3003"``."""
    try:
        return str(ipaddress.ip_address(value)), None
    except ValueError:
        pass
    parts = urlsplit(f"//{value}")
    try:
        port = parts.port
        address = ipaddress.ip_address(parts.hostname or "")
    except ValueError as exc:
        raise ValueError(f"pinned address {value!r} is not an IP address with an optional port") from exc
    return str(address), port


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's network backend, connecting only to addresses the policy checked."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        failure: httpcore.ConnectError | None = None
        for address, address_port in self.policy.endpoints(host, port):
            try:
                return self._sockets.connect_tcp(address, address_port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"{host}: no address to connect to")

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise BlockedAddress("Unix sockets are never reached on a customer's behalf.")

    def sleep(self, seconds: float) -> None:
        self._sockets.sleep(seconds)


def guarded_client(
    policy: AddressPolicy,
    *,
    timeout: float = 20.0,
    ca_file: str | None = None,
    user_agent: str | None = None,
    **options: Any,
) -> httpx.Client:
    """An httpx client whose every connection goes through ``GuardedBackend``.

    It follows no redirect (the caller checks each hop's URL and records the chain) and ignores proxy
    variables (a proxy would make the connection on our behalf, unchecked). ``ca_file`` (PEM) is trusted
    in addition to the system's CAs, for a site whose certificate a private CA signed (the local demo
    site); ``user_agent`` is sent with every request.
    """
    ssl_context = ssl.create_default_context()
    if ca_file is not None:
        ssl_context.load_verify_locations(cafile=ca_file)
    transport = httpx.HTTPTransport(trust_env=False)
    # httpx builds its own connection pool; this one differs only in the network backend it connects through.
    transport._pool = httpcore.ConnectionPool(ssl_context=ssl_context, network_backend=GuardedBackend(policy))
    if user_agent is not None:
        options["headers"] = {**options.get("headers", {}), "User-Agent": user_agent}
    return httpx.Client(transport=transport, follow_redirects=False, trust_env=False, timeout=timeout, **options)
