"""The web push channel: every browser the person subscribed; dead ones removed."""

from __future__ import annotations

from sofno.core.channels import Channel
from sofno.notify.channels.base import BaseChannel, Result
from sofno.notify.channels.webpush.sending import send_push
from sofno.notify.models import PushSubscription


class WebPushChannel(BaseChannel):
    kind = Channel.WEBPUSH

    def send(self, delivery) -> Result:
        subscriptions = list(
            PushSubscription.objects.filter(
                user_id=delivery.recipient_user_id, organization_id=delivery.organization_id
            )
        )
        if not subscriptions:
            return Result(ok=True, detail="no browser subscribed: nothing to push")
        content = delivery.message.content
        payload = {
            "title": content.get("subject", "SOFNO"),
            "body": content.get("text", ""),
            "url": content.get("url", "/"),
            "tag": str(delivery.event.public_id),
        }
        results = []
        for sub in subscriptions:
            result = send_push(sub.endpoint, sub.p256dh, sub.auth, payload)
            if result.disable_target:
                sub.delete()  # the push service says this subscription is gone
            results.append(result)
        if any(r.ok for r in results):
            return Result(ok=True, detail=f"{sum(r.ok for r in results)}/{len(results)} browsers")
        retryable = [r for r in results if not r.permanent]
        if retryable:
            return retryable[0]
        refused = [r for r in results if not r.disable_target]
        if refused:  # e.g. the outbound guard refused the endpoint: a failure to see
            return refused[0]
        return Result(ok=True, detail="every subscription was gone and is removed")
