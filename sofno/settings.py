"""SOFNO settings: everything comes from ``SOFNO_*`` environment variables.

The defaults are the embedded setup (SQLite database and SQLite task queue in the
data directory); PostgreSQL and Redis are a matter of two URLs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from sofno.core.env import data_dir, env_bool, env_int, env_list, env_str, secret_key
from sofno.core.logging import logging_config
from sofno.core.net import parse_networks
from sofno.core.ratelimit import parse_rate

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir()

DEBUG = env_bool("SOFNO_DEBUG", False)
SECRET_KEY = secret_key(DATA_DIR)
BASE_URL = env_str("SOFNO_BASE_URL", "http://localhost:8000").rstrip("/")
ALLOWED_HOSTS = env_list("SOFNO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("SOFNO_CSRF_TRUSTED_ORIGINS", [BASE_URL])

# Behind https every cookie is secure; plain http is for a laptop demo only.
_HTTPS = BASE_URL.startswith("https://")
SESSION_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_SECURE = _HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# HSTS: once a browser has seen the site over https it refuses plain http for this
# long. Only behind an https base URL (a laptop demo on http must stay reachable);
# SOFNO_HSTS_SECONDS=0 turns it off, e.g. while trying https out.
SECURE_HSTS_SECONDS = env_int("SOFNO_HSTS_SECONDS", 31536000) if _HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SOFNO_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SOFNO_HSTS_PRELOAD", False)
if env_bool("SOFNO_TRUST_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "bootstrap",  # django-bootstrap-static: /static/bootstrap/
    "ninja",  # serves the API docs (Swagger UI) from its own static files
    "huey.contrib.djhuey",
    "sofno.core",
    "sofno.directory",
    "sofno.events",
    "sofno.monitoring",
    "sofno.transfer",
    "sofno.tickets",
    "sofno.oncall",
    "sofno.notify",
    "sofno.web",
    "sofno.ops",
]

MIDDLEWARE = [
    # First, so the request id and the access line cover everything below.
    "sofno.core.middleware.RequestLogMiddleware",
    # Before sessions and views: an oversized body or a caller over its rate costs
    # one counter update, nothing more.
    "sofno.ops.middleware.AbuseLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "sofno.core.middleware.OrganizationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "sofno.urls"
ASGI_APPLICATION = "sofno.asgi.application"
WSGI_APPLICATION = "sofno.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sofno.core.context_processors.organization",
            ],
        },
    }
]


def _env_seconds(name: str, default: float) -> float:
    raw = env_str(name, str(default))
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be a positive number of seconds, got {raw!r}")
    return value


# The connection budget (see docs/deploy.md): each process holds at most
# SOFNO_DB_POOL_SIZE connections to PostgreSQL, and a request that finds them all
# busy waits SOFNO_DB_POOL_TIMEOUT seconds, then answers 503 with Retry-After.
# SOFNO_WEB_PROCESSES / SOFNO_WORKER_PROCESSES say how many processes share the
# server, so that ``sofno check`` can add the budget up against max_connections.
DB_POOL_SIZE = env_int("SOFNO_DB_POOL_SIZE", 10)
DB_POOL_TIMEOUT = _env_seconds("SOFNO_DB_POOL_TIMEOUT", 3.0)
WEB_PROCESSES = env_int("SOFNO_WEB_PROCESSES", 1)
WORKER_PROCESSES = env_int("SOFNO_WORKER_PROCESSES", 1)
DB_MAX_CONNECTIONS = env_int("SOFNO_DB_MAX_CONNECTIONS", 0)  # 0: ask the server
if DB_POOL_SIZE < 0 or WEB_PROCESSES < 0 or WORKER_PROCESSES < 0:
    raise ImproperlyConfigured(
        "SOFNO_DB_POOL_SIZE, SOFNO_WEB_PROCESSES and SOFNO_WORKER_PROCESSES cannot be negative"
    )


def _database(url: str) -> dj_database_url.DBConfig:
    config = dj_database_url.parse(url, conn_max_age=0)
    engine = config["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        # WAL and IMMEDIATE transactions let the web server and the worker share
        # one SQLite file without "database is locked" on upgrade-to-write.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    elif engine == "django.db.backends.postgresql":
        config["CONN_HEALTH_CHECKS"] = True
        options = config.setdefault("OPTIONS", {})
        # Names this installation's connections in pg_stat_activity.
        options.setdefault("application_name", env_str("SOFNO_DB_APPLICATION_NAME", "sofno"))
        if DB_POOL_SIZE:
            # One bounded pool per process instead of one connection per request
            # thread (ASGI runs each request in a thread of its own, and with
            # persistent connections a burst left one open per thread).
            config["CONN_MAX_AGE"] = 0  # required by the pool: connections go back to it
            options["pool"] = {
                "min_size": min(2, DB_POOL_SIZE),
                "max_size": DB_POOL_SIZE,
                "timeout": DB_POOL_TIMEOUT,
                "max_idle": 300,
            }
        else:
            # No pool (PgBouncer in front does the pooling): a connection per thread.
            config["CONN_MAX_AGE"] = env_int("SOFNO_DB_CONN_MAX_AGE", 0)
    else:
        raise ImproperlyConfigured(
            f"SOFNO_DATABASE_URL must be a sqlite:// or postgres:// URL, got {engine}"
        )
    return config


DATABASE_URL = env_str("SOFNO_DATABASE_URL", f"sqlite:///{DATA_DIR / 'sofno.sqlite3'}")
DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

QUEUE_URL = env_str("SOFNO_QUEUE_URL", f"sqlite:///{DATA_DIR / 'queue.sqlite3'}")
HUEY: dict[str, Any] = {
    "huey_class": "sofno.core.queue.huey_from_url",  # see sofno.core.queue
    "name": "sofno",
    "url": QUEUE_URL,
    "immediate": QUEUE_URL.startswith("memory://"),
    # Nothing reads task results: storing them grew the queue's store by a row per task.
    "results": False,
    "consumer": {"workers": env_int("SOFNO_WORKER_THREADS", 4), "worker_type": "thread"},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "web:login"

LANGUAGE_CODE = "en"
# English on a 24-hour clock like the other languages (sofno/formats/en).
FORMAT_MODULE_PATH = ["sofno.formats"]
LANGUAGES = [("en", _("English")), ("es", _("Spanish")), ("it", _("Italian")), ("ca", _("Catalan"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing root; finders serve the files
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATICFILES_DIRS: list = []
# Front-end libraries come from packages: Bootstrap from the django-bootstrap-static
# app, Leaflet from xstatic-leaflet, served under /static/lib/leaflet/.
import xstatic.pkg.leaflet as _xs_leaflet  # noqa: E402

STATICFILES_DIRS += [("lib/leaflet", _xs_leaflet.BASE_DIR)]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("SOFNO_MAX_BODY_BYTES", 1024 * 1024)

# Uploads (multipart/form-data) may be larger than other bodies; nginx's
# client_max_body_size must be at least the larger of the two.
MAX_UPLOAD_BYTES = env_int("SOFNO_MAX_UPLOAD_BYTES", 2 * 1024 * 1024)

LOG_FORMAT = env_str("SOFNO_LOG_FORMAT", "text" if DEBUG else "json").lower()
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"SOFNO_LOG_FORMAT must be json or text, got {LOG_FORMAT!r}")
LOGGING = logging_config(LOG_FORMAT, env_str("SOFNO_LOG_LEVEL", "INFO"))

# Client IPs come from X-Forwarded-For only when the direct peer is one of these
# (comma-separated CIDRs); see sofno.core.net.client_ip.
TRUSTED_PROXIES = env_list("SOFNO_TRUSTED_PROXIES")
parse_networks(TRUSTED_PROXIES)  # a typo fails at start-up, naming the variable

# Abuse limits (sofno.ops.throttle). Counters are shared by every web process: in
# Redis when SOFNO_CACHE_URL is set, else in the database.
CACHE_URL = env_str("SOFNO_CACHE_URL")
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"SOFNO_CACHE_URL must be a redis:// URL, got {CACHE_URL!r}")
API_RATE = parse_rate(env_str("SOFNO_API_RATE", "1200/minute"), "SOFNO_API_RATE")
EVENT_RATE = parse_rate(env_str("SOFNO_EVENT_RATE", "600/minute"), "SOFNO_EVENT_RATE")
API_AUTH_FAILURE_RATE = parse_rate(
    env_str("SOFNO_API_AUTH_FAILURES", "30/15min"), "SOFNO_API_AUTH_FAILURES"
)
LOGIN_USER_RATE = parse_rate(
    env_str("SOFNO_LOGIN_USER_FAILURES", "5/15min"), "SOFNO_LOGIN_USER_FAILURES"
)
LOGIN_IP_RATE = parse_rate(
    env_str("SOFNO_LOGIN_IP_FAILURES", "30/15min"), "SOFNO_LOGIN_IP_FAILURES"
)
# Failures of one username from every address together: only slows (paced attempts).
LOGIN_USER_GLOBAL_RATE = parse_rate(
    env_str("SOFNO_LOGIN_USER_GLOBAL_FAILURES", "50/15min"), "SOFNO_LOGIN_USER_GLOBAL_FAILURES"
)
LOGIN_PACE_SECONDS = env_int("SOFNO_LOGIN_PACE_SECONDS", 30)
# The throttle backend only refuses (while locked out); SignInNameBackend checks
# passwords of the accounts a typed name stands for (one per organization).
AUTHENTICATION_BACKENDS = [
    "sofno.ops.throttle.LoginThrottleBackend",
    "sofno.core.backends.SignInNameBackend",
]

# /metrics answers only with "Authorization: Bearer <this token>"; unset: no /metrics.
METRICS_TOKEN = env_str("SOFNO_METRICS_TOKEN")

# Nothing SOFNO connects out to (webhooks, web push, Apprise, SMTP, the caller lookup)
# may reach private networks unless an administrator allows ranges here
# (comma-separated CIDRs; SOFNO_WEBHOOK_ALLOWED_NETWORKS is the older name).
OUTBOUND_ALLOWED_NETWORKS = env_list("SOFNO_OUTBOUND_ALLOWED_NETWORKS") + env_list(
    "SOFNO_WEBHOOK_ALLOWED_NETWORKS"
)
