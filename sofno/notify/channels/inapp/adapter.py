"""The in-app channel: an item in the person's inbox (the bell)."""

from __future__ import annotations

from sofno.core.channels import Channel
from sofno.notify.channels.base import BaseChannel, Result
from sofno.notify.models import InboxItem


class InAppChannel(BaseChannel):
    kind = Channel.INAPP

    def send(self, delivery) -> Result:
        if delivery.recipient_user_id is None:
            return Result(ok=False, permanent=True, detail="in-app needs a member")
        content = delivery.message.content
        # One item per delivery, however often the delivery is retried.
        item, _created = InboxItem.objects.get_or_create(
            delivery=delivery,
            defaults={
                "organization_id": delivery.organization_id,
                "user_id": delivery.recipient_user_id,
                "title": (content.get("subject") or "")[:300],
                "body": content.get("text", ""),
                "url": content.get("url", ""),
            },
        )
        return Result(ok=True, provider_ref=str(item.public_id))
