"""The event log: immutable, ordered per organization."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone as django_tz
from django.utils.translation import gettext_lazy as _

from sofno.core.modeling import CreatedAt, OrganizationOwned
from sofno.core.models import Organization


class EventCounter(models.Model):
    """The last sequence number handed out in an organization.

    Incrementing it takes a row lock held until the emitting transaction commits,
    so sequence order is commit order and a reader never sees a gap fill in later.
    """

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_sequence = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.last_sequence}"


class Event(models.Model):
    """Something that happened, as recorded in the log. Never updated."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Every lookup by organization goes through one of the composite indexes below.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    sequence = models.BigIntegerField(_("sequence"))
    type = models.CharField(_("type"), max_length=100)
    subject = models.CharField(
        _("subject"), max_length=200, blank=True, help_text=_("e.g. device:<id>")
    )
    payload = models.JSONField(_("payload"), default=dict)
    ordering_key = models.CharField(_("ordering key"), max_length=200, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), default=django_tz.now)
    recorded_at = models.DateTimeField(_("recorded at"), default=django_tz.now, editable=False)
    source = models.CharField(_("source"), max_length=100, default="sofno")
    # NULL, not "", so the partial unique index covers only real keys.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    # The public id of the customer the event is about, set at emit time (see
    # ``events.scope.customer_of``); NULL for staff matters. A customer user sees
    # only their own customer's events. Not a foreign key: the log outlives customers.
    customer_ref = models.UUIDField(_("customer"), null=True, blank=True, editable=False)

    # How a customer user's view of the log is narrowed (sofno.core.scoping).
    customer_scope = "customer_ref"
    customer_scope_key = "public_id"

    class Meta:
        verbose_name = _("event")
        constraints = [
            models.UniqueConstraint(fields=["organization", "sequence"], name="event_org_sequence"),
            # POST /api/v1/events with an Idempotency-Key: a retry finds the first row.
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="event_org_idempotency",
            ),
        ]
        indexes = [
            # The log page and pull consumers filter one organization's types by sequence.
            models.Index(fields=["organization", "type", "sequence"], name="event_org_type_seq"),
            # The retention prune deletes the oldest rows by recording time.
            models.Index(fields=["recorded_at"], name="event_recorded_at"),
            # A customer user's log: their customer's events by sequence.
            models.Index(
                fields=["organization", "customer_ref", "sequence"], name="event_org_customer_seq"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.type} {self.subject}"


class CustomEventType(OrganizationOwned, CreatedAt):
    """An event type an organization defines for its own systems (billing, CRM, ...)."""

    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=500, blank=True)
    category = models.CharField(_("category"), max_length=60, blank=True)
    # [{"name", "type", "description", "example"}], validated by schemas.TokenIn.
    tokens = models.JSONField(_("tokens"), default=list, blank=True)

    class Meta:
        verbose_name = _("custom event type")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="customtype_org_name")
        ]

    def __str__(self) -> str:
        return self.name


class TimezoneSource(models.TextChoices):
    CUSTOMER = "customer", _("The customer's timezone (else the organization's)")
    ORGANIZATION = "organization", _("The organization's timezone")
    FIXED = "fixed", _("A fixed timezone")


class TimeTrigger(OrganizationOwned, CreatedAt):
    """When an event of ``source_type`` arrives, emit ``emit_type`` later.

    The due time is the payload's ``timestamp_token`` (or the event's occurred-at)
    plus ``offset_minutes``, then moved to the next ``at_local_time`` in the chosen
    timezone: "3 days after invoice.delivered, at 09:00 customer time".
    """

    name = models.CharField(_("name"), max_length=120)
    source_type = models.CharField(_("when this event arrives"), max_length=100)
    timestamp_token = models.CharField(
        _("timestamp token"),
        max_length=100,
        blank=True,
        help_text=_("Payload field holding the reference time; empty means occurred-at."),
    )
    offset_minutes = models.IntegerField(_("offset (minutes)"), default=0)
    at_local_time = models.TimeField(_("at local time"), null=True, blank=True)
    timezone_source = models.CharField(
        max_length=16, choices=TimezoneSource.choices, default=TimezoneSource.CUSTOMER
    )
    timezone = models.CharField(_("timezone"), max_length=64, blank=True)
    emit_type = models.CharField(_("emit this event"), max_length=100)
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("time trigger")
        ordering = ["name"]
        indexes = [
            # emit_many looks up the enabled triggers for the types it records.
            models.Index(fields=["organization", "source_type"], name="trigger_org_source"),
        ]

    def __str__(self) -> str:
        return self.name


class DueStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    FIRED = "fired", _("Fired")
    SKIPPED = "skipped", _("Skipped")


class TriggerDue(models.Model):
    """One scheduled firing of a time trigger; the loop claims it by compare-and-set."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    trigger = models.ForeignKey(TimeTrigger, on_delete=models.CASCADE, related_name="dues")
    source_event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    due_at = models.DateTimeField()
    timezone = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=DueStatus.choices, default=DueStatus.PENDING)
    note = models.CharField(max_length=300, blank=True)
    fired_event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    fired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["trigger", "source_event"], name="triggerdue_once")
        ]
        indexes = [
            # The trigger loop: pending rows whose due time has come, earliest first.
            models.Index(
                fields=["due_at"],
                condition=models.Q(status="pending"),
                name="triggerdue_pending_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trigger_id} at {self.due_at:%Y-%m-%d %H:%M}"


class Consumer(OrganizationOwned, CreatedAt):
    """A pull subscriber: reads the log in order and commits how far it got."""

    name = models.CharField(_("name"), max_length=120)
    event_types = models.JSONField(
        _("event types"), default=list, blank=True, help_text=_("Empty means every type.")
    )
    cursor = models.BigIntegerField(_("cursor"), default=0)
    cursor_committed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("consumer")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
