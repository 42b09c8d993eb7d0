"""Small readers for ``SOFNO_*`` environment variables.

Each reader rejects a malformed value with a message naming the variable, so a
typo in a deployment fails at start-up instead of behaving oddly later.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """Return the variable as text, or ``default`` when it is unset or empty
    (``SOFNO_DATABASE_URL=`` in a unit file means "the default", not "no database")."""
    raw = os.environ.get(name, "")
    return raw if raw.strip() else default


def env_bool(name: str, default: bool = False) -> bool:
    """Return the variable as a boolean; anything but yes/no words is an error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    """Return the variable as a whole number."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """Return a comma-separated variable as a list of non-empty items."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def data_dir() -> Path:
    """The directory holding the embedded database, queue and generated secrets."""
    path = Path(env_str("SOFNO_DATA_DIR", "./sofno-data")).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key(directory: Path) -> str:
    """``SOFNO_SECRET_KEY``, or a key generated once and kept in the data directory.

    The generated file is readable by its owner only; no secret ever lives in the repo.
    """
    configured = env_str("SOFNO_SECRET_KEY")
    if configured:
        if len(configured) < 32:
            raise ImproperlyConfigured("SOFNO_SECRET_KEY must be at least 32 characters long")
        return configured
    keyfile = directory / "secret_key"
    if not keyfile.exists():
        keyfile.touch(mode=0o600)
        keyfile.write_text(secrets.token_urlsafe(50))
    return keyfile.read_text().strip()
