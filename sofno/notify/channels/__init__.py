"""The channel table: kind -> dotted path of its adapter class.

Add a channel by adding its package under ``notify/channels/<kind>/`` and one line
here (and a ``Channel`` choice in ``notify.models``).
"""

from __future__ import annotations

from functools import cache

from django.utils.module_loading import import_string

from sofno.notify.channels.base import BaseChannel, Result

CHANNELS = {
    "webhook": "sofno.notify.channels.webhook.adapter.WebhookChannel",
    "email": "sofno.notify.channels.email.adapter.EmailChannel",
    "sms": "sofno.notify.channels.twilio.adapter.SmsChannel",
    "voice": "sofno.notify.channels.twilio.adapter.VoiceChannel",
    "call_patch": "sofno.notify.channels.twilio.adapter.CallPatchChannel",
    "inapp": "sofno.notify.channels.inapp.adapter.InAppChannel",
    "webpush": "sofno.notify.channels.webpush.adapter.WebPushChannel",
    "apprise": "sofno.notify.channels.apprise.adapter.AppriseChannel",
}


@cache
def get_channel(kind: str) -> BaseChannel:
    """The adapter instance for ``kind`` (one per process)."""
    return import_string(CHANNELS[kind])()


__all__ = ["CHANNELS", "BaseChannel", "Result", "get_channel"]
