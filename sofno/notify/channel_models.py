"""Channel records: SMTP profiles, templates, the in-app inbox, push subscriptions,
and what a person-facing delivery carries.

Imported at the end of ``sofno.notify.models``, so everything here is importable
from there too.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone as django_tz
from django.utils.translation import gettext_lazy as _

from sofno.core.modeling import CreatedAt, OrganizationOwned, Timestamped
from sofno.core.models import Organization
from sofno.notify import reasons, secrets
from sofno.notify.channels.email.smtp import SmtpSettings, TlsMode
from sofno.notify.models import Delivery

# ``sofno.notify.models`` star-imports this module: export the models only.
__all__ = [
    "DeliveryMessage",
    "InboxItem",
    "PushSubscription",
    "SmtpProfile",
    "Template",
    "TlsChoice",
]


class TlsChoice(models.TextChoices):
    NONE = TlsMode.NONE, _("None")
    STARTTLS = TlsMode.STARTTLS, _("STARTTLS")
    TLS = TlsMode.TLS, _("TLS (SMTPS)")


class SmtpProfile(OrganizationOwned, CreatedAt):
    """An outgoing mail server of an organization; exactly one may be the default."""

    name = models.CharField(_("name"), max_length=120)
    host = models.CharField(_("server"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=25)
    tls_mode = models.CharField(
        _("TLS"), max_length=16, choices=TlsChoice.choices, default=TlsChoice.NONE
    )
    username = models.CharField(_("username"), max_length=255, blank=True)
    # Fernet ciphertext (notify.secrets): the password is never stored readable.
    password_encrypted = models.TextField(blank=True, editable=False)
    from_name = models.CharField(_("from name"), max_length=120, blank=True)
    from_address = models.EmailField(_("from address"))
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        verbose_name = _("SMTP profile")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"], condition=Q(is_default=True), name="smtp_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def set_password(self, plain: str) -> None:
        self.password_encrypted = secrets.encrypt(plain)

    def smtp_settings(self) -> SmtpSettings:
        """The connection settings, password decrypted."""
        return SmtpSettings(
            host=self.host,
            port=self.port,
            tls_mode=self.tls_mode,
            username=self.username,
            password=secrets.decrypt(self.password_encrypted),
            from_name=self.from_name,
            from_address=self.from_address,
        )


class Template(OrganizationOwned, Timestamped):
    """A canned message for one event type on one channel, in one language."""

    name = models.CharField(_("name"), max_length=120)
    event_type = models.CharField(_("event type"), max_length=100)
    channel = models.CharField(_("channel"), max_length=16)
    language = models.CharField(_("language"), max_length=8, default="en")
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    html_body = models.TextField(_("HTML body"), blank=True)
    text_body = models.TextField(_("text body"), blank=True)
    from_name = models.CharField(_("from name"), max_length=120, blank=True)
    to = models.JSONField(_("to"), default=list, blank=True)
    cc = models.JSONField(_("cc"), default=list, blank=True)
    bcc = models.JSONField(_("bcc"), default=list, blank=True)
    smtp_profile = models.ForeignKey(
        SmtpProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="templates"
    )

    class Meta:
        verbose_name = _("notification template")
        ordering = ["event_type", "channel", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "event_type", "channel", "language"],
                name="template_one_per_language",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class InboxItem(OrganizationOwned):
    """One in-app notification for one person."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_items"
    )
    delivery = models.OneToOneField(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbox_item"
    )
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=django_tz.now)
    read_at = models.DateTimeField(null=True, blank=True)

    # A customer user reads their own items only (sofno.core.scoping.visible_to).
    user_scope = "user"

    class Meta:
        verbose_name = _("inbox item")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The bell: a person's unread items in one organization.
            models.Index(
                fields=["user", "organization"],
                condition=Q(read_at__isnull=True),
                name="inbox_unread",
            ),
            # The inbox page: a person's items, newest first.
            models.Index(fields=["user", "organization", "-created_at"], name="inbox_list"),
        ]

    def __str__(self) -> str:
        return self.title


class PushSubscription(CreatedAt):
    """A browser's web push subscription for one person."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("push subscription")

    def __str__(self) -> str:
        return self.endpoint[:60]


class DeliveryMessage(models.Model):
    """What a person-facing delivery says and why it goes when it goes."""

    delivery = models.OneToOneField(
        Delivery, on_delete=models.CASCADE, primary_key=True, related_name="message"
    )
    rule = models.ForeignKey(
        "notify.NotificationRule",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    escalation = models.ForeignKey(
        "notify.EscalationRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    recipient_name = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=8, default="en")
    # {"subject", "text", "html", "to", "cc", "bcc", "url", "smtp_profile", ...}
    content = models.JSONField(default=dict)
    # Why it waits (quiet hours, business hours) or went through anyway: a
    # ``notify.reasons`` code and its parameters, put into words when read. The text
    # column holds the words of messages planned before codes existed.
    deferred_code = models.CharField(max_length=40, blank=True)
    deferred_params = models.JSONField(default=dict, blank=True)
    deferred_reason = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return str(self.delivery_id)

    @property
    def deferred_text(self) -> str:
        """Why it waits or went through anyway, in the active language."""
        if self.deferred_code:
            return reasons.describe(self.deferred_code, self.deferred_params)
        return self.deferred_reason
