"""Structured JSON logs with a request id and the organization."""

import io
import json
import logging
import os
import subprocess
import sys
import time

import httpx
import pytest

from sofno.core.logging import JsonFormatter, RequestContextFilter, clean_request_id, logging_config


@pytest.fixture
def log_lines():
    """Lines written to a real stream through the formatter and filter LOGGING uses."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    yield lines
    root.removeHandler(handler)
    root.setLevel(previous)


def _access(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "sofno.access"]


def test_it_writes_one_json_access_line_per_request(client, log_lines):
    response = client.get("/healthz")
    assert response.status_code == 200
    (line,) = _access(log_lines())
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "INFO"
    assert line["request_id"] == response["X-Request-ID"]
    assert line["timestamp"].endswith("+00:00")


def test_it_keeps_a_well_formed_incoming_request_id(client, log_lines):
    rid = "0123456789abcdef0123456789abcdef"
    response = client.get("/healthz", headers={"X-Request-ID": rid})
    assert response["X-Request-ID"] == rid
    assert _access(log_lines())[0]["request_id"] == rid


@pytest.mark.parametrize("bad", ["short", "has space in it 123", "x" * 65, 'a"}\n{"level":"x'])
def test_it_replaces_a_malformed_request_id(client, log_lines, bad):
    response = client.get("/healthz", headers={"X-Request-ID": bad})
    rid = response["X-Request-ID"]
    assert rid != bad and len(rid) == 32
    assert _access(log_lines())[0]["request_id"] == rid


def test_it_names_the_organization_of_an_api_key_on_every_line(cast, api_client, log_lines):
    response = api_client(cast.key).get("/api-keys")
    assert response.status_code == 200
    (line,) = _access(log_lines())
    assert line["organization"] == "acme"
    assert line["status"] == 200
    assert line["path"] == "/api/v1/api-keys"


def test_it_names_the_organization_of_a_signed_in_user(cast, api_client, log_lines):
    response = api_client.as_user(cast.outsider).get("/me")
    assert response.status_code == 200
    assert _access(log_lines())[0]["organization"] == "globex"


def test_it_carries_the_request_id_into_djangos_own_error_lines(cast, api_client, log_lines):
    response = api_client("not-a-key").get("/api-keys")
    assert response.status_code == 401
    lines = log_lines()
    warning = [line for line in lines if line["logger"] == "django.request"]
    assert warning and warning[0]["request_id"] == response["X-Request-ID"]
    assert "organization" not in _access(lines)[0]


def test_it_leaves_lines_outside_a_request_without_a_request_id(log_lines):
    logging.getLogger("sofno.test").warning("outside %s", "any request", extra={"n": 3})
    (line,) = log_lines()
    assert line == {
        "timestamp": line["timestamp"],
        "level": "WARNING",
        "logger": "sofno.test",
        "message": "outside any request",
        "n": 3,
    }


def test_it_formats_exceptions_in_the_json_line(log_lines):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("sofno.test").exception("failed")
    (line,) = log_lines()
    assert line["level"] == "ERROR" and "ValueError: boom" in line["exception"]


def test_it_generates_fresh_ids():
    assert clean_request_id(None) != clean_request_id(None)
    assert clean_request_id("a1b2c3d4-e5f6") == "a1b2c3d4-e5f6"


def test_it_builds_a_text_config_too():
    config = logging_config("text", "DEBUG")
    assert config["handlers"]["console"]["formatter"] == "text"
    assert config["root"]["level"] == "DEBUG"


def test_it_refuses_an_unknown_log_format(tmp_path):
    env = {**os.environ, "SOFNO_LOG_FORMAT": "xml", "SOFNO_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "sofno.cli", "manage", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SOFNO_LOG_FORMAT must be json or text" in result.stderr


@pytest.mark.slow
def test_it_writes_json_lines_from_a_real_server(tmp_path):
    env = {
        **os.environ,
        "SOFNO_DATA_DIR": str(tmp_path),
        "SOFNO_LOG_FORMAT": "json",
        "SOFNO_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SOFNO_QUEUE_URL": "memory://",
    }
    env.pop("SOFNO_DEBUG", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "sofno.cli", "serve", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = server.stdout.readline().split()[-1]
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(url + "healthz", headers={"X-Request-ID": "req-1234-abcd"})
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        assert response.headers["x-request-id"] == "req-1234-abcd"
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    access = [json.loads(line) for line in stderr.splitlines() if '"sofno.access"' in line]
    assert access[0]["request_id"] == "req-1234-abcd"
    assert access[0]["path"] == "/healthz" and access[0]["status"] == 200


def test_it_names_the_organization_on_a_page_request(client, cast, log_lines):
    client.force_login(cast.owner)
    response = client.get("/")
    assert response.status_code == 200
    (line,) = _access(log_lines())
    assert line["organization"] == "acme" and line["path"] == "/"
