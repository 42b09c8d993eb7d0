"""Notification settings read at call time (tests change them with ``settings``).

Each is a Django setting when present, else its ``SOFNO_*`` environment variable:

- ``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN``: the Twilio account;
- ``TWILIO_FROM_NUMBER``: the E.164 number SMS and calls come from;
- ``TWILIO_API_BASE``: default ``https://api.twilio.com`` (tests: a loopback server).
"""

from __future__ import annotations

from django.conf import settings

from sofno.core.env import env_str


def setting(name: str, default: str = "") -> str:
    """``settings.NAME``, else ``SOFNO_NAME`` from the environment, else ``default``."""
    value = getattr(settings, name, None)
    if value is None:
        value = env_str("SOFNO_" + name, default)
    return str(value)


def twilio_configured() -> bool:
    return bool(setting("TWILIO_ACCOUNT_SID") and setting("TWILIO_AUTH_TOKEN"))


def base_url() -> str:
    """SOFNO's public address: Twilio calls us back here."""
    return settings.BASE_URL.rstrip("/")
