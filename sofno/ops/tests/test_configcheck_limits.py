"""``sofno check`` on the settings of issue 8: proxies, metrics token, Redis counters."""

from sofno.ops.configcheck import ops_findings


def _by_name(settings) -> dict:
    return {probe.name: probe for probe in ops_findings()}


def test_it_flags_a_proxy_setup_without_trusted_proxies(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXIES = []
    probe = _by_name(settings)["trusted proxies"]
    assert not probe.ok and "SOFNO_TRUSTED_PROXIES is empty" in probe.detail
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert _by_name(settings)["trusted proxies"].ok


def test_it_accepts_no_proxy_at_all(settings):
    settings.SECURE_PROXY_SSL_HEADER = None
    settings.TRUSTED_PROXIES = []
    assert _by_name(settings)["trusted proxies"].ok


def test_it_flags_a_short_metrics_token(settings):
    settings.METRICS_TOKEN = "short"
    probe = _by_name(settings)["metrics"]
    assert not probe.ok and "shorter than 16" in probe.detail
    settings.METRICS_TOKEN = ""
    assert _by_name(settings)["metrics"].ok
    settings.METRICS_TOKEN = "x" * 32
    assert _by_name(settings)["metrics"].detail == "/metrics is on"


def test_it_checks_the_redis_counters_when_configured(settings):
    settings.CACHE_URL = ""
    assert "rate-limit counters" not in _by_name(settings)
    settings.CACHE_URL = "redis://127.0.0.1:1/0"
    probe = _by_name(settings)["rate-limit counters"]
    assert not probe.ok and "does not answer" in probe.detail
    settings.CACHE_URL = "redis://127.0.0.1:6379/15"
    assert _by_name(settings)["rate-limit counters"].ok
