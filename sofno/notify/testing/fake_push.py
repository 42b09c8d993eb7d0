"""A local web push service (RFC 8030) that checks what a real one checks.

For each POST to ``/push/<name>`` it verifies the VAPID ``Authorization`` header
(RFC 8292: ``vapid t=<JWT>, k=<public key>``, ES256 signature by that key, ``aud``
equal to the service's origin, ``exp`` in the next 24 hours, a ``sub``), the ``TTL``
and ``Content-Encoding: aes128gcm`` headers, then decrypts the payload (RFC 8291)
with the subscriber's private key, as the browser would. A subscription marked gone
answers 410. Browser-side keys come from :meth:`FakePushService.subscribe`.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Subscriber:
    """A browser's side of a subscription: its keys and endpoint."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def p256dh(self) -> str:
        return b64url(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    @property
    def auth_b64(self) -> str:
        return b64url(self.auth)


@dataclass
class Push:
    name: str
    claims: dict
    ttl: int
    payload: dict | None
    error: str = ""


class FakePushService:
    def __init__(self) -> None:
        self.subscribers: dict[str, Subscriber] = {}
        self.gone: set[str] = set()
        self.pushes: list[Push] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def subscribe(self, name: str) -> Subscriber:
        sub = Subscriber(
            f"{self.origin}/push/{name}", ec.generate_private_key(ec.SECP256R1()), os.urandom(16)
        )
        self.subscribers[name] = sub
        return sub

    def start(self) -> FakePushService:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakePushService:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def check_vapid(self, header: str) -> dict:
        """The JWT claims of a valid VAPID header; raises ValueError otherwise."""
        if not header.lower().startswith("vapid "):
            raise ValueError("not a vapid authorization")
        params = dict(part.strip().split("=", 1) for part in header[6:].split(",") if "=" in part)
        token, key = params["t"], params["k"]
        head, body, signature = token.split(".")
        if json.loads(b64url_decode(head)) != {"typ": "JWT", "alg": "ES256"}:
            raise ValueError("JWT header must be ES256")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
        raw = b64url_decode(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        try:
            public.verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise ValueError("bad VAPID signature") from None
        claims = json.loads(b64url_decode(body))
        if claims.get("aud") != self.origin:
            raise ValueError(f"aud {claims.get('aud')!r} is not {self.origin!r}")
        if not time.time() < claims.get("exp", 0) <= time.time() + 24 * 3600:
            raise ValueError("exp must be within the next 24 hours")
        if not claims.get("sub"):
            raise ValueError("sub claim missing")
        return claims

    def _handler(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _reply(self, status: int, text: str = "") -> None:
                data = text.encode()
                self.send_response(status)
                if status == 201:
                    self.send_header("Location", f"{service.origin}/message/{len(service.pushes)}")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                name = self.path.rsplit("/", 1)[-1]
                if name in service.gone:
                    return self._reply(410, "subscription expired")
                sub = service.subscribers.get(name)
                if sub is None:
                    return self._reply(404, "no such subscription")
                try:
                    claims = service.check_vapid(self.headers.get("Authorization", ""))
                except (ValueError, KeyError) as exc:
                    service.pushes.append(Push(name, {}, 0, None, str(exc)))
                    return self._reply(401, str(exc))
                if self.headers.get("TTL") is None:
                    return self._reply(400, "TTL header required")
                if self.headers.get("Content-Encoding") != "aes128gcm":
                    return self._reply(415, "aes128gcm required")
                plain = http_ece.decrypt(
                    body, private_key=sub.private_key, auth_secret=sub.auth, version="aes128gcm"
                )
                service.pushes.append(
                    Push(name, claims, int(self.headers["TTL"]), json.loads(plain))
                )
                return self._reply(201)

        return Handler
