"""The event log: immutable, ordered per organization."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone as django_tz
from django.utils.translation import gettext_lazy as _

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
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="events")
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
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.type} {self.subject}"
