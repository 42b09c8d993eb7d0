"""Customers (client sites), their contacts, and staff profiles."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone as django_tz
from django.utils.translation import gettext_lazy as _

from sofno.core.modeling import CreatedAt, FieldConstraintsMixin, OrganizationOwned, Timestamped
from sofno.core.models import Organization, Role
from sofno.core.usernames import sign_in_name
from sofno.core.validators import (
    validate_country,
    validate_phone,
    validate_timezone_field,
    validate_weekly_windows,
)
from sofno.core.windows import WeeklyWindows


class ContactType(OrganizationOwned, FieldConstraintsMixin):
    """A kind of contact an organization tracks: billing, service, manager, ..."""

    CONSTRAINT_FIELDS = {"contacttype_unique_slug": ("slug", "unique")}

    slug = models.SlugField(_("slug"), max_length=40)
    name = models.CharField(_("name"), max_length=80)

    class Meta:
        verbose_name = _("contact type")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="contacttype_unique_slug")
        ]

    def __str__(self) -> str:
        return self.name


DEFAULT_CONTACT_TYPES = (
    ("service", _("Service")),
    ("billing", _("Billing")),
    ("manager", _("Manager")),
)


class Customer(OrganizationOwned, Timestamped):
    """A client site (a restaurant, a shop, an office) with computers and contacts."""

    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    region = models.CharField(_("state / region"), max_length=120, blank=True)
    country = models.CharField(
        _("country"),
        max_length=2,
        blank=True,
        validators=[validate_country],
        help_text=_("ISO 3166 code"),
    )
    timezone = models.CharField(
        _("timezone"), max_length=64, default="UTC", validators=[validate_timezone_field]
    )
    email = models.EmailField(_("email"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    active = models.BooleanField(
        _("active"), default=True, help_text=_("When off, its computers' check-ins are refused.")
    )
    alerts_enabled = models.BooleanField(
        _("alerts enabled"),
        default=True,
        help_text=_("When off, keep tracking but send no alerts."),
    )
    business_hours = models.JSONField(
        _("business hours"), default=dict, blank=True, validators=[validate_weekly_windows]
    )
    refusal_message = models.CharField(
        _("refusal message"),
        max_length=300,
        blank=True,
        default="This customer's service is suspended. Please contact your support company.",
    )
    assigned_agents = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="assigned_customers",
        verbose_name=_("assigned agents"),
    )

    # How a customer user's reads are narrowed (sofno.core.scoping.visible_to).
    customer_scope = "pk"

    class Meta:
        verbose_name = _("customer")
        ordering = ["name"]
        indexes = [
            # Customer lists are one organization's, sorted by name.
            models.Index(fields=["organization", "name"], name="customer_org_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def hours(self) -> WeeklyWindows | None:
        """Business hours in the customer's timezone, or ``None`` for "always open"."""
        if not self.business_hours or not self.business_hours.get("ranges"):
            return None
        data = {"timezone": self.timezone, **self.business_hours}
        return WeeklyWindows.model_validate(data)

    def is_open(self, at) -> bool:
        """Whether ``at`` is within business hours (always, when none are set)."""
        hours = self.hours()
        return hours is None or hours.contains(at)


class Contact(OrganizationOwned, CreatedAt, FieldConstraintsMixin):
    """A person at a customer: whom to call, mail or bill.

    - At most one primary contact per type per customer (``is_primary`` error,
      rule ``one_primary_per_type``).
    - Its customer and contact type belong to its organization.
    """

    CONSTRAINT_FIELDS = {"contact_one_primary_per_type": ("is_primary", "one_primary_per_type")}

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    contact_type = models.ForeignKey(
        ContactType,
        on_delete=models.PROTECT,
        related_name="contacts",
        verbose_name=_("contact type"),
    )
    is_primary = models.BooleanField(_("primary"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    reachable_hours = models.JSONField(
        _("reachable hours"), default=dict, blank=True, validators=[validate_weekly_windows]
    )

    # How a customer user's reads are narrowed (sofno.core.scoping.visible_to).
    customer_scope = "customer"

    class Meta:
        verbose_name = _("contact")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "contact_type"],
                condition=Q(is_primary=True),
                name="contact_one_primary_per_type",
                violation_error_message=_(
                    "This customer already has a primary contact of this type."
                ),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        same_org = {
            "customer": self.customer_id and self.customer.organization_id,
            "contact_type": self.contact_type_id and self.contact_type.organization_id,
        }
        errors = {
            name: ValidationError(_("belongs to another organization"), code="unknown")
            for name, org_id in same_org.items()
            if org_id and org_id != self.organization_id
        }
        if errors:
            raise ValidationError(errors)


class CustomerUser(FieldConstraintsMixin):
    """Limits a customer-role membership to one customer's data (exactly one: a
    second link for the same user is a ``customer`` error, rule ``one_customer``)."""

    CONSTRAINT_FIELDS = {"customeruser_unique": ("customer", "one_customer")}

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_links"
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="users")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="customeruser_unique")
        ]

    def __str__(self) -> str:
        return f"{sign_in_name(self.user)} -> {self.customer}"

    def clean(self) -> None:
        if self.customer_id and self.customer.organization_id != self.organization_id:
            raise ValidationError(
                {"customer": ValidationError(_("belongs to another organization"), code="unknown")}
            )


class Language(models.TextChoices):
    EN = "en", "English"
    ES = "es", "Español"
    IT = "it", "Italiano"
    CA = "ca", "Català"


class StaffProfile(models.Model):
    """A person's phone, timezone, language and quiet hours."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    timezone = models.CharField(
        _("timezone"), max_length=64, default="UTC", validators=[validate_timezone_field]
    )
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.EN
    )
    quiet_hours = models.JSONField(
        _("quiet hours"), default=dict, blank=True, validators=[validate_weekly_windows]
    )

    class Meta:
        verbose_name = _("staff profile")

    def __str__(self) -> str:
        return sign_in_name(self.user)

    def quiet(self) -> WeeklyWindows | None:
        """Quiet hours in the person's timezone, or ``None`` when they set none."""
        if not self.quiet_hours or not self.quiet_hours.get("ranges"):
            return None
        return WeeklyWindows.model_validate({"timezone": self.timezone, **self.quiet_hours})


class StatusPage(models.Model):
    """A customer's public status page: a private token URL, no sign-in.

    Off until staff turn it on. Only the token's hash is kept: the URL is shown when it
    is made, and making a new one kills the old URL.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="status_page")
    enabled = models.BooleanField(_("enabled"), default=False)
    token_hash = models.CharField(max_length=64, unique=True)
    hide_names = models.BooleanField(
        _("hide computer names"),
        default=False,
        help_text=_("Show “Computer 1”, “Computer 2”… instead of their names."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("status page")

    def __str__(self) -> str:
        return f"{self.customer} status page"


class Invitation(OrganizationOwned, CreatedAt):
    """An invitation by email to join the organization with a role.

    Only the token's hash is kept: the link is mailed once. It works once (``accepted_at``)
    and only until ``expires_at``; a customer-user invitation names its customer.
    """

    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AGENT)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("invitation")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} ({self.role})"

    def is_open(self) -> bool:
        """Not used yet and not expired."""
        return self.accepted_at is None and self.expires_at > django_tz.now()
