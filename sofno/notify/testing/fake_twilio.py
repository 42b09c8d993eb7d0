"""A local server that speaks Twilio's REST API the way the ``twilio`` SDK calls it.

``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` and ``.../Calls.json`` with
form-encoded bodies and HTTP basic auth (account SID : auth token). It checks the
auth and the required parameters as Twilio does (error 20003 for bad credentials,
21604/21603/21205 for a missing To/From/Url-or-Twiml) and answers JSON shaped like
Twilio's (sid, status ``queued``, ...). Every accepted request is kept in
``requests`` with its parsed form, for assertions on the TwiML we sent.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)/(?P<kind>Messages|Calls)\.json$")


@dataclass
class TwilioRequest:
    kind: str  # "Messages" or "Calls"
    account_sid: str
    form: dict[str, str]
    sid: str


class FakeTwilio:
    """``with FakeTwilio(sid, token) as twilio: ... twilio.base_url ... twilio.requests``."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.requests: list[TwilioRequest] = []
        self.fail_next: tuple[int, int, str] | None = None  # (status, code, message)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeTwilio:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, status: int, code: int, message: str) -> None:
                self._answer(
                    status,
                    {
                        "code": code,
                        "message": message,
                        "more_info": f"https://www.twilio.com/docs/errors/{code}",
                        "status": status,
                    },
                )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length).decode()
                match = PATH.match(self.path)
                if not match:
                    return self._error(404, 20404, "The requested resource was not found")
                expected = base64.b64encode(
                    f"{fake.account_sid}:{fake.auth_token}".encode()
                ).decode()
                if (
                    self.headers.get("Authorization") != f"Basic {expected}"
                    or match["sid"] != fake.account_sid
                ):
                    return self._error(401, 20003, "Authenticate")
                if "application/x-www-form-urlencoded" not in self.headers.get("Content-Type", ""):
                    return self._error(400, 20001, "Expected a form body")
                form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                if fake.fail_next is not None:
                    status, code, message = fake.fail_next
                    fake.fail_next = None
                    return self._error(status, code, message)
                if not form.get("To"):
                    return self._error(400, 21604, "A 'To' phone number is required.")
                if not form.get("From") and not form.get("MessagingServiceSid"):
                    return self._error(400, 21603, "A 'From' phone number is required.")
                kind = match["kind"]
                if kind == "Messages" and not form.get("Body") and not form.get("MediaUrl"):
                    return self._error(400, 21602, "Message body is required.")
                if kind == "Calls" and not (form.get("Url") or form.get("Twiml")):
                    return self._error(400, 21205, "Url or Twiml parameter is required.")
                prefix = "SM" if kind == "Messages" else "CA"
                sid = prefix + secrets.token_hex(16)
                fake.requests.append(TwilioRequest(kind, match["sid"], form, sid))
                body = {
                    "sid": sid,
                    "account_sid": fake.account_sid,
                    "to": form["To"],
                    "from": form.get("From"),
                    "status": "queued",
                    "api_version": "2010-04-01",
                    "date_created": "Sun, 22 Nov 2026 04:00:00 +0000",
                    "uri": f"/2010-04-01/Accounts/{fake.account_sid}/{kind}/{sid}.json",
                }
                if kind == "Messages":
                    body.update(body=form["Body"], direction="outbound-api", num_segments="1")
                else:
                    body.update(direction="outbound-api", answered_by=None)
                return self._answer(201, body)

        return Handler
