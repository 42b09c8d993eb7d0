"""Subscriptions (webhook endpoints) and the one delivery machinery every channel uses.

A :class:`Delivery` is one message to one target: an endpoint (webhooks), or later a
recipient on a channel (email, SMS, ...). Each try leaves an :class:`Attempt`.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone as django_tz
from django.utils.translation import gettext_lazy as _

from sofno.core.channels import Channel
from sofno.core.modeling import CreatedAt, OrganizationOwned, Timestamped
from sofno.core.models import Organization
from sofno.events.catalog import matches
from sofno.events.models import Event
from sofno.notify import reasons

SECRET_PREFIX = "whsec_"
# Standard Webhooks retry schedule after the immediate first try (Svix's numbers).
RETRY_SCHEDULE = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
JITTER = 0.2
# A timeout or 429 means the receiver is struggling: wait at least this long.
MIN_BACKOFF_SECONDS = 60
RESPONSE_EXCERPT_BYTES = 20 * 1024


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class OrderingMode(models.TextChoices):
    ORDERED = "ordered", _("Ordered per ordering key")
    UNORDERED = "unordered", _("Unordered (parallel)")


class WebhookEndpoint(OrganizationOwned, Timestamped):
    """An organization's HTTPS receiver for events."""

    url = models.CharField(_("URL"), max_length=2048)
    description = models.CharField(_("description"), max_length=300, blank=True)
    event_types = models.JSONField(
        _("event types"), default=list, blank=True, help_text=_("Empty means every type.")
    )
    headers = models.JSONField(_("custom headers"), default=dict, blank=True)
    # [{"name": ..., "value": ...}]; values may hold tokens such as {{ customer.name }}.
    parameters = models.JSONField(_("extra parameters"), default=list, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    ordering = models.CharField(
        _("ordering"), max_length=16, choices=OrderingMode.choices, default=OrderingMode.UNORDERED
    )
    rate_limit = models.PositiveIntegerField(
        _("rate limit (per second)"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    # [{"secret": "whsec_...", "expires_at": iso or null}], newest first. Kept readable
    # because signing needs the secret itself (as every Standard Webhooks sender does).
    secrets = models.JSONField(default=list, editable=False)
    # Why it was turned off: a ``notify.reasons`` code and its parameters; the text
    # column holds the words of endpoints turned off before codes existed.
    disabled_code = models.CharField(max_length=40, blank=True)
    disabled_params = models.JSONField(default=dict, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    # Fixed one-second window of the optional rate limit, shared by every worker.
    rate_window = models.BigIntegerField(default=0, editable=False)
    rate_count = models.IntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("webhook endpoint")
        ordering = ["created_at"]
        indexes = [
            # Dispatch reads one organization's enabled endpoints for every batch.
            models.Index(fields=["organization", "enabled"], name="endpoint_org_enabled"),
        ]

    def __str__(self) -> str:
        return self.url

    @property
    def is_ordered(self) -> bool:
        return self.ordering == OrderingMode.ORDERED

    @property
    def disabled_text(self) -> str:
        """Why it was turned off, in the active language."""
        if self.disabled_code:
            return reasons.describe(self.disabled_code, self.disabled_params)
        return self.disabled_reason

    def signing_secrets(self, at: dt.datetime | None = None) -> list[str]:
        """The secrets to sign with now: the newest, plus old ones still in rotation."""
        at = at or django_tz.now()
        live = []
        for entry in self.secrets or []:
            expires = entry.get("expires_at")
            if expires is None or dt.datetime.fromisoformat(expires) > at:
                live.append(entry["secret"])
        return live

    @property
    def current_secret(self) -> str:
        return self.secrets[0]["secret"] if self.secrets else ""

    def wants(self, event: Event) -> bool:
        """Whether a new event should be delivered here (type filter, age)."""
        if event.type == TEST_EVENT_TYPE or event.recorded_at < self.created_at:
            return False
        if event.type.startswith("webhook.") and event.subject == f"webhook:{self.public_id}":
            return False  # never tell a failing endpoint about itself
        return matches(self.event_types or [], event.type)


TEST_EVENT_TYPE = "webhook.test"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed (dead letter)")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


class Delivery(OrganizationOwned, CreatedAt):
    """One message of one event to one target, tried until it succeeds or gives up."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEBHOOK)
    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    # For person-facing channels (added later): who, and where (email, phone, ...).
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    address = models.CharField(max_length=500, blank=True)
    ordered = models.BooleanField(default=False)
    ordering_key = models.CharField(max_length=200, blank=True)
    sequence = models.BigIntegerField(help_text="The event's sequence, for ordered delivery.")
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=django_tz.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    manual = models.BooleanField(default=False, help_text="The next try was asked for by hand.")
    last_status_code = models.IntegerField(null=True, blank=True)
    last_detail = models.CharField(max_length=500, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event"],
                condition=Q(endpoint__isnull=False),
                name="delivery_once_per_endpoint",
            ),
        ]
        indexes = [
            # The claim: pending rows whose time has come, earliest first.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="delivery_pending_due",
            ),
            # Ordered mode: "is an earlier delivery of this key still open?"
            models.Index(
                fields=["endpoint", "ordering_key", "sequence"],
                condition=Q(status__in=["pending", "sending"]),
                name="delivery_open_key_seq",
            ),
            # The reconciler: in-flight rows whose lease ran out (a worker died).
            models.Index(
                fields=["lease_until"], condition=Q(status="sending"), name="delivery_lease"
            ),
            # An endpoint's page lists its deliveries, newest first.
            models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint_created"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.status})"

    @property
    def message_id(self) -> str:
        """The ``webhook-id``: stable across every try of this delivery."""
        return f"msg_{self.public_id.hex}"

    @property
    def detail_text(self) -> str:
        """The last detail; for a delivery an escalation cancelled when it stopped, why
        it stopped, in the active language (read ``message__escalation`` with it)."""
        if not self.last_detail and self.status == DeliveryStatus.CANCELLED:
            message = getattr(self, "message", None)  # reverse one-to-one: may be absent
            run = message.escalation if message is not None else None
            if run is not None:
                return run.stopped_text
        return self.last_detail

    def retry_delay(
        self,
        attempts_done: int,
        retry_after: float | None = None,
        min_delay: float = 0,
        rng: random.Random | None = None,
    ) -> float | None:
        """Seconds until the next try after ``attempts_done`` tries, or ``None`` to give up.

        - the schedule is immediate, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, ±20%;
        - ``min_delay`` (60 s after a timeout or 429) raises the wait;
        - ``Retry-After`` is honoured between the scheduled wait and twice it.
        """
        index = attempts_done - 1
        if index >= len(RETRY_SCHEDULE):
            return None
        scheduled = RETRY_SCHEDULE[index]
        delay = scheduled * (1 + (rng or random).uniform(-JITTER, JITTER))
        delay = max(delay, min_delay)
        if retry_after is not None:
            delay = min(max(retry_after, delay), 2 * scheduled)
            delay = max(delay, min_delay)
        return delay


class AttemptTrigger(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    MANUAL = "manual", _("Manual")


class Attempt(models.Model):
    """One try of a delivery, with what the other side answered."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    trigger = models.CharField(
        max_length=16, choices=AttemptTrigger.choices, default=AttemptTrigger.SCHEDULED
    )
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    ok = models.BooleanField(default=False)
    status_code = models.IntegerField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    response = models.TextField(blank=True, help_text="The first 20 KB of the answer.")
    provider_ref = models.CharField(max_length=200, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("attempt")
        ordering = ["number", "id"]
        indexes = [
            # A delivery's page lists its attempts in order.
            models.Index(fields=["delivery", "number"], name="attempt_delivery_number"),
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number} {self.status_code}"


class DispatchCursor(models.Model):
    """How far the dispatcher has read an organization's event log: the one cursor that
    webhook endpoints and notification rules are planned from (the outbox cursor)."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_sequence = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.last_sequence}"


# Rules, templates, SMTP profiles, inbox, push, escalation (engineer f's models live in
# their own modules and are importable from here).
from sofno.notify.channel_models import *  # noqa: E402, F403
from sofno.notify.rule_models import *  # noqa: E402, F403
