"""The telephony settings, from ``SOFNO_AMI_*`` environment variables.

The phone queue is programmed only when ``SOFNO_AMI_HOST`` is set.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from sofno.core.env import env_int, env_str


@dataclass(frozen=True)
class AmiSettings:
    host: str
    port: int
    username: str
    secret: str
    queue: str
    interface: str  # e.g. "PJSIP/{extension}"
    timeout: float


def ami_settings() -> AmiSettings | None:
    """The Asterisk Manager settings, or ``None`` when no host is configured."""
    host = env_str("SOFNO_AMI_HOST")
    if not host:
        return None
    interface = env_str("SOFNO_AMI_INTERFACE", "PJSIP/{extension}")
    if "{extension}" not in interface:
        raise ImproperlyConfigured("SOFNO_AMI_INTERFACE must contain {extension}")
    username = env_str("SOFNO_AMI_USERNAME")
    secret = env_str("SOFNO_AMI_SECRET")
    if not username or not secret:
        raise ImproperlyConfigured("SOFNO_AMI_USERNAME and SOFNO_AMI_SECRET are required")
    return AmiSettings(
        host=host,
        port=env_int("SOFNO_AMI_PORT", 5038),
        username=username,
        secret=secret,
        queue=env_str("SOFNO_AMI_QUEUE", "support"),
        interface=interface,
        timeout=float(env_int("SOFNO_AMI_TIMEOUT", 5)),
    )
