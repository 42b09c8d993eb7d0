"""The one outbound HTTP client, with the address guard applied at connect time.

Every HTTP request SOFNO makes to an address someone typed in (webhook endpoints, the
caller lookup) goes through :func:`sync_client` or :func:`async_client`. Their transport
resolves the host name itself through :func:`sofno.core.guard.resolve`, which checks
every resolved address *before* connecting, and connects to the checked address, so a
name that resolves to a private address is refused although the URL looked fine when
it was saved. The policy itself (which ranges, which URLs) lives in
:mod:`sofno.core.guard`, shared with SMTP, Apprise and web push.

URL policy (checked when a URL is saved and again before each request):
- https only, unless ``SOFNO_OUTBOUND_ALLOW_HTTP`` is on;
- port 443 only, unless the port is in ``SOFNO_OUTBOUND_ALLOWED_PORTS``;
- at most 2,048 characters, with a host and no user name or password.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from sofno.core.guard import (
    MAX_URL_LENGTH,
    AddressRefused,
    UrlRefused,
    check_address,
    literal_address,
    refusal_reason,
    resolve,
)
from sofno.core.guard import check_url as _check_url

__all__ = [
    "MAX_URL_LENGTH",
    "AddressRefused",
    "UrlRefused",
    "async_client",
    "check_address",
    "check_url",
    "refusal_reason",
    "sync_client",
]
# httpx logs every request at INFO: at webhook volumes that is the bottleneck and
# noise; attempts are recorded in the database instead.
logging.getLogger("httpx").setLevel(logging.WARNING)


def check_url(url: str, *, lookup: bool = True) -> str:
    """An http(s) URL the outbound policy allows, else :class:`UrlRefused`.

    ``lookup=True`` (saving) also checks the host now (a literal private address,
    ``localhost``, a name resolving only to refused addresses) so the person saving
    hears at once; sending passes ``lookup=False`` because the transport checks the
    resolved address when it connects.
    """
    return _check_url(url, lookup=lookup, host=lookup)


class _GuardedBackend(httpcore.NetworkBackend):
    """Resolve, check, then connect to the checked address (never re-resolve)."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self.inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve(host, port)
        except socket.gaierror as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from exc
        last: Exception | None = None
        for address in addresses:
            try:
                return self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(host)

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise AddressRefused("unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class _AsyncGuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self.inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if literal_address(host) is not None:
            addresses = resolve(host, port)
        else:
            loop = asyncio.get_running_loop()
            # Resolving blocks: off the event loop, through the same guard.
            try:
                addresses = await loop.run_in_executor(None, resolve, host, port)
            except socket.gaierror as exc:
                raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from exc
        last: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(host)

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
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
        check_url(str(request.url), lookup=False)


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
        check_url(str(request.url), lookup=False)

    return httpx.AsyncClient(
        transport=AsyncGuardedTransport(limits=limits),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": USER_AGENT},
        event_hooks={"request": [policy]},
        **kwargs,
    )
