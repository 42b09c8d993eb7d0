"""Devices (client computers), check-ins, offline periods, incidents, maintenance
windows and remote commands."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone as django_tz
from django.utils.translation import gettext_lazy as _

from sofno.core.modeling import CreatedAt, OrganizationOwned, Timestamped
from sofno.core.models import Organization
from sofno.directory.models import Customer
from sofno.monitoring import words

DEVICE_KEY_PREFIX = "dk_"
ENROLL_TOKEN_PREFIX = "et_"

# Built-in defaults when an organization has not set its own.
DEFAULT_INTERVAL = 300
DEFAULT_GRACE = 120
DEFAULT_FLAP_WINDOW = 900
# Computers of one customer going offline within this many seconds are one site incident.
DEFAULT_SITE_WINDOW = 120


class OperatingSystem(models.TextChoices):
    WINDOWS = "windows", _("Windows")
    LINUX = "linux", _("Linux")
    MACOS = "macos", _("macOS")
    OTHER = "other", _("Other")


# POS software every organization can choose; each may add its own (PosSoftware rows).
BUILTIN_POS = (
    ("", _("None")),
    ("other", _("Other")),
)


class DeviceStatus(models.TextChoices):
    NEW = "new", _("New (never checked in)")
    ONLINE = "online", _("Online")
    OFFLINE = "offline", _("Offline")
    PAUSED = "paused", _("Paused")


class MonitoringDefaults(models.Model):
    """An organization's check-in interval and grace period (devices inherit them)."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="monitoring_defaults"
    )
    checkin_interval = models.PositiveIntegerField(_("check-in interval (s)"), default=300)
    grace = models.PositiveIntegerField(_("grace period (s)"), default=120)
    flap_window = models.PositiveIntegerField(
        _("flap window (s)"),
        default=DEFAULT_FLAP_WINDOW,
        help_text=_(
            "An offline device recovering and failing again within this time "
            "re-opens its last incident instead of opening a new one."
        ),
    )
    site_window = models.PositiveIntegerField(
        _("site window (s)"),
        default=DEFAULT_SITE_WINDOW,
        help_text=_(
            "Several computers of one customer going offline within this time are one "
            "site incident (the site is down) instead of one incident each."
        ),
    )

    class Meta:
        verbose_name = _("monitoring defaults")

    def __str__(self) -> str:
        return f"{self.organization}: {self.checkin_interval}s + {self.grace}s"


class CustomerMonitoring(models.Model):
    """Per-customer monitoring settings: overrides and the agents' enrollment token."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="monitoring")
    checkin_interval = models.PositiveIntegerField(
        _("check-in interval (s)"), null=True, blank=True
    )
    grace = models.PositiveIntegerField(_("grace period (s)"), null=True, blank=True)
    site_window = models.PositiveIntegerField(
        _("site window (s)"), null=True, blank=True, help_text=_("Empty: inherit.")
    )
    enrollment_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    enrollment_token_prefix = models.CharField(max_length=16, blank=True)

    class Meta:
        verbose_name = _("customer monitoring settings")

    def __str__(self) -> str:
        return f"{self.customer}"


class PosSoftware(models.Model):
    """A POS software an organization adds to the built-in choice list."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="pos_software"
    )
    slug = models.SlugField(_("slug"), max_length=40)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("POS software")
        verbose_name_plural = _("POS software")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="possoftware_unique_slug")
        ]

    def __str__(self) -> str:
        return self.name


