"""The one outbound guard: every connection SOFNO opens to an address someone typed in.

One policy, :func:`refusal_reason`, decides whether an IP address may be reached; every
outbound path asks it about the address it is *actually about to connect to*, after DNS
resolution, so a name that resolves to a private address (``localhost``, a
DNS-rebinding name) is refused although the URL looked fine when it was saved:

- webhooks and the caller lookup (httpx): ``sofno.core.http``'s transport calls
  :func:`resolve` and connects to the checked address;
- SMTP profiles: :func:`open_connection` resolves, checks and connects smtplib to the
  checked address (the host name is kept for TLS SNI and certificate checks);
- Apprise and web push, whose libraries connect with ``requests`` on their own: the
  call runs inside :func:`scope`, where a Python audit hook checks the address of every
  ``socket.connect``/``sendto`` the thread makes and refuses connects by name.

Refused unless ``OUTBOUND_ALLOWED_NETWORKS`` (``SOFNO_OUTBOUND_ALLOWED_NETWORKS``; the
older ``SOFNO_WEBHOOK_ALLOWED_NETWORKS`` still counts) lists a range containing it:

- private (10/8, 172.16/12, 192.168/16), loopback, link-local (the cloud metadata
  address 169.254.169.254), shared 100.64/10, "this network" 0/8;
- multicast, broadcast, unspecified, reserved (240/4), documentation, benchmarking
  198.18/15, IETF protocol assignments 192.0.0/24;
- IPv6 unique-local fc00::/7, link-local fe80::/10, site-local, Teredo, 6to4 2002::/16,
  NAT64 64:ff9b::/96 and 64:ff9b:1::/48, IPv4-mapped ``::ffff:0:0/96`` and
  IPv4-compatible forms (they smuggle an IPv4 address past an IPv6-only check; they are
  refused even when the IPv4 range is allowed).

At save time :func:`check_url` and :func:`check_host` refuse what is known then: the
scheme, user info, the port, literal non-public addresses (also ``127.1`` and
``2130706433`` spellings), local names (``localhost``), and names that resolve only to
refused addresses. A name that does not resolve when saved (within two seconds) is
accepted: connecting decides.

Tests point the guard at a table instead of DNS with ``OUTBOUND_RESOLVER`` (a callable
``(host, port) -> list of addresses``, or its dotted path).
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.utils.module_loading import import_string

from sofno.core.env import env_bool, env_list

MAX_URL_LENGTH = 2048
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

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
# Names that mean "this machine" without asking DNS (RFC 6761 and Debian's hosts).
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


class AddressRefused(httpx.ConnectError):
    """The target resolves to an address the guard refuses.

    An ``httpx.ConnectError`` (so the httpx clients raise it as one) but not an
    ``OSError``: libraries that swallow connection errors let it through.
    """


class UrlRefused(ValueError):
    """A URL or host breaks the outbound policy; ``rule`` names the broken rule."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


# --- the address policy -------------------------------------------------------------


def allowed_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The ranges an administrator allows (``OUTBOUND_ALLOWED_NETWORKS`` plus the old
    ``WEBHOOK_ALLOWED_NETWORKS``)."""
    items = [
        *(getattr(settings, "OUTBOUND_ALLOWED_NETWORKS", None) or []),
        *(getattr(settings, "WEBHOOK_ALLOWED_NETWORKS", None) or []),
    ]
    return _parse_networks(tuple(str(item) for item in items))


@lru_cache(maxsize=16)
def _parse_networks(
    cidrs: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs)


def refusal_reason(address: str | IPAddress) -> str | None:
    """Why the guard refuses ``address``, or ``None`` when it may be reached.

    The one decision every outbound path asks. An address inside the allowed
    networks is allowed, except IPv4-mapped/compatible IPv6 forms, which are never
    allowed through an IPv4 range (connect with the IPv4 address instead).
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
    if any(ip.version == net.version and ip in net for net in allowed_networks()):
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


