"""The server's VAPID key pair for web push.

``SOFNO_VAPID_PRIVATE_KEY`` (PEM, or the raw base64url key) when set; otherwise a
key generated once into the data directory (``vapid_private.pem``, mode 0600), like
the secret key, so subscriptions survive restarts.
"""

from __future__ import annotations

import base64
import os
import threading
from functools import cache

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from py_vapid import Vapid02

from sofno.notify import conf

_lock = threading.Lock()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@cache
def _vapid(configured: str, path: str) -> Vapid02:
    if configured:
        if "BEGIN" in configured:
            return Vapid02.from_pem(configured.encode())
        return Vapid02.from_string(configured)
    with _lock:
        if not os.path.exists(path):
            vapid = Vapid02()
            vapid.generate_keys()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(vapid.private_pem())
        return Vapid02.from_file(path)


def server_key() -> Vapid02:
    """The VAPID key (loaded or generated once per process)."""
    return _vapid(conf.setting("VAPID_PRIVATE_KEY"), str(settings.DATA_DIR / "vapid_private.pem"))


def public_key() -> str:
    """The ``applicationServerKey`` a browser subscribes with (base64url, raw point)."""
    raw = server_key().public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64url(raw)


def claims_subject() -> str:
    """The ``sub`` claim: how a push service reaches the operator."""
    return conf.setting("VAPID_SUBJECT", "mailto:admin@localhost")
