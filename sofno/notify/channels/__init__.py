"""The channel table: kind -> dotted path of its adapter class.

Add a channel by adding its package under ``notify/channels/<kind>/`` and one line
here (and a ``Channel`` member in ``core.channels``).
"""

from __future__ import annotations

from functools import cache

from django.utils.module_loading import import_string

from sofno.core.channels import Channel
from sofno.notify.channels.base import BaseChannel, Result

CHANNELS = {
    Channel.WEBHOOK: "sofno.notify.channels.webhook.adapter.WebhookChannel",
    Channel.EMAIL: "sofno.notify.channels.email.adapter.EmailChannel",
    Channel.SMS: "sofno.notify.channels.twilio.adapter.SmsChannel",
    Channel.VOICE: "sofno.notify.channels.twilio.adapter.VoiceChannel",
    Channel.CALL_PATCH: "sofno.notify.channels.twilio.adapter.CallPatchChannel",
    Channel.INAPP: "sofno.notify.channels.inapp.adapter.InAppChannel",
    Channel.WEBPUSH: "sofno.notify.channels.webpush.adapter.WebPushChannel",
    Channel.APPRISE: "sofno.notify.channels.apprise.adapter.AppriseChannel",
}
assert set(CHANNELS) == set(Channel), "every channel needs an adapter"


@cache
def get_channel(kind: str) -> BaseChannel:
    """The adapter instance for ``kind`` (one per process)."""
    return import_string(CHANNELS[kind])()


__all__ = ["CHANNELS", "BaseChannel", "Result", "get_channel"]