def literal_address(host: str) -> IPAddress | None:
    """``host`` as an IP address when it is one in any spelling the C library accepts
    (``[::1]``, ``127.1``, ``0x7f000001``, ``2130706433``), else ``None``."""
    text = host.strip().strip("[]")
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        pass
    try:
        # inet_aton is what getaddrinfo uses for numeric IPv4: its odd forms count.
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except (OSError, ValueError):
        return None


# --- resolution and connecting ------------------------------------------------------


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]  # the address: already a str for TCP/IP


def resolver() -> Resolver:
    """The name resolver: ``OUTBOUND_RESOLVER`` when set (tests), else the system's."""
    configured = getattr(settings, "OUTBOUND_RESOLVER", None)
    if not configured:
        return _system_resolver
    found: Resolver = import_string(configured) if isinstance(configured, str) else configured
    return found


def resolve(host: str, port: int) -> list[str]:
    """The addresses of ``host`` the guard allows, in resolver order.

    - a literal address is checked as it is;
    - a name is resolved (``socket.gaierror`` when it cannot be) and only its allowed
      addresses are returned; :class:`AddressRefused` when none is allowed.
    """
    literal = literal_address(host)
    if literal is not None:
        check_address(literal)
        return [str(literal)]
    addresses, reasons = [], []
    for address in resolver()(host, port):
        reason = refusal_reason(address)
        if reason:
            reasons.append(reason)
        elif address not in addresses:
            addresses.append(address)
    if not addresses:
        detail = "; ".join(dict.fromkeys(reasons)) or "no address"
        raise AddressRefused(f"address refused for {host}: {detail}")
    return addresses


def open_connection(
    host: str, port: int, timeout: float | None = None, source_address: Any = None
) -> socket.socket:
    """A TCP socket to ``host`` connected to a checked address (never re-resolved).

    Raises :class:`AddressRefused`, ``socket.gaierror`` or the last ``OSError``.
    """
    last: OSError | None = None
    for address in resolve(host, port):
        try:
            return socket.create_connection((address, port), timeout, source_address)
        except OSError as exc:
            last = exc
    raise last or OSError(f"cannot connect to {host}")


# --- libraries that connect on their own: an audit hook, active inside scope() ------

_SCOPE: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "sofno_outbound_scope", default=None
)
_HOOK_LOCK = threading.Lock()
_HOOK_INSTALLED = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not event.startswith("socket.") or event not in ("socket.connect", "socket.sendto"):
        return
    refusals = _SCOPE.get()
    if refusals is None:
        return
    address = args[-1]
    reason: str | None
    if not isinstance(address, tuple) or not address:
        reason = f"{address!r} is not an internet address"
    else:
        literal = literal_address(str(address[0]))
        if literal is None:
            # Connecting by name would let the C library resolve again behind our back.
            reason = f"{address[0]!r} is a name, not a checked address"
        else:
            reason = refusal_reason(literal)
    if reason:
        refusals.append(reason)
        raise AddressRefused(f"address refused: {reason}")


def _install_hook() -> None:
    global _HOOK_INSTALLED
    with _HOOK_LOCK:
        if not _HOOK_INSTALLED:
            sys.addaudithook(_audit)  # cannot be removed: it acts only inside scope()
            _HOOK_INSTALLED = True


@contextlib.contextmanager
def scope() -> Iterator[list[str]]:
    """Guard every socket this thread connects while inside the block.

    For libraries that open their own connections (``requests`` in Apprise and
    pywebpush): each ``connect``/``sendto`` address is checked after the library
    resolved it; a refused one raises :class:`AddressRefused` in the library. The
    yielded list collects the refusals, since some libraries swallow exceptions.
    Threads started inside the block are not covered: run the library in this thread.
    """
    _install_hook()
    refusals: list[str] = []
    token = _SCOPE.set(refusals)
    try:
        yield refusals
    finally:
        _SCOPE.reset(token)


# --- save-time checks ---------------------------------------------------------------


