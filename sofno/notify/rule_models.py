"""Notification rules, escalation policies and their frozen runs, rule evaluations.

Imported at the end of ``sofno.notify.models``, so everything here is importable
from there too.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sofno.core.channels import RULE_CHANNELS, Channel, channel_choices
from sofno.core.modeling import CreatedAt, OrganizationOwned, Timestamped
from sofno.core.models import Organization
from sofno.events.models import Event
from sofno.notify import reasons
from sofno.notify.routing.quiet import QuietAction

# ``sofno.notify.models`` star-imports this module: export the models only.
__all__ = [
    "RULE_CHANNEL_CHOICES",
    "EscalationPolicy",
    "EscalationRun",
    "HeldNotification",
    "HoldReason",
    "HoldStatus",
    "NotificationRule",
    "RecipientKind",
    "RuleEvaluation",
    "RunStatus",
    "Scope",
]


class Scope(models.TextChoices):
    ORGANIZATION = "organization", _("Whole organization")
    CUSTOMER = "customer", _("One customer (all its computers)")
    DEVICE = "device", _("One device (overrides its customer's rules)")


class RecipientKind(models.TextChoices):
    ASSIGNED_AGENTS = "assigned_agents", _("The customer's assigned agents")
    ON_CALL = "on_call", _("Whoever is on call now")
    ROLE = "role", _("Members with a role")
    USER = "user", _("A named member")
    CONTACT_TYPE = "contact_type", _("The customer's contacts of a type")
    TECHNICIANS = "technicians", _("The ticket's technicians")
    ADDED_TECHNICIANS = "added_technicians", _("The technicians just assigned to the ticket")
    PRIMARY_CONTACT = "primary_contact", _("The customer's primary contact of a type")
    TURN_PEOPLE = "turn_people", _("The turn's people who chose this reminder channel")
    INSTALLER = "installer", _("The person who installed the computer")


# What a rule's form offers, worded for choosing there.
RULE_CHANNEL_CHOICES = channel_choices(
    RULE_CHANNELS,
    {
        Channel.CALL_PATCH: _("Call patch (agent, then customer)"),
        Channel.APPRISE: _("Apprise URL"),
    },
)


class NotificationRule(OrganizationOwned, Timestamped):
    """When an event matches, who hears about it, on which channels, at what hours.

    - ``event_types``: patterns as webhook filters (``ticket.*``); empty means none;
    - ``conditions``: ``[{"token", "op", "value"}]`` on the payload (``op``: eq, ne,
      in, contains, exists, gte, lte);
    - ``ticket_status_from`` / ``ticket_status_to``: slugs (or names) of a change;
    - scope: organization, one customer, or one device; for an event about a device,
      a matching device rule overrides its customer's matching rules;
    - ``recipients``: ``[{"kind": RecipientKind, "value": ...}]``;
    - ``channels``: values of ``core.channels.RULE_CHANNELS`` (staff always get in-app too).
    """

    name = models.CharField(_("name"), max_length=120)
    enabled = models.BooleanField(_("enabled"), default=True)
    event_types = models.JSONField(_("event types"), default=list)
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    ticket_status_from = models.CharField(_("ticket status from"), max_length=60, blank=True)
    ticket_status_to = models.CharField(_("ticket status to"), max_length=60, blank=True)
    scope = models.CharField(
        _("scope"), max_length=16, choices=Scope.choices, default=Scope.ORGANIZATION
    )
    customer = models.ForeignKey(
        "directory.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    device = models.ForeignKey(
        "monitoring.Device", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    recipients = models.JSONField(_("recipients"), default=list)
    channels = models.JSONField(_("channels"), default=list)
    apprise_urls = models.JSONField(_("Apprise URLs"), default=list, blank=True)
    quiet_action = models.CharField(
        _("in quiet hours"), max_length=16, choices=QuietAction.choices, default=QuietAction.DEFER
    )
    business_hours_only = models.BooleanField(
        _("only in the customer's business hours"), default=False
    )
    fallback_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("fallback person when nobody is on call"),
    )
    escalation_policy = models.ForeignKey(
        "notify.EscalationPolicy",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rules",
    )
    # From incidents: open a ticket when an incident this rule matched stays
    # unacknowledged this long (the notify.incident_tickets loop).
    open_ticket_after_minutes = models.PositiveIntegerField(
        _("open a ticket when the incident stays unacknowledged (minutes)"),
        null=True,
        blank=True,
    )
    # Rules another app generates (Settings > Tickets): ``managed_by`` names the app,
    # ``managed_key`` the setting, so regenerating finds the same row again.
    managed_by = models.CharField(_("managed by"), max_length=20, blank=True)
    managed_key = models.CharField(max_length=120, blank=True)

    class Meta:
        verbose_name = _("notification rule")
        ordering = ["name"]
        indexes = [
            # Dispatch loads one organization's enabled rules for every event batch.
            models.Index(fields=["organization", "enabled"], name="rule_org_enabled"),
        ]
        constraints = [
            # Regenerating a managed rule finds it by key: one row per key.
            models.UniqueConstraint(
                fields=["organization", "managed_key"],
                condition=~Q(managed_key=""),
                name="rule_managed_key_once",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EscalationPolicy(OrganizationOwned, CreatedAt):
    """Ordered steps (notify these recipients on these channels, then wait N minutes),
    the whole chain repeated up to ``repeat`` more times.

    ``steps``: ``[{"recipients": [...], "channels": [...], "wait_minutes": N}]``.
    """

    name = models.CharField(_("name"), max_length=120)
    steps = models.JSONField(_("steps"), default=list)
    repeat = models.PositiveSmallIntegerField(_("repeat the chain"), default=0)

    class Meta:
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def snapshot(self) -> dict:
        """The policy as it is now, frozen onto an incident's run."""
        return {
            "policy": str(self.public_id),
            "name": self.name,
            "steps": list(self.steps),
            "repeat": self.repeat,
        }


