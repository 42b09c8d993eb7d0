"""SMS, alert call and call patch channels through Twilio."""

from __future__ import annotations

from django.urls import reverse

from sofno.core.channels import Channel
from sofno.notify import conf
from sofno.notify.channels.base import BaseChannel, Result
from sofno.notify.channels.twilio import sending, twiml


def _status_url(delivery) -> str:
    return conf.base_url() + reverse("notify:twilio-status", args=[delivery.public_id])


def _token(delivery, **extra) -> str:
    # ``l``: the language the message was written in for this person, so the keypress
    # callbacks answer in the language the call spoke.
    return twiml.call_token(
        o=delivery.organization_id,
        u=delivery.recipient_user_id,
        i=(delivery.event.payload or {}).get("incident_id", ""),
        d=str(delivery.public_id),
        l=content_language(delivery),
        **extra,
    )


def content_language(delivery) -> str:
    """The language the message was rendered in for its recipient."""
    return delivery.message.language or "en"


class SmsChannel(BaseChannel):
    kind = Channel.SMS

    def send(self, delivery) -> Result:
        text = delivery.message.content.get("text", "")
        return sending.send_sms(delivery.address, text, _status_url(delivery))


class VoiceChannel(BaseChannel):
    kind = Channel.VOICE

    def send(self, delivery) -> Result:
        content = delivery.message.content
        text = content.get("text") or content.get("subject", "")
        return sending.alert_call(
            delivery.address,
            text,
            _token(delivery),
            _status_url(delivery),
            language=content_language(delivery),
        )


class CallPatchChannel(BaseChannel):
    kind = Channel.CALL_PATCH

    def send(self, delivery) -> Result:
        content = delivery.message.content
        if not content.get("patch_phone"):
            return Result(ok=False, permanent=True, detail="no contact to bridge")
        token = _token(delivery, p=content["patch_phone"])
        return sending.patch_call(
            delivery.address,
            content.get("subject", ""),
            content.get("patch_name", ""),
            token,
            _status_url(delivery),
            language=content_language(delivery),
        )
