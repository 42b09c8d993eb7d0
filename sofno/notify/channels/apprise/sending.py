"""Any Apprise URL as a channel (Slack, Teams, Telegram, ntfy, ...).

Apprise answers only success or failure per call, so a delivery row holds exactly one
Apprise target: a retry then resends to that target alone, never to the others.
"""

from __future__ import annotations

import apprise

from sofno.notify.channels.base import Result


def validate_url(url: str) -> str:
    """``url`` if Apprise knows its scheme and can parse it, else ``ValueError``."""
    if not url or apprise.Apprise.instantiate(url) is None:
        raise ValueError("not an Apprise URL this server understands")
    return url


def send_apprise(url: str, title: str, body: str) -> Result:
    """Notify one Apprise target; a URL Apprise cannot parse is a permanent failure."""
    target = apprise.Apprise()
    if not target.add(url):
        return Result(ok=False, permanent=True, detail="not a valid Apprise URL")
    try:
        ok = target.notify(title=title[:250], body=body or title)
    except Exception as exc:  # a plugin's own bug must not kill the send loop
        return Result(ok=False, detail=f"{type(exc).__name__}: {exc}"[:500])
    if not ok:
        return Result(ok=False, detail="the Apprise target refused or could not be reached")
    return Result(ok=True)
