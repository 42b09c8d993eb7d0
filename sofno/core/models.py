"""Tenants, memberships with roles, API keys and the audit log."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone as django_tz
from django.utils.translation import gettext_lazy as _

from sofno.core.modeling import CreatedAt, OrganizationOwned
from sofno.core.validators import validate_timezone_field

API_KEY_PREFIX = "sk_"


class Organization(CreatedAt):
    """An IT-support company: the tenant every other row belongs to."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    timezone = models.CharField(
        _("timezone"), max_length=64, default="UTC", validators=[validate_timezone_field]
    )

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    AGENT = "agent", _("Agent / technician")
    VIEWER = "viewer", _("Viewer")
    CUSTOMER = "customer", _("Customer user")


# Roles that may change the organization's records; the rest only read.
WRITE_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.AGENT})
ADMIN_ROLES = frozenset({Role.OWNER, Role.ADMIN})


class Membership(OrganizationOwned, CreatedAt):
    """A user's place in one organization. A customer user sees one customer only
    (the link lives in ``directory.CustomerUser``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AGENT)

    class Meta:
        verbose_name = _("membership")
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        from sofno.core.usernames import sign_in_name

        return f"{sign_in_name(self.user)} @ {self.organization} ({self.role})"


def hash_secret(secret: str) -> str:
    """SHA-256 of a high-entropy secret; enough because keys are never guessable."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKey(OrganizationOwned, CreatedAt):
    """An organization's API key. Only the hash is kept; the key is shown once."""

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    read_only = models.BooleanField(_("read only"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API key")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, organization: Organization, name: str, **fields: object) -> tuple[ApiKey, str]:
        """Create a key and return it with its plain text, which is never stored."""
        plain = API_KEY_PREFIX + secrets.token_urlsafe(32)
        key = cls.objects.create(
            organization=organization,
            name=name,
            prefix=plain[:10],
            key_hash=hash_secret(plain),
            **fields,
        )
        return key, plain

    @classmethod
    def find(cls, plain: str) -> ApiKey | None:
        """The live key matching ``plain``, if any."""
        if not plain.startswith(API_KEY_PREFIX):
            return None
        return (
            cls.objects.select_related("organization")
            .filter(key_hash=hash_secret(plain), revoked_at__isnull=True)
            .first()
        )


class AuditEntry(models.Model):
    """Who did what to which record, kept for every change a person or key makes."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="audit_entries"
    )
    at = models.DateTimeField(default=django_tz.now, db_index=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            # The audit page lists one organization's entries, newest first.
            models.Index(fields=["organization", "-at"], name="audit_org_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type} {self.object_id}"
