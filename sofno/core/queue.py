"""The task queue chosen by ``SOFNO_QUEUE_URL``.

``sqlite:///path`` (embedded default), ``redis://...`` and ``postgres://...`` give
the matching Huey storage; ``memory://`` runs tasks immediately, for tests.
The queue only wakes work up: the database stays the record of truth.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from huey import Huey, MemoryHuey, PostgresHuey, RedisHuey, SqliteHuey


def huey_from_url(name: str, url: str, immediate: bool = False, **options: object) -> Huey:
    """Build the Huey instance for ``url`` (used as ``HUEY['huey_class']``)."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryHuey(name, immediate=True, **options)
    if scheme == "sqlite":
        filename = url.removeprefix("sqlite:///")
        if not url.startswith("sqlite:///"):
            raise ImproperlyConfigured("SOFNO_QUEUE_URL sqlite form is sqlite:///path/to/file")
        return SqliteHuey(name, filename=filename, immediate=immediate, **options)
    if scheme in {"redis", "rediss"}:
        return RedisHuey(name, url=url, immediate=immediate, **options)
    if scheme in {"postgres", "postgresql"}:
        dsn = "postgresql" + url[len(scheme) :]
        return PostgresHuey(name, dsn=dsn, immediate=immediate, **options)
    raise ImproperlyConfigured(
        f"SOFNO_QUEUE_URL must start with sqlite://, redis:// or postgres://, got {url!r}"
    )
