"""Service tickets (interventions): configurable statuses, assignment, full history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone as django_tz
from django.utils.translation import gettext_lazy as _

from sofno.core.modeling import OrganizationOwned
from sofno.core.models import Organization
from sofno.directory.models import ContactType, Customer

DEFAULT_STATUSES = (
    ("open", _("Open"), True),
    ("in-progress", _("In progress"), True),
    ("waiting", _("Waiting for customer"), True),
    ("closed", _("Closed"), False),
)


class TicketStatus(OrganizationOwned):
    """A status an organization uses for tickets, marked open or closed."""

    slug = models.SlugField(_("slug"), max_length=40)
    name = models.CharField(_("name"), max_length=80)
    is_open = models.BooleanField(_("counts as open"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    # Which notifications a ticket entering this status sends (Settings > Tickets).
    notify = models.BooleanField(_("notify on this status"), default=False)
    email_admins = models.BooleanField(_("email admins"), default=False)
    email_customer = models.BooleanField(_("email the customer"), default=False)
    email_technicians = models.BooleanField(_("email the technicians"), default=False)
    push_admins = models.BooleanField(_("push to admins"), default=False)
    push_technicians = models.BooleanField(_("push to technicians"), default=False)

    class Meta:
        verbose_name = _("ticket status")
        verbose_name_plural = _("ticket statuses")
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "slug"], name="ticketstatus_unique_slug"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class TicketSettings(models.Model):
    """Per-organization ticket settings: whose email counts as "the customer's"."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, primary_key=True, related_name="ticket_settings"
    )
    customer_contact_type = models.ForeignKey(
        ContactType,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("customer email comes from the primary contact of type"),
    )
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"ticket settings of {self.organization}"


class Ticket(OrganizationOwned):
    """A service intervention at a customer."""

    number = models.PositiveIntegerField(_("number"))
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="tickets", verbose_name=_("customer")
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.ForeignKey(
        TicketStatus, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("status")
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    technicians = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="assigned_tickets",
        verbose_name=_("technicians"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The incident this ticket was opened from (a rule's "open a ticket when the
    # incident stays unacknowledged"), if any.
    incident = models.ForeignKey(
        "monitoring.Incident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
        verbose_name=_("incident"),
    )
    created_at = models.DateTimeField(_("created"), default=django_tz.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    # How a customer user's reads are narrowed (sofno.core.scoping.visible_to).
    customer_scope = "customer"

    class Meta:
        verbose_name = _("ticket")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="ticket_org_number"),
            # One ticket per incident: two workers opening it at once cannot both win.
            models.UniqueConstraint(
                fields=["incident"],
                condition=models.Q(incident__isnull=False),
                name="ticket_one_per_incident",
            ),
        ]
        indexes = [
            # The ticket list: one organization's tickets by status, newest first.
            models.Index(
                fields=["organization", "status", "-created_at"], name="ticket_org_status"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status.is_open


class ChangeKind(models.TextChoices):
    CREATED = "created", _("created")
    STATUS = "status", _("status changed")
    ASSIGNMENT = "assignment", _("assignment changed")
    EDITED = "edited", _("edited")


class TicketChange(models.Model):
    """One line of a ticket's history: who changed what, from what, to what."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="changes")
    at = models.DateTimeField(default=django_tz.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=ChangeKind.choices)
    from_value = models.CharField(max_length=500, blank=True)
    to_value = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket} {self.kind}: {self.from_value} -> {self.to_value}"


class CommentVisibility(models.TextChoices):
    INTERNAL = "internal", _("Internal note")
    PUBLIC = "public", _("Public answer")


class TicketComment(OrganizationOwned):
    """One message of a ticket's conversation.

    An internal note is for the support company's people only; a public answer (and
    anything a customer user writes) is shown to the customer too.
    """

    customer_scope = "ticket__customer"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as written, so the conversation still reads right after the account goes.
    author_name = models.CharField(_("author"), max_length=150, blank=True)
    by_customer = models.BooleanField(_("written by the customer"), default=False)
    visibility = models.CharField(_("visibility"), max_length=10, choices=CommentVisibility.choices)
    body = models.TextField(_("message"), max_length=10_000)
    created_at = models.DateTimeField(_("written"), default=django_tz.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The ticket page and API: a ticket's conversation in order.
            models.Index(fields=["ticket", "created_at"], name="ticket_comment_order"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket}: {self.author_name} ({self.visibility})"

    @property
    def is_public(self) -> bool:
        return self.visibility == CommentVisibility.PUBLIC
