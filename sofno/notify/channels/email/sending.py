"""Send one email through a chosen SMTP profile, falling back to the default one.

Novu tries one provider and gives up; we fail over: when a template's own profile
fails (cannot connect, login refused, server error) the message goes out through the
organization's default profile, and the result says so.
"""

from __future__ import annotations

from sofno.notify.channels.base import Result
from sofno.notify.channels.email.smtp import POOL, Email, SendError, SmtpSettings


def send_with_fallback(
    email: Email, chosen: SmtpSettings | None, default: SmtpSettings | None
) -> Result:
    """Send ``email`` through ``chosen`` (else ``default``); fall back once on failure.

    - a refused recipient is permanent and not retried elsewhere (the address is
      wrong, not the server);
    - with no profile at all the result is a permanent failure naming the problem.
    """
    first = chosen or default
    if first is None:
        return Result(ok=False, permanent=True, detail="no SMTP profile is configured")
    try:
        return Result(ok=True, provider_ref=POOL.send(first, email)[:200])
    except SendError as error:
        failure = error
    fallback = default if chosen is not None and default is not None else None
    if fallback is None or fallback == first or (failure.permanent and failure.code is None):
        return Result(
            ok=False,
            permanent=failure.permanent,
            detail=str(failure)[:500],
            status_code=failure.code,
        )
    try:
        ref = POOL.send(fallback, email)
    except SendError as second:
        return Result(
            ok=False,
            permanent=second.permanent,
            detail=f"profile failed ({failure}); default failed too ({second})"[:500],
            status_code=second.code,
        )
    return Result(
        ok=True, provider_ref=ref[:200], detail=f"sent through the default profile: {failure}"[:500]
    )
