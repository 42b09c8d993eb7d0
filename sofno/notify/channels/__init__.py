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
}


@cache
def get_channel(kind: str) -> BaseChannel:
    """The adapter instance for ``kind`` (one per process)."""
    return import_string(CHANNELS[kind])()


__all__ = ["CHANNELS", "BaseChannel", "Result", "get_channel"]
