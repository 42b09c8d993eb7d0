"""Web push (RFC 8030/8291/8292) with ``pywebpush``: encrypted payload, VAPID-signed.

A 404 or 410 from the push service means the subscription is gone: the result says
``disable_target`` and the caller deletes the subscription.

The endpoint goes through the outbound guard: its URL is checked (https, port, a host
known to be non-public, a name resolving only to refused addresses) and pywebpush's
own connection runs inside :func:`sofno.core.guard.scope`, which checks the address
it actually connects to. A refused endpoint is a permanent failure.
"""

from __future__ import annotations

import json

import requests
from pywebpush import WebPushException, webpush

from sofno.core import guard
from sofno.notify.channels.base import Result
from sofno.notify.channels.webpush import vapid

TTL_SECONDS = 12 * 3600  # an alert older than half a day is not worth waking a phone for


def send_push(
    endpoint: str, p256dh: str, auth: str, payload: dict, timeout: float = 10.0
) -> Result:
    """Push ``payload`` (title, body, url) to one browser subscription."""
    subscription = {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}
    try:
        guard.check_url(endpoint)
    except guard.UrlRefused as exc:
        return Result(ok=False, permanent=True, detail=f"push endpoint refused: {exc}"[:500])
    # Everything that may touch the database or files happens before the scope:
    # inside it, only pywebpush's own connection to the push service.
    body = json.dumps(payload, separators=(",", ":"))
    key, claims = vapid.server_key(), {"sub": vapid.claims_subject()}
    session = requests.Session()
    # No proxy from the environment: the guard must see the push service's address.
    session.trust_env = False
    try:
        with session, guard.scope():
            response = webpush(
                subscription,
                body,
                vapid_private_key=key,
                vapid_claims=claims,
                ttl=TTL_SECONDS,
                timeout=timeout,
                requests_session=session,
            )
    except guard.AddressRefused as exc:
        return Result(ok=False, permanent=True, detail=str(exc)[:500])
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        gone = status in (404, 410)
        return Result(
            ok=False,
            permanent=gone or (status is not None and 400 <= status < 500 and status != 429),
            disable_target=gone,
            status_code=status,
            detail=f"push service answered {status}" if status else str(exc)[:500],
        )
    except Exception as exc:  # connection errors from requests: retry later
        return Result(ok=False, detail=f"{type(exc).__name__}: {exc}"[:500])
    return Result(
        ok=True, status_code=response.status_code, provider_ref=response.headers.get("Location", "")
    )