class Device(OrganizationOwned, Timestamped):
    """A client computer that checks in.

    Every index here is paid for on each status flip (10,000 at once in a mass
    outage): foreign keys whose lookups a composite index already serves carry none,
    and those that are mostly empty are indexed only where set.
    """

    # OrganizationOwned's, without its own index: the composite indexes lead with it.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="devices")
    name = models.CharField(_("name"), max_length=200)
    # Who installed or enrolled the computer: a rule may notify them when it fails.
    installed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("installed by"),
        db_index=False,
    )
    os = models.CharField(
        _("operating system"),
        max_length=16,
        choices=OperatingSystem.choices,
        default=OperatingSystem.WINDOWS,
    )
    pos_software = models.CharField(_("POS software"), max_length=40, blank=True)
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(
        _("active"), default=True, help_text=_("When off, its check-ins are refused.")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=DeviceStatus.choices, default=DeviceStatus.NEW
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    last_checkin_at = models.DateTimeField(_("last check-in"), null=True, blank=True)
    last_ip = models.GenericIPAddressField(_("last IP"), null=True, blank=True)
    agent_version = models.CharField(_("agent version"), max_length=40, blank=True)
    facts = models.JSONField(_("system facts"), default=dict, blank=True)
    checkin_interval = models.PositiveIntegerField(
        _("check-in interval (s)"), null=True, blank=True, help_text=_("Empty: inherit.")
    )
    grace = models.PositiveIntegerField(
        _("grace period (s)"), null=True, blank=True, help_text=_("Empty: inherit.")
    )
    # Resolved organization -> customer -> device values, kept so the check-in path
    # computes the deadline in SQL without reading three tables.
    effective_interval = models.PositiveIntegerField(default=DEFAULT_INTERVAL, editable=False)
    effective_grace = models.PositiveIntegerField(default=DEFAULT_GRACE, editable=False)
    alert_after = models.DateTimeField(null=True, blank=True, editable=False)
    key_prefix = models.CharField(max_length=16, editable=False)
    # Unique by a constraint: a unique field would add a LIKE index nobody uses.
    key_hash = models.CharField(max_length=64, editable=False)
    country = models.CharField(_("country"), max_length=2, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    local_network = models.BooleanField(default=False)
    # Commands waiting for the next check-in; lets the hot path skip a query.
    pending_commands = models.PositiveIntegerField(default=0, editable=False)
    # Check-ins ever stored; numbers the slots of its history ring (checkin_rules).
    checkins_seen = models.PositiveBigIntegerField(default=0, editable=False)

    # How a customer user's reads are narrowed (sofno.core.scoping.visible_to).
    customer_scope = "customer"

    class Meta:
        verbose_name = _("device")
        ordering = ["name"]
        indexes = [
            # The sweeper: online devices whose deadline has passed, earliest first.
            models.Index(
                fields=["alert_after"],
                condition=Q(status="online"),
                name="device_online_alert_after",
            ),
            # Device lists: one organization's devices by name, filtered by status.
            models.Index(fields=["organization", "name"], name="device_org_name"),
            models.Index(fields=["organization", "status"], name="device_org_status"),
            # Deleting a member clears the devices they installed.
            models.Index(
                fields=["installed_by"],
                condition=Q(installed_by__isnull=False),
                name="device_installed_by",
            ),
        ]
        constraints = [models.UniqueConstraint(fields=["key_hash"], name="device_key_hash")]

    def __str__(self) -> str:
        return self.name

    # The deadline is the last check-in plus these seconds; the batched check-in SQL
    # is built from the same tuple (monitoring.checkin_rules).
    DEADLINE_FIELDS = ("effective_interval", "effective_grace")

    def deadline_from(self, at: dt.datetime) -> dt.datetime:
        """When this device is overdue if its last check-in was at ``at``."""
        return at + dt.timedelta(seconds=sum(getattr(self, f) for f in self.DEADLINE_FIELDS))

    def is_overdue(self, at: dt.datetime) -> bool:
        """Whether an online device has missed its deadline at ``at``."""
        return self.alert_after is not None and self.alert_after <= at

    @property
    def location_label(self) -> str:
        """Where the last check-in came from, for people."""
        return place_label(self.city, self.country, self.local_network)


def place_label(city: str, country: str, local_network: bool) -> str:
    """A device's place in words: "local network", or its city and country."""
    if local_network:
        return str(_("local network"))
    return ", ".join(p for p in (city, country) if p)


class CheckIn(models.Model):
    """One slot of a device's check-in history: a ring of its latest check-ins.

    Each device has at most ``SOFNO_CHECKIN_HISTORY`` rows; check-in number ``seq``
    overwrites slot ``seq % size`` (see ``monitoring.checkin_rules``), so the table
    grows with devices, never with time.
    """

    # No index of its own: the ring's unique (device, slot) index serves device lookups.
    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, related_name="checkins", db_index=False
    )
    slot = models.PositiveSmallIntegerField(default=0)
    seq = models.PositiveBigIntegerField(default=0)
    at = models.DateTimeField(default=django_tz.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    facts = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = _("check-in")
        constraints = [
            # The ring: one row per device and slot, upserted by every check-in; also
            # serves the device page's latest check-ins (at most one ring per device).
            models.UniqueConstraint(fields=["device", "slot"], name="checkin_device_slot"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id} @ {self.at:%Y-%m-%d %H:%M:%S}"


class OfflinePeriod(models.Model):
    """One stretch of time a device was offline (its failure history)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # Looked up through offline_device_started, which leads with the device.
    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, related_name="offline_periods", db_index=False
    )
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("offline period")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["device"], condition=Q(ended_at__isnull=True), name="offline_one_open"
            )
        ]
        indexes = [
            # Device page: its failure history, newest first.
            models.Index(fields=["device", "-started_at"], name="offline_device_started"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration(self) -> dt.timedelta | None:
        """How long it lasted; ``None`` while still offline."""
        return None if self.ended_at is None else self.ended_at - self.started_at


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


OPEN_STATUSES = (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED)


class IncidentKind(models.TextChoices):
    DEVICE = "device", _("One computer")
    SITE = "site", _("A whole site (several computers)")


class Incident(OrganizationOwned):
    """A device being offline, or several computers of one customer (a site), as
    something people act on.

    - a device incident has ``device``; a site incident has none, lists its computers
      as :class:`SiteMember` rows and counts them in ``devices_down``/``devices_total``;
    - ``alert_due_at`` is when the group wait ends (``incident.alert`` is emitted then,
      ``alerted_at`` records it); whether anyone hears is the notification policy's
      decision at routing time, not monitoring's;
    - a device incident absorbed by its site's incident is resolved with
      ``merged_into`` set.
    """

    # OrganizationOwned's, without its own index: served by incident_org_status. The
    # mostly empty people and merge links are indexed only where set (a mass outage
    # inserts thousands of incidents at once).
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.CASCADE, related_name="incidents"
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="incidents")
    kind = models.CharField(
        _("kind"), max_length=8, choices=IncidentKind.choices, default=IncidentKind.DEVICE
    )
    devices_down = models.PositiveIntegerField(default=1)
    devices_total = models.PositiveIntegerField(default=1)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged",
        db_index=False,
    )
    status = models.CharField(
        _("status"), max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.OPEN
    )
    title = models.CharField(_("title"), max_length=300)
    opened_at = models.DateTimeField(_("opened"), default=django_tz.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    auto_resolved = models.BooleanField(default=False)
    alert_due_at = models.DateTimeField(null=True, blank=True)
    alerted_at = models.DateTimeField(null=True, blank=True)
    suppressed_reason = models.CharField(max_length=40, blank=True)
    flaps = models.PositiveIntegerField(default=0)

    # How a customer user's reads are narrowed (sofno.core.scoping.visible_to).
    customer_scope = "customer"

    class Meta:
        verbose_name = _("incident")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["device"],
                condition=Q(status__in=["open", "acknowledged"]),
                name="incident_one_open_per_device",
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(kind="site", status__in=["open", "acknowledged"]),
                name="incident_one_open_site_per_customer",
            ),
        ]
        indexes = [
            # Incidents page: one organization's, newest first, by status.
            models.Index(
                fields=["organization", "status", "-opened_at"], name="incident_org_status"
            ),
            # The alert loop: unsent alerts that are due.
            models.Index(
                fields=["alert_due_at"],
                condition=Q(alerted_at__isnull=True, status="open"),
                name="incident_alert_due",
            ),
            *(
                models.Index(
                    fields=[link],
                    condition=Q(**{f"{link}__isnull": False}),
                    name=f"incident_{link}",
                )
                for link in ("merged_into", "acknowledged_by", "resolved_by")
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        # A device incident's customer is its device's: callers may name the device only.
        if self.customer_id is None and self.device_id is not None:
            self.customer_id = Device.objects.values_list("customer_id", flat=True).get(
                pk=self.device_id
            )
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_site(self) -> bool:
        return self.kind == IncidentKind.SITE

    @property
    def display_title(self) -> str:
        """The title in the reader's language (``title`` stays English for events):
        made from the device's and customer's names, or the site's counts."""
        if self.device_id is None:
            return words.site_title(self.customer.name, self.devices_down, self.devices_total)
        return words.device_title(self.device.name, self.customer.name)


class SiteMember(models.Model):
    """One computer of a site incident: when it went down, and back."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="members")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+")
    down_at = models.DateTimeField()
    back_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("site incident computer")
        ordering = ["down_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "device"], name="sitemember_once")
        ]

    def __str__(self) -> str:
        return f"{self.incident_id}: {self.device_id}"


class SuspectedOutage(models.Model):
    """A time when so many computers of so many customers went silent together that
    the fault is probably ours (our network, our server), not the customers'.

    While one is open the notification policy holds customer alerts; it closes when
    enough check-ins are back.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    silent = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    customers = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("suspected outage of our own")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(ended_at__isnull=True),
                name="suspectedoutage_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.started_at:%Y-%m-%d %H:%M}"


class SweeperState(models.Model):
    """When the offline sweeper last ran (one row): a long gap means the server was
    down, and the deadlines that passed meanwhile get a fresh interval."""

    last_run_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.last_run_at:%Y-%m-%d %H:%M:%S}"


class TimelineKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    REOPENED = "reopened", _("Re-opened (flapping)")
    ALERT = "alert", _("Alert sent")
    SUPPRESSED = "suppressed", _("Alert held back")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")
    RECOVERED = "recovered", _("Device back online")
    DEVICE_DOWN = "device_down", _("A computer went offline")
    DEVICE_UP = "device_up", _("A computer came back")
    MERGED = "merged", _("Joined the site's incident")


class IncidentEntry(models.Model):
    """One row of an incident's timeline."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(default=django_tz.now)
    kind = models.CharField(max_length=16, choices=TimelineKind.choices)
    # A person's note, or (rows written before ``params``) SOFNO's English sentence.
    message = models.CharField(max_length=300, blank=True)
    # SOFNO's own rows: a sentence's code and values (sofno.monitoring.words), made
    # into words in the reader's language when read.
    params = models.JSONField(default=dict, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = _("incident timeline entry")
        verbose_name_plural = _("incident timeline entries")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S} {self.kind}"

    @property
    def text(self) -> str:
        """What the row says in the active language: SOFNO's sentence made from
        ``params``, else the stored message."""
        return words.sentence(self.params) or self.message


class MaintenanceWindow(OrganizationOwned, CreatedAt):
    """A time when a device's (or all of a customer's devices') alerts are held back."""

    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.CASCADE, related_name="maintenance"
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    reason = models.CharField(_("reason"), max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("maintenance window")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(device__isnull=False, customer__isnull=True)
                    | Q(device__isnull=True, customer__isnull=False)
                ),
                name="maintenance_device_xor_customer",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="maintenance_ends_after_start"
            ),
        ]
        indexes = [
            # Alert decisions: windows still running or to come, by end time.
            models.Index(fields=["organization", "ends_at"], name="maintenance_org_ends"),
        ]

    def __str__(self) -> str:
        return self.reason

    def covers(self, at: dt.datetime) -> bool:
        """Whether ``at`` lies inside this window."""
        return self.starts_at <= at < self.ends_at


