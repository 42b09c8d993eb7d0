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
    findings.extend(ops_findings())
    return findings


def ops_findings() -> list[Probe]:
    """Trusted proxies, the metrics token and the rate-limit counters' store."""
    findings = []
    proxies = settings.TRUSTED_PROXIES
    behind_proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None) is not None
    findings.append(
        Probe(
            "trusted proxies",
            bool(proxies) or not behind_proxy,
            f"SOFNO_TRUSTED_PROXIES={','.join(proxies)}"
            if proxies
            else (
                "SOFNO_TRUST_PROXY is on but SOFNO_TRUSTED_PROXIES is empty: every client "
                "would look like the proxy (set it to the proxy's address, e.g. 127.0.0.1)"
                if behind_proxy
                else "none: the direct peer is the client (fine without a reverse proxy)"
            ),
        )
    )
    token = settings.METRICS_TOKEN
    findings.append(
        Probe(
            "metrics",
            not token or len(token) >= 16,
            "SOFNO_METRICS_TOKEN is unset: /metrics is off"
            if not token
            else (
                "/metrics is on"
                if len(token) >= 16
                else "SOFNO_METRICS_TOKEN is shorter than 16 characters: use a long random one"
            ),
        )
    )
    if settings.CACHE_URL:
        findings.append(_redis_probe(settings.CACHE_URL))
    return findings


def _redis_probe(url: str) -> Probe:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
        return Probe("rate-limit counters", True, "Redis at SOFNO_CACHE_URL answers")
    except redis.RedisError as exc:
        return Probe(
            "rate-limit counters", False, f"Redis at SOFNO_CACHE_URL does not answer: {exc}"
        )


def run_checks() -> list[Probe]:
    """Settings first, then the database, its migrations, and the queue."""
    return [*settings_findings(), check_database(), check_migrations(), check_queue()]
