"""The one outbound HTTP client, with the address guard applied at connect time.

Every request SOFNO makes to an address someone typed in (webhook endpoints, later
provider URLs) goes through :func:`sync_client` or :func:`async_client`. Their transport
resolves the host name itself and checks every resolved address *before* connecting,
so a name that resolves to a private address (``localhost``, a DNS-rebinding name) is
refused even though the URL looked fine when it was saved.

Refused unless ``settings.WEBHOOK_ALLOWED_NETWORKS`` (``SOFNO_WEBHOOK_ALLOWED_NETWORKS``)
lists a range containing the address:
- private (10/8, 172.16/12, 192.168/16), loopback, link-local, shared 100.64/10;
- multicast, broadcast, unspecified, reserved (240/4), documentation, benchmarking
  198.18/15, IETF protocol assignments 192.0.0/24;
- IPv6 unique-local fc00::/7, link-local fe80::/10, site-local, Teredo, 6to4 2002::/16,
  NAT64 64:ff9b::/96 and 64:ff9b:1::/48, IPv4-mapped ``::ffff:0:0/96`` and
  IPv4-compatible forms (they smuggle an IPv4 address past an IPv6-only check).

URL policy (checked when an endpoint is saved and again before each request):
- https only, unless ``WEBHOOK_ALLOW_HTTP`` (``SOFNO_WEBHOOK_ALLOW_HTTP``) is on;
- port 443 only, unless the port is in ``WEBHOOK_ALLOWED_PORTS``
  (``SOFNO_WEBHOOK_ALLOWED_PORTS``, comma-separated, ``*`` for any);
- at most 2,048 characters, with a host and no user name or password.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings

from sofno.core.env import env_bool, env_list

MAX_URL_LENGTH = 2048
# httpx logs every request at INFO: at webhook volumes that is the bottleneck and
# noise; attempts are recorded in the database instead.
logging.getLogger("httpx").setLevel(logging.WARNING)
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges that ``ipaddress``'s flags do not all cover on every Python version.
_REFUSED_NETWORKS = tuple(
    ipaddress.ip_network(cidr)
    for cidr in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "255.255.255.255/32",
        "::/96",  # IPv4-compatible (deprecated) plus :: and ::1
        "::ffff:0:0/96",  # IPv4-mapped
        "64:ff9b::/96",  # NAT64
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/32",  # Teredo
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4
        "3fff::/20",  # documentation (2024)
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)


class AddressRefused(httpx.ConnectError):
    """The target resolves to an address the guard refuses."""


class UrlRefused(ValueError):
    """A URL breaks the outbound policy; ``rule`` names the broken rule."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return _parse_networks(tuple(getattr(settings, "WEBHOOK_ALLOWED_NETWORKS", []) or []))


@lru_cache(maxsize=16)
def _parse_networks(cidrs: tuple[str, ...]) -> list:
    return [ipaddress.ip_network(cidr, strict=False) for cidr in cidrs]