class CommandKind(models.TextChoices):
    RESTART_SERVICE = "restart_service", _("Restart a service")
    REBOOT = "reboot", _("Reboot")
    COLLECT_LOGS = "collect_logs", _("Collect logs")
    RUN_SCRIPT = "run_script", _("Run an approved script")


class CommandTemplate(OrganizationOwned, CreatedAt):
    """An entry of an organization's allowlisted command catalog."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=CommandKind.choices)
    argument = models.CharField(
        _("argument"),
        max_length=200,
        blank=True,
        help_text=_("Service name, log name or script name, as the agent's allowlist knows it."),
    )
    timeout = models.PositiveIntegerField(_("timeout (s)"), default=60)
    allowed_roles = models.JSONField(
        _("roles that may run it"),
        default=list,
        blank=True,
        help_text=_("Owners and admins always may."),
    )

    class Meta:
        verbose_name = _("command template")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="commandtemplate_name")
        ]

    def __str__(self) -> str:
        return self.name


class CommandStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the device")
    SENT = "sent", _("Sent to the device")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    TIMED_OUT = "timed_out", _("Timed out")
    REFUSED = "refused", _("Refused by the agent")
    EXPIRED = "expired", _("Expired")


FINISHED_COMMAND_STATUSES = (
    CommandStatus.SUCCEEDED,
    CommandStatus.FAILED,
    CommandStatus.TIMED_OUT,
    CommandStatus.REFUSED,
    CommandStatus.EXPIRED,
)


class Command(OrganizationOwned):
    """A signed remote command for one device, with its result."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="commands")
    template = models.ForeignKey(
        CommandTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=CommandKind.choices)
    argument = models.CharField(max_length=200, blank=True)
    timeout = models.PositiveIntegerField(default=60)
    status = models.CharField(
        max_length=16, choices=CommandStatus.choices, default=CommandStatus.PENDING
    )
    payload = models.TextField(help_text=_("The exact signed bytes (canonical JSON)."))
    signature = models.CharField(max_length=120)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_by_label = models.CharField(max_length=150, blank=True)
    issued_at = models.DateTimeField(default=django_tz.now)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    output = models.TextField(blank=True)
    output_truncated = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("command")
        ordering = ["-issued_at"]
        indexes = [
            # Check-in answers: a device's pending commands, oldest first.
            models.Index(fields=["device", "status", "issued_at"], name="command_device_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.argument}".strip()


class EnrollmentLink(CreatedAt):
    """One staff member's enrollment token for one customer: the computers enrolled
    with it record that person as their installer."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="enrollment_links"
    )
    installer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(max_length=16)

    class Meta:
        verbose_name = _("enrollment link")
        constraints = [
            # One live link per person and customer: a new one replaces the old.
            models.UniqueConstraint(
                fields=["customer", "installer"], name="enrollment_link_one_per_installer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer} / {self.installer}"
