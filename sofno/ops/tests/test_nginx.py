"""The shipped nginx configuration, run for real in front of two ``sofno serve``."""

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

REPO = Path(__file__).resolve().parents[3]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
HOST = "sofno.example.com"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.path.exists(NGINX), reason="nginx is not installed (.ci/run installs it)"
    ),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def render_site(tmp: Path, web_ports, http_port, https_port, cert, key) -> Path:
    """The shipped file with only addresses, ports and certificate paths changed."""
    site = (REPO / "deploy/nginx/sofno.conf").read_text()
    site = site.replace("127.0.0.1:8000", f"127.0.0.1:{web_ports[0]}")
    site = site.replace("127.0.0.1:8001", f"127.0.0.1:{web_ports[1]}")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    site = site.replace("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl")
    site = site.replace("/etc/ssl/sofno/fullchain.pem", str(cert))
    site = site.replace("/etc/ssl/sofno/privkey.pem", str(key))
    main = tmp / "nginx.conf"
    main.write_text(
        f"""
        worker_processes 1;
        daemon off;
        pid {tmp}/nginx.pid;
        error_log {tmp}/error.log;
        events {{ worker_connections 256; }}
        http {{
            access_log {tmp}/access.log;
            client_body_temp_path {tmp}/body;
            proxy_temp_path {tmp}/proxy;
            fastcgi_temp_path {tmp}/fastcgi;
            uwsgi_temp_path {tmp}/uwsgi;
            scgi_temp_path {tmp}/scgi;
            {site}
        }}
        """
    )
    return main


@pytest.fixture(scope="module")
def stack(tmp_path_factory, migrated):
    # One stack for the module: starting nginx and two servers takes seconds.
    # The failover test kills a server, so it is the module's last test.
    tmp_path = tmp_path_factory.mktemp("nginx")
    env = {
        **os.environ,
        "SOFNO_DATA_DIR": str(tmp_path),
        "SOFNO_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SOFNO_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
        "SOFNO_BASE_URL": f"https://{HOST}",
        "SOFNO_ALLOWED_HOSTS": HOST,
        "SOFNO_TRUST_PROXY": "true",
    }
    migrated.sqlite(tmp_path / "db.sqlite3")
    web_ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "sofno.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in web_ports
    ]
    http_port, https_port = free_port(), free_port()
    cert, key = self_signed(tmp_path)
    conf = render_site(tmp_path, web_ports, http_port, https_port, cert, key)
    nginx = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(conf)], stderr=subprocess.PIPE)
    try:
        for port in [*web_ports, https_port]:
            wait_for_port(port)
        yield {"servers": servers, "http": http_port, "https": https_port, "cert": cert}
    finally:
        nginx.send_signal(signal.SIGQUIT)
        for process in [*servers, nginx]:
            process.terminate()
            process.wait(timeout=10)


def get(stack, path: str, **kwargs) -> httpx.Response:
    with httpx.Client(verify=str(stack["cert"]), timeout=10) as http:
        return http.request(
            kwargs.pop("method", "GET"),
            f"https://127.0.0.1:{stack['https']}{path}",
            headers={"Host": HOST},
            extensions={"sni_hostname": HOST},
            **kwargs,
        )


def test_it_serves_sofno_over_tls_with_secure_cookies(stack):
    assert get(stack, "/healthz").json() == {"status": "ok"}
    assert get(stack, "/readyz").status_code == 200
    login = get(stack, "/login/")
    assert login.status_code == 200
    assert "secure" in login.headers["set-cookie"].lower()


def test_it_redirects_plain_http_to_https(stack):
    response = httpx.get(f"http://127.0.0.1:{stack['http']}/login/", headers={"Host": HOST})
    assert response.status_code == 301
    assert response.headers["location"] == f"https://{HOST}/login/"


def test_it_bounds_request_bodies(stack):
    response = get(stack, "/api/v1/me", method="POST", content=b"x" * (3 * 1024 * 1024))
    assert response.status_code == 413


def test_it_keeps_serving_when_one_web_process_dies(stack):
    stack["servers"][0].kill()
    stack["servers"][0].wait()
    answers = [get(stack, "/healthz").status_code for _ in range(6)]
    assert answers == [200] * 6
