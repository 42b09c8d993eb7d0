"""Security headers follow the public address: HSTS only behind https.

Settings are read once at start, so each case runs a fresh process with its own
environment and asks a page through Django's test client.
"""

import json
import os
import subprocess
import sys

import pytest

SCRIPT = """
import json, django
django.setup()
from django.test import Client
response = Client().get("/sw.js", secure=True, headers={"host": "sofno.example"})
print(json.dumps({
    "hsts": response.headers.get("Strict-Transport-Security"),
}))
"""


def _headers(tmp_path, **env: str) -> dict:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("SOFNO_HSTS")}
    environment = {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "sofno.settings",
        "SOFNO_DATA_DIR": str(tmp_path),
        "SOFNO_DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "SOFNO_ALLOWED_HOSTS": "sofno.example",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_it_sends_hsts_behind_an_https_base_url(tmp_path):
    answer = _headers(tmp_path, SOFNO_BASE_URL="https://sofno.example")
    assert answer["hsts"] == "max-age=31536000"


@pytest.mark.slow
def test_it_sends_no_hsts_for_a_plain_http_demo(tmp_path):
    assert _headers(tmp_path, SOFNO_BASE_URL="http://sofno.example")["hsts"] is None


@pytest.mark.slow
def test_it_takes_the_hsts_lifetime_and_subdomains_from_the_environment(tmp_path):
    answer = _headers(
        tmp_path,
        SOFNO_BASE_URL="https://sofno.example",
        SOFNO_HSTS_SECONDS="600",
        SOFNO_HSTS_INCLUDE_SUBDOMAINS="true",
    )
    assert answer["hsts"] == "max-age=600; includeSubDomains"
    off = _headers(tmp_path, SOFNO_BASE_URL="https://sofno.example", SOFNO_HSTS_SECONDS="0")
    assert off["hsts"] is None
