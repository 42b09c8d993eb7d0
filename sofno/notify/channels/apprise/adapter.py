"""The Apprise channel: one Apprise URL per delivery."""

from __future__ import annotations

from sofno.core.channels import Channel
from sofno.notify.channels.apprise.sending import send_apprise
from sofno.notify.channels.base import BaseChannel, Result


class AppriseChannel(BaseChannel):
    kind = Channel.APPRISE

    def send(self, delivery) -> Result:
        content = delivery.message.content
        return send_apprise(delivery.address, content.get("subject", ""), content.get("text", ""))
