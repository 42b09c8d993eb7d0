"""Provider passwords encrypted at rest (SMTP, Twilio): Fernet keyed from SECRET_KEY.

The key is derived with HKDF, so the Django secret never doubles as the cipher key
and a leaked database alone reveals no password. Rotating SECRET_KEY makes stored
passwords unreadable: :func:`decrypt` then raises :class:`UnreadableSecret` and the
owner re-enters them.
"""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PREFIX = "enc1:"


class UnreadableSecret(Exception):
    """A stored secret cannot be decrypted (the secret key changed)."""


@cache
def _fernet(secret_key: str) -> Fernet:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"sofno.notify.secrets")
    return Fernet(base64.urlsafe_b64encode(hkdf.derive(secret_key.encode())))


def encrypt(plain: str) -> str:
    """The stored form of ``plain`` (empty stays empty)."""
    if not plain:
        return ""
    return PREFIX + _fernet(settings.SECRET_KEY).encrypt(plain.encode()).decode()


def decrypt(stored: str) -> str:
    """The plain text of a value made by :func:`encrypt`."""
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        raise UnreadableSecret("not an encrypted value")
    try:
        return _fernet(settings.SECRET_KEY).decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise UnreadableSecret("the secret key changed since this was stored") from None
