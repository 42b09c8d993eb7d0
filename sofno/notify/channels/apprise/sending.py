"""Any Apprise URL as a channel (Slack, Teams, Telegram, ntfy, ...).

Apprise answers only success or failure per call, so a delivery row holds exactly one
Apprise target: a retry then resends to that target alone, never to the others.

Apprise opens its own connections (``requests``, ``smtplib``), so the outbound guard
works in two layers:

- :func:`validate_url` (saving, and again before each send) refuses a target host
  known to be non-public: a literal address, ``localhost``, or a dotted name that
  resolves only to refused addresses. Hosts without a dot are not looked up: many
  services put a token where the host goes (``tgram://<bot token>/...``) and a token
  must not leak into DNS;
- the notification runs in this thread (Apprise's thread pool off) inside
  :func:`sofno.core.guard.scope`, which checks the address of every socket Apprise
  connects, after its own DNS resolution: a name that changes its answer between the
  check and the connect is still refused.
"""

from __future__ import annotations

import ipaddress
import re

import apprise

from sofno.core import guard
from sofno.notify.channels.base import Result

_DNS_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


def _target_host(plugin) -> tuple[str, int]:
    host = str(getattr(plugin, "host", "") or "")
    port = getattr(plugin, "port", None)
    return host, int(port) if isinstance(port, int) else 443


def validate_url(url: str, *, lookup: bool = True) -> str:
    """``url`` if Apprise understands it and its host passes the guard.

    Raises ``ValueError`` (a :class:`~sofno.core.guard.UrlRefused` with ``rule``
    ``address`` when the host is not allowed).
    """
    if not url or len(url) > guard.MAX_URL_LENGTH:
        raise ValueError("not an Apprise URL this server understands")
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        raise ValueError("not an Apprise URL this server understands")
    host, port = _target_host(plugin)
    if not host:
        return url
    name = host.strip("[]").lower()
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
        literal = True
    except ValueError:
        # "127.1" is an address; "2130706433" without a dot is a token more often
        # (a Telegram bot id): if it is an address, the connect-time check sees it.
        literal = "." in name and guard.literal_address(name) is not None
    if literal or name in ("localhost", "ip6-localhost", "ip6-loopback"):
        guard.check_host(name, port, lookup=False)
    elif _DNS_NAME.match(name) or name.endswith(".localhost"):
        guard.check_host(name, port, lookup=lookup)
    return url


def send_apprise(url: str, title: str, body: str) -> Result:
    """Notify one Apprise target; a URL Apprise cannot parse is a permanent failure,
    and so is a target the outbound guard refuses."""
    try:
        validate_url(url)
    except guard.UrlRefused as exc:
        return Result(ok=False, permanent=True, detail=f"address refused: {exc}"[:500])
    except ValueError:
        return Result(ok=False, permanent=True, detail="not a valid Apprise URL")
    # async_mode off: the send stays in this thread, where the guard's scope applies.
    target = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False))
    if not target.add(url):
        return Result(ok=False, permanent=True, detail="not a valid Apprise URL")
    try:
        with guard.scope() as refusals:
            ok = target.notify(title=title[:250], body=body or title)
    except guard.AddressRefused as exc:
        return Result(ok=False, permanent=True, detail=str(exc)[:500])
    except Exception as exc:  # a plugin's own bug must not kill the send loop
        return Result(ok=False, detail=f"{type(exc).__name__}: {exc}"[:500])
    if refusals:
        return Result(ok=False, permanent=True, detail=f"address refused: {refusals[0]}"[:500])
    if not ok:
        return Result(ok=False, detail="the Apprise target refused or could not be reached")
    return Result(ok=True)
