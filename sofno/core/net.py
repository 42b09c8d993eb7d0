"""The client's IP address, trusting ``X-Forwarded-For`` only from our own proxies.

Rules:
- ``SOFNO_TRUSTED_PROXIES`` lists the proxies' networks (comma-separated CIDRs or
  addresses); by default none is trusted and the direct peer is the client.
- When the direct peer is a trusted proxy, the ``X-Forwarded-For`` chain is walked
  from the right (the hop our proxy added last) skipping trusted hops; the first
  untrusted address is the client. Entries to its left were written by the client
  and are never believed.
- A malformed entry stops the walk: the last address we could vouch for is used.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(items: Iterable[str], setting: str = "SOFNO_TRUSTED_PROXIES") -> list[Network]:
    """CIDRs (or single addresses) as networks; a bad one is an error naming ``setting``."""
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{setting} must list networks such as 10.0.0.0/8 or 127.0.0.1, got {item!r}"
            ) from None
    return networks


@lru_cache(maxsize=8)
def _trusted(items: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(parse_networks(items))


def trusted_proxies() -> tuple[Network, ...]:
    """The configured trusted proxy networks."""
    return _trusted(tuple(getattr(settings, "TRUSTED_PROXIES", ())))


def _address(raw: str | None) -> Address | None:
    if not raw:
        return None
    text = raw.strip()
    # "[::1]:443" or "1.2.3.4:80" are seen from some proxies; keep the address part.
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _is_trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def _peer_and_xff(request_or_scope: Any) -> tuple[str | None, str]:
    """The direct peer and the raw X-Forwarded-For of a Django request or ASGI scope."""
    if isinstance(request_or_scope, Mapping) and "type" in request_or_scope:
        client = request_or_scope.get("client") or (None, None)
        forwarded = [
            value.decode("latin-1")
            for name, value in request_or_scope.get("headers", [])
            if name.lower() == b"x-forwarded-for"
        ]
        return client[0], ",".join(forwarded)
    meta = request_or_scope.META
    return meta.get("REMOTE_ADDR"), meta.get("HTTP_X_FORWARDED_FOR", "")


def client_ip(request_or_scope: Any, networks: tuple[Network, ...] | None = None) -> str | None:
    """The client's IP address as text (or ``None`` when there is no peer at all).

    ``request_or_scope`` is a Django request or an ASGI scope; ``networks`` overrides
    ``SOFNO_TRUSTED_PROXIES`` (for callers with their own list).
    """
    trusted = trusted_proxies() if networks is None else networks
    peer_raw, forwarded = _peer_and_xff(request_or_scope)
    peer = _address(peer_raw)
    if peer is None:
        return peer_raw or None
    if not trusted or not _is_trusted(peer, trusted):
        return str(peer)
    client = peer
    for hop in reversed([h for h in forwarded.split(",") if h.strip()]):
        address = _address(hop)
        if address is None:
            break
        client = address
        if not _is_trusted(address, trusted):
            break
    return str(client)
