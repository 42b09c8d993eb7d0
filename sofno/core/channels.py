"""The delivery channels, named once.

Every list of channels elsewhere is a named subset of :class:`Channel` below, so a
channel is spelled in one place and a subset cannot drift from the whole:

- ``PERSON_CHANNELS``: sent to one person (an address, a phone or their account);
- ``PHONE_CHANNELS``: sent to a phone number;
- ``ACCOUNT_CHANNELS``: sent to a member's account, not an address (staff only);
- ``RULE_CHANNELS``: what a notification rule may choose (webhooks are endpoints of
  their own, not a rule's channel);
- ``REMINDER_CHANNELS``: how a person may hear that their on-call turn starts.

It lives in ``core`` because ``oncall`` (above ``notify``) stores a reminder channel
too. The adapters that send on each channel stay in ``notify.channels``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    WEBHOOK = "webhook", _("Webhook")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    VOICE = "voice", _("Voice call")
    CALL_PATCH = "call_patch", _("Call patch")
    INAPP = "inapp", _("In-app")
    WEBPUSH = "webpush", _("Web push")
    APPRISE = "apprise", _("Apprise")


PERSON_CHANNELS = frozenset(
    {
        Channel.EMAIL,
        Channel.SMS,
        Channel.VOICE,
        Channel.CALL_PATCH,
        Channel.INAPP,
        Channel.WEBPUSH,
    }
)
PHONE_CHANNELS = frozenset({Channel.SMS, Channel.VOICE, Channel.CALL_PATCH})
ACCOUNT_CHANNELS = frozenset({Channel.INAPP, Channel.WEBPUSH})
RULE_CHANNELS = frozenset(Channel) - {Channel.WEBHOOK}
REMINDER_CHANNELS = frozenset({Channel.INAPP, Channel.EMAIL, Channel.SMS, Channel.WEBPUSH})


def channel_choices(
    channels: Iterable[Channel], labels: Mapping[Channel, str | Promise] | None = None
) -> list[tuple[str, str | Promise]]:
    """``(value, label)`` pairs of ``channels`` in :class:`Channel`'s order, for a
    form or a model field's ``choices``; ``labels`` words some differently there."""
    wanted = set(channels)
    labels = labels or {}
    return [(c.value, labels.get(c, c.label)) for c in Channel if c in wanted]