def refusal_reason(address: str | IPAddress) -> str | None:
    """Why the guard refuses ``address``, or ``None`` when it may be reached.

    An address inside ``WEBHOOK_ALLOWED_NETWORKS`` is always allowed.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
    if any(ip.version == net.version and ip in net for net in _allowed_networks()):
        return None
    for net in _REFUSED_NETWORKS:
        if ip.version == net.version and ip in net:
            return f"{ip} is in the non-public range {net}"
    if ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return f"{ip} is a multicast, reserved or unspecified address"
    if ip.is_private or ip.is_loopback or ip.is_link_local or not ip.is_global:
        return f"{ip} is not a public address"
    return None


def check_address(address: str | IPAddress) -> None:
    """Raise :class:`AddressRefused` unless ``address`` may be connected to."""
    reason = refusal_reason(address)
    if reason:
        raise AddressRefused(f"address refused: {reason}")


def _allow_http() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_HTTP", env_bool("SOFNO_WEBHOOK_ALLOW_HTTP")))


def _allowed_ports() -> set[str]:
    ports = getattr(settings, "WEBHOOK_ALLOWED_PORTS", None)
    if ports is None:
        ports = env_list("SOFNO_WEBHOOK_ALLOWED_PORTS", ["443"])
    return {str(p) for p in ([ports] if isinstance(ports, str | int) else ports)}


def check_url(url: str) -> str:
    """Return ``url`` if the outbound policy allows it, else raise :class:`UrlRefused`.

    - at most 2,048 characters; a scheme and host; no credentials in the URL;
    - ``https`` (``http`` only where an administrator allows it);
    - port 443 unless an administrator allows others.
    """
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused("max_length", f"must be at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused("invalid", f"is not a valid URL: {exc}") from None
    allowed_schemes = {"https", "http"} if _allow_http() else {"https"}
    if parts.scheme not in allowed_schemes:
        raise UrlRefused("https_only", "must start with https://")
    if not parts.hostname:
        raise UrlRefused("invalid", "must name a host")
    if parts.username or parts.password:
        raise UrlRefused("invalid", "must not contain a user name or password")
    port = port or (443 if parts.scheme == "https" else 80)
    allowed = _allowed_ports()
    if "*" not in allowed and str(port) not in allowed:
        raise UrlRefused("port", f"port {port} is not allowed (only {', '.join(sorted(allowed))})")
    return url


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _pick(infos: Iterable[tuple], host: str) -> list[str]:
    """The resolved addresses the guard allows, in resolver order; raises if none."""
    addresses, reasons = [], []
    for info in infos:
        address = info[4][0]
        reason = refusal_reason(address)
        if reason:
            reasons.append(reason)
        elif address not in addresses:
            addresses.append(address)
    if not addresses:
        detail = "; ".join(reasons) or "no address"
        raise AddressRefused(f"address refused for {host}: {detail}")
    return addresses


class _GuardedBackend(httpcore.NetworkBackend):
    """Resolve, check, then connect to the checked address (never re-resolve)."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self.inner = inner

    def connect_tcp(self, host: str, port: int, timeout=None, local_address=None, **kw: Any):
        literal = _literal(host)
        if literal is not None:
            check_address(literal)
            addresses = [str(literal)]
        else:
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except socket.gaierror as exc:
                raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from exc
            addresses = _pick(infos, host)
        last: Exception | None = None
        for address in addresses:
            try:
                return self.inner.connect_tcp(address, port, timeout, local_address, **kw)
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(host)

    def connect_unix_socket(self, *args: Any, **kwargs: Any):
        raise AddressRefused("unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class _AsyncGuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self.inner = inner

    async def connect_tcp(self, host: str, port: int, timeout=None, local_address=None, **kw: Any):
        literal = _literal(host)
        if literal is not None:
            check_address(literal)
            addresses = [str(literal)]
        else:
            loop = asyncio.get_running_loop()
            try:
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except socket.gaierror as exc:
                raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from exc
            addresses = _pick(infos, host)
        last: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(address, port, timeout, local_address, **kw)
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(host)

    async def connect_unix_socket(self, *args: Any, **kwargs: Any):
        raise AddressRefused("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with the address guard in its connection pool."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(trust_env=False, **kwargs)
        # httpcore creates each connection with the pool's backend, so swapping it
        # here covers every connection this transport will ever open.
        self._pool._network_backend = _GuardedBackend(self._pool._network_backend)


class AsyncGuardedTransport(httpx.AsyncHTTPTransport):
    """The asynchronous twin of :class:`GuardedTransport`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(trust_env=False, **kwargs)
        self._pool._network_backend = _AsyncGuardedBackend(self._pool._network_backend)


class _PolicyHook:
    """Refuse a request whose URL breaks the policy (also after a redirect)."""

    def __call__(self, request: httpx.Request) -> None:
        check_url(str(request.url))


USER_AGENT = "SOFNO-Webhooks/1"


def sync_client(timeout: float = 15.0, **kwargs: Any) -> httpx.Client:
    """A guarded ``httpx.Client``: no proxies from the environment, no redirects."""
    limits = kwargs.pop("limits", httpx.Limits(max_connections=100))
    return httpx.Client(
        transport=GuardedTransport(limits=limits),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": USER_AGENT},
        event_hooks={"request": [_PolicyHook()]},
        **kwargs,
    )


def async_client(timeout: float = 15.0, **kwargs: Any) -> httpx.AsyncClient:
    """A guarded ``httpx.AsyncClient`` for concurrent sends (connections are reused)."""
    # Few, long-lived connections: a burst of hundreds of simultaneous connects
    # overflows a receiver's accept queue, while 64 reused connections keep up.
    limits = kwargs.pop(
        "limits",
        httpx.Limits(max_connections=64, max_keepalive_connections=64, keepalive_expiry=30),
    )

    async def policy(request: httpx.Request) -> None:
        check_url(str(request.url))

    return httpx.AsyncClient(
        transport=AsyncGuardedTransport(limits=limits),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": USER_AGENT},
        event_hooks={"request": [policy]},
        **kwargs,
    )
