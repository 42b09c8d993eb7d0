"""``sofno check``: is this configuration able to run, and if not, why, in plain words."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from sofno.ops.readiness import Probe, check_database, check_migrations, check_queue


def settings_findings() -> list[Probe]:
    """Problems in the settings themselves, before any connection is tried."""
    findings = []
    base = urlsplit(settings.BASE_URL)
    https = base.scheme == "https"
    findings.append(
        Probe(
            "base url",
            base.scheme in {"http", "https"} and bool(base.hostname),
            f"SOFNO_BASE_URL is {settings.BASE_URL!r}"
            + ("" if https else " (plain http: fine for a laptop, not for production)"),
        )
    )
    host_allowed = base.hostname in settings.ALLOWED_HOSTS or "*" in settings.ALLOWED_HOSTS
    findings.append(
        Probe(
            "allowed hosts",
            host_allowed,
            f"SOFNO_ALLOWED_HOSTS={','.join(settings.ALLOWED_HOSTS)}"
            + ("" if host_allowed else f" does not include {base.hostname!r} from SOFNO_BASE_URL"),
        )
    )
    findings.append(
        Probe(
            "debug",
            not (settings.DEBUG and https),
            "SOFNO_DEBUG is on: never in production" if settings.DEBUG else "debug is off",
        )
    )
    return findings


def run_checks() -> list[Probe]:
    """Settings first, then the database, its migrations, and the queue."""
    return [*settings_findings(), check_database(), check_migrations(), check_queue()]