class RunStatus(models.TextChoices):
    ACTIVE = "active", _("Escalating")
    STOPPED = "stopped", _("Stopped (acknowledged or resolved)")
    EXHAUSTED = "exhausted", _("Every step done")


class EscalationRun(OrganizationOwned, CreatedAt):
    """One incident's escalation, following the policy as frozen when it started."""

    incident = models.ForeignKey(
        "monitoring.Incident", on_delete=models.CASCADE, related_name="escalations"
    )
    rule = models.ForeignKey(
        NotificationRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    policy = models.ForeignKey(
        EscalationPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    snapshot = models.JSONField()
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.ACTIVE)
    step = models.PositiveIntegerField(default=0, help_text="Index of the next step.")
    round = models.PositiveIntegerField(default=0)
    next_at = models.DateTimeField(null=True, blank=True)
    # Why it stopped: a ``notify.reasons`` code and its parameters; the text column
    # holds the words of runs stopped before codes existed.
    stopped_code = models.CharField(max_length=40, blank=True)
    stopped_params = models.JSONField(default=dict, blank=True)
    stopped_reason = models.CharField(max_length=200, blank=True)
    log = models.JSONField(default=list, help_text="One entry per step taken.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("escalation")
        constraints = [
            # One escalation per incident and rule: a repeated alert event never
            # starts a second chain.
            models.UniqueConstraint(fields=["incident", "rule"], name="escalation_once"),
        ]
        indexes = [
            # The escalation loop: active runs whose next step is due, earliest first.
            models.Index(
                fields=["next_at"], condition=Q(status="active"), name="escalation_active_due"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} step {self.step}"

    @property
    def stopped_text(self) -> str:
        """Why it stopped, in the active language."""
        if self.stopped_code:
            return reasons.describe(self.stopped_code, self.stopped_params)
        return self.stopped_reason


# The stored name of the built-in rule that tells admins about monitoring's health.
ADMINS_RULE_NAME = "Admins (built in)"


class RuleEvaluation(CreatedAt):
    """Why a rule did or did not fire for an event (shown on the event's page).

    ``reasons`` holds ``notify.reasons`` entries (a code and its parameters; plain
    sentences in rows written before codes existed), put into words when read.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="rule_evaluations")
    rule = models.ForeignKey(
        NotificationRule, null=True, on_delete=models.SET_NULL, related_name="evaluations"
    )
    rule_name = models.CharField(max_length=120)
    matched = models.BooleanField()
    reasons = models.JSONField(default=list)
    deliveries = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        indexes = [
            # An event's page lists its evaluations.
            models.Index(fields=["event"], name="ruleeval_event"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_name}: {'matched' if self.matched else 'no'}"

    @property
    def name_text(self) -> str:
        """The rule's name; the built-in one's in the active language."""
        if self.rule_id is None and self.rule_name == ADMINS_RULE_NAME:
            return str(_("Admins (built in)"))
        return self.rule_name


class HoldReason(models.TextChoices):
    CUSTOMER_INACTIVE = "customer_inactive", _("The customer is inactive")
    ALERTS_OFF = "alerts_off", _("The customer's alerts are turned off")
    MAINTENANCE = "maintenance", _("Maintenance window")
    OUR_OUTAGE = "our_outage", _("We suspect our own outage")
    OUTSIDE_HOURS = "outside_hours", _("Outside the customer's business hours")


class HoldStatus(models.TextChoices):
    HELD = "held", _("Held")
    RELEASED = "released", _("Sent when the hold ended")
    DROPPED = "dropped", _("Dropped: no longer true when the hold ended")


class HeldNotification(CreatedAt):
    """A rule's notification the alert policy held back (``notify.routing.policy``).

    Released when the hold ends (``release_at``, or when a switch or outage ends) if
    what the event says is still true, else dropped; either way ``outcome`` says why.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="held_notifications")
    rule = models.ForeignKey(
        NotificationRule, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    evaluation = models.ForeignKey(
        RuleEvaluation, null=True, on_delete=models.SET_NULL, related_name="holds"
    )
    reason = models.CharField(max_length=20, choices=HoldReason.choices)
    # The parameters of the reason's words (``notify.reasons``: the reason is the code);
    # ``detail`` holds the words of holds written before codes existed.
    params = models.JSONField(default=dict, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    release_at = models.DateTimeField(null=True, blank=True)
    # Public ids of what the event is about, to find holds when a switch flips.
    customer_ref = models.CharField(max_length=64, blank=True)
    device_ref = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=HoldStatus.choices, default=HoldStatus.HELD)
    # Why it was sent or dropped (a ``notify.reasons`` code); ``outcome`` holds the
    # words of holds decided before codes existed.
    outcome_code = models.CharField(max_length=40, blank=True)
    outcome = models.CharField(max_length=300, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("held notification")
        ordering = ["id"]
        indexes = [
            # The release loop: held rows whose time has come.
            models.Index(
                fields=["release_at"], condition=Q(status="held"), name="held_release_due"
            ),
            # A switch or window ending: the held rows of one customer.
            models.Index(
                fields=["organization", "customer_ref"],
                condition=Q(status="held"),
                name="held_customer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.reason} ({self.status})"

    @property
    def detail_text(self) -> str:
        """Why it is held, in the active language."""
        if self.detail and not self.params:
            return self.detail
        return reasons.describe(self.reason, self.params)

    @property
    def outcome_text(self) -> str:
        """What became of it when the hold ended, in the active language."""
        if not self.outcome_code:
            return self.outcome
        if self.outcome_code == reasons.RULE_GONE:
            return reasons.describe(reasons.RULE_GONE)
        wrapper = (
            reasons.HOLD_RELEASED if self.status == HoldStatus.RELEASED else reasons.HOLD_DROPPED
        )
        return reasons.describe(wrapper, {"why": reasons.reason(self.outcome_code)})
