"""The official ``twilio`` client, pointed at a configurable API base URL.

The SDK builds ``https://api.twilio.com/...`` URLs itself; the custom ``http_client``
(the SDK's documented extension point) rewrites that prefix, which is how tests and
a private relay reach a different server with the real SDK on the wire.
"""

from __future__ import annotations

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from sofno.notify import conf

TWILIO_API = "https://api.twilio.com"


class RebasedHttpClient(TwilioHttpClient):
    """Sends the SDK's requests to ``base`` instead of ``https://api.twilio.com``."""

    def __init__(self, base: str, timeout: float = 15.0) -> None:
        super().__init__(timeout=timeout)
        self.base = base.rstrip("/")

    def request(self, method, url, params=None, data=None, headers=None, auth=None, **kwargs):
        if self.base and url.startswith(TWILIO_API):
            url = self.base + url[len(TWILIO_API) :]
        return super().request(method, url, params, data, headers, auth, **kwargs)


def client() -> Client:
    """A Twilio client for the configured account and API base."""
    base = conf.setting("TWILIO_API_BASE", TWILIO_API)
    return Client(
        conf.setting("TWILIO_ACCOUNT_SID"),
        conf.setting("TWILIO_AUTH_TOKEN"),
        http_client=RebasedHttpClient(base),
    )