def allow_http() -> bool:
    """Plain ``http://`` allowed (``SOFNO_OUTBOUND_ALLOW_HTTP``; labs and tests)."""
    for name in ("OUTBOUND_ALLOW_HTTP", "WEBHOOK_ALLOW_HTTP"):
        value = getattr(settings, name, None)
        if value is not None:
            return bool(value)
    return env_bool("SOFNO_OUTBOUND_ALLOW_HTTP") or env_bool("SOFNO_WEBHOOK_ALLOW_HTTP")


def allowed_ports() -> set[str]:
    """Ports URLs may name (``SOFNO_OUTBOUND_ALLOWED_PORTS``, default 443; ``*`` any)."""
    ports = None
    for name in ("OUTBOUND_ALLOWED_PORTS", "WEBHOOK_ALLOWED_PORTS"):
        ports = getattr(settings, name, None)
        if ports is not None:
            break
    if ports is None:
        ports = env_list("SOFNO_OUTBOUND_ALLOWED_PORTS") or env_list(
            "SOFNO_WEBHOOK_ALLOWED_PORTS", ["443"]
        )
    return {str(p) for p in ([ports] if isinstance(ports, str | int) else ports)}


# How long a save waits for a name to resolve before accepting it unresolved
# (connecting checks again in any case); the lookups run in a few threads of their own.
SAVE_LOOKUP_SECONDS = 2.0
_LOOKUPS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="guard-lookup")


def check_host(host: str, port: int = 0, *, lookup: bool = True) -> str:
    """Return ``host`` unless it is known now to be non-public; else :class:`UrlRefused`.

    - a literal address (any spelling) is checked;
    - ``localhost`` and its kin are loopback by definition;
    - with ``lookup``, a name is resolved and refused when none of its addresses is
      allowed; a name that does not resolve now, or not within
      ``SAVE_LOOKUP_SECONDS``, is accepted (connecting decides).
    """
    name = host.strip().rstrip(".").lower()
    if not name:
        raise UrlRefused("invalid", "must name a host")
    literal = literal_address(name)
    if literal is None and (name in _LOCAL_NAMES or name.endswith(".localhost")):
        literal = ipaddress.ip_address("127.0.0.1")
    if literal is not None:
        reason = refusal_reason(literal)
        if reason:
            raise UrlRefused("address", f"{host} is not allowed: {reason}")
        return host
    if lookup:
        # Bounded: a resolver that does not answer (no route to the internet, a dead
        # DNS server) must not hold the person saving for its own timeout.
        lookup_done = _LOOKUPS.submit(resolve, name, port or 443)
        try:
            lookup_done.result(timeout=SAVE_LOOKUP_SECONDS)
        except AddressRefused as exc:
            raise UrlRefused("address", f"{host} is not allowed: {exc}") from None
        except (OSError, UnicodeError, ValueError, TimeoutError):
            pass
    return host


def check_url(
    url: str, *, lookup: bool = True, host: bool = True, schemes: tuple[str, ...] = ("https",)
) -> str:
    """Return ``url`` if the outbound policy allows it, else raise :class:`UrlRefused`.

    - at most 2,048 characters; a scheme and host; no user name or password;
    - one of ``schemes`` (``http`` besides ``https`` only where an administrator allows);
    - port 443 unless an administrator allows others;
    - with ``host``, the host passes :func:`check_host` (``lookup`` resolves a name);
      a sender whose connection is guarded may skip both.
    """
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused("max_length", f"must be at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused("invalid", f"is not a valid URL: {exc}") from None
    allowed_schemes = set(schemes)
    if allow_http() and "https" in allowed_schemes:
        allowed_schemes.add("http")
    if parts.scheme not in allowed_schemes:
        raise UrlRefused("https_only", "must start with https://")
    if not parts.hostname:
        raise UrlRefused("invalid", "must name a host")
    if parts.username or parts.password or "@" in parts.netloc:
        raise UrlRefused("invalid", "must not contain a user name or password")
    port = port or (80 if parts.scheme == "http" else 443)
    allowed = allowed_ports()
    if "*" not in allowed and str(port) not in allowed:
        raise UrlRefused("port", f"port {port} is not allowed (only {', '.join(sorted(allowed))})")
    if host:
        check_host(parts.hostname, port, lookup=lookup)
    return url
