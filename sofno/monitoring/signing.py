"""Ed25519 signatures on remote commands (the agent verifies them)."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sofno.monitoring import conf


def _private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(conf.signing_seed())


def public_key_b64() -> str:
    """The server's public key (raw 32 bytes, base64) that agents pin."""
    raw = (
        _private_key()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return base64.b64encode(raw).decode()


def canonical(data: dict) -> str:
    """The exact text that is signed: sorted keys, no spaces."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def sign(payload: str) -> str:
    """Base64 Ed25519 signature of ``payload`` (UTF-8)."""
    return base64.b64encode(_private_key().sign(payload.encode())).decode()
