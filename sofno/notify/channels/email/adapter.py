"""The email channel: a delivery's rendered message through its SMTP profile."""

from __future__ import annotations

from sofno.core.channels import Channel
from sofno.notify.channels.base import BaseChannel, Result
from sofno.notify.channels.email.sending import send_with_fallback
from sofno.notify.channels.email.smtp import POOL, Email
from sofno.notify.models import DeliveryMessage, SmtpProfile
from sofno.notify.secrets import UnreadableSecret


class EmailChannel(BaseChannel):
    kind = Channel.EMAIL

    def send(self, delivery) -> Result:
        return self.send_many([delivery])[0]

    def send_many(self, deliveries: list) -> list[Result]:
        """Send a batch; profiles and messages are read once for the whole batch."""
        messages = {
            m.delivery_id: m
            for m in DeliveryMessage.objects.filter(delivery__in=[d.pk for d in deliveries])
        }
        profiles = {
            p.public_id.hex: p
            for p in SmtpProfile.objects.filter(
                organization_id__in={d.organization_id for d in deliveries}
            )
        }
        results = []
        try:
            for delivery in deliveries:
                try:
                    results.append(self._send(delivery, messages.get(delivery.pk), profiles))
                except Exception as exc:  # one bad row must not lose the batch's results
                    results.append(Result(ok=False, detail=f"{type(exc).__name__}: {exc}"[:500]))
        finally:
            # Sessions are reused within a batch and closed after it, so no worker
            # thread keeps idle sockets to every mail server it has ever used.
            POOL.close_all()
        return results

    def _send(self, delivery, message, profiles: dict) -> Result:
        if message is None:
            return Result(ok=False, permanent=True, detail="the delivery has no message")
        content = message.content
        mine = [p for p in profiles.values() if p.organization_id == delivery.organization_id]
        default = next((p for p in mine if p.is_default), None)
        wanted = str(content.get("smtp_profile", "")).replace("-", "")
        chosen = next((p for p in mine if p.public_id.hex == wanted), None) if wanted else None
        try:
            chosen_settings = chosen.smtp_settings() if chosen else None
            default_settings = default.smtp_settings() if default else None
        except UnreadableSecret as exc:
            return Result(ok=False, permanent=True, detail=f"SMTP password unreadable: {exc}")
        if content.get("from_name"):
            chosen_settings = _renamed(chosen_settings, content["from_name"])
            default_settings = _renamed(default_settings, content["from_name"])
        email = Email(
            subject=content.get("subject", ""),
            text=content.get("text", ""),
            html=content.get("html", ""),
            to=list(content.get("to") or [delivery.address]),
            cc=list(content.get("cc") or []),
            bcc=list(content.get("bcc") or []),
            # Stable across retries, so a receiving system can drop duplicates.
            message_id=f"<{delivery.public_id}@sofno>",
            headers={"X-SOFNO-Delivery": str(delivery.public_id)},
        )
        return send_with_fallback(email, chosen_settings, default_settings)


def _renamed(smtp, name: str):
    if smtp is None:
        return None
    from dataclasses import replace

    return replace(smtp, from_name=name)
