"""Changes to rules, templates, SMTP profiles and escalation policies: atomic, audited.

Every function checks what a schema cannot (references inside the organization,
known event types, template tokens) and raises a Django ``ValidationError`` naming
the field and the rule, which the API answers as 422.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from sofno.core import guard
from sofno.core.access import Actor
from sofno.core.channels import Channel
from sofno.core.modeling import apply_fields, field_error
from sofno.core.models import Membership
from sofno.core.usernames import named_q
from sofno.directory.models import Customer
from sofno.events import catalog
from sofno.monitoring.models import Device
from sofno.notify.channels.apprise.sending import validate_url
from sofno.notify.models import (
    EscalationPolicy,
    NotificationRule,
    SmtpProfile,
    Template,
)
from sofno.notify.routing.templating import Parts, check


def _one(model, actor: Actor, field: str, public_id):
    if public_id is None:
        return None
    found = model.objects.filter(organization=actor.organization, public_id=public_id).first()
    if found is None:
        raise field_error(field, f"no such {model._meta.verbose_name}", "unknown")
    return found


def _check_event_types(actor: Actor, patterns: list[str]) -> None:
    unknown = catalog.unknown_patterns(actor.organization, patterns)
    if unknown:
        raise field_error("event_types", f"unknown event types: {', '.join(unknown)}", "unknown")


def _check_recipients(actor: Actor, recipients: list[dict], field: str = "recipients") -> None:
    for index, spec in enumerate(recipients):
        kind, value = spec["kind"], spec.get("value")
        if kind in ("role", "user", "contact_type") and not value:
            raise field_error(f"{field}.{index}.value", f"{kind} needs a value", "required")
        if kind == "user":
            members = Membership.objects.filter(organization=actor.organization)
            found = (
                members.filter(public_id=value).exists()
                if _is_uuid(value)
                else members.filter(named_q(str(value), "user__username")).exists()
            )
            if not found:
                raise field_error(f"{field}.{index}.value", f"no member {value!r}", "unknown")


def _is_uuid(value: Any) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _apply_rule_fields(actor: Actor, rule: NotificationRule, data: dict[str, Any]) -> None:
    if "event_types" in data:
        _check_event_types(actor, data["event_types"])
    if "recipients" in data:
        _check_recipients(actor, data["recipients"])
    for index, url in enumerate(data.get("apprise_urls", [])):
        try:
            validate_url(url)
        except ValueError as exc:
            rule = getattr(exc, "rule", "apprise_url")  # "address": the outbound guard
            raise field_error(f"apprise_urls.{index}", str(exc), rule) from None
    for name in (
        "name", "enabled", "event_types", "conditions", "ticket_status_from",
        "ticket_status_to", "recipients", "channels", "apprise_urls", "quiet_action",
        "business_hours_only", "scope", "open_ticket_after_minutes",
    ):  # fmt: skip
        if name in data:
            setattr(rule, name, data[name])
    if "customer" in data:
        rule.customer = _one(Customer, actor, "customer", data["customer"])
    if "device" in data:
        rule.device = _one(Device, actor, "device", data["device"])
    if "escalation_policy" in data:
        rule.escalation_policy = _one(
            EscalationPolicy, actor, "escalation_policy", data["escalation_policy"]
        )
    if "fallback_user" in data:
        membership = _one(Membership, actor, "fallback_user", data["fallback_user"])
        rule.fallback_user = membership.user if membership else None
    if rule.scope == "customer" and rule.customer is None:
        raise field_error("customer", "a customer rule needs a customer", "required")
    if rule.scope == "device" and rule.device is None:
        raise field_error("device", "a device rule needs a device", "required")
    if rule.scope != "customer":
        rule.customer = None if rule.scope == "organization" else rule.customer
    if rule.scope == "organization":
        rule.device = None
    if Channel.APPRISE in (rule.channels or []) and not rule.apprise_urls:
        raise field_error("apprise_urls", "the Apprise channel needs a URL", "required")


@transaction.atomic
def create_rule(*, acting_user: Actor, data: dict[str, Any]) -> NotificationRule:
    """A new notification rule."""
    acting_user.require_admin()
    rule = NotificationRule(organization=acting_user.organization)
    _apply_rule_fields(acting_user, rule, data)
    rule.save()
    acting_user.audit("notification_rule.created", rule, name=rule.name)
    return rule


@transaction.atomic
def update_rule(*, acting_user: Actor, rule: NotificationRule, data: dict[str, Any]):
    """Change some of a rule's fields."""
    acting_user.require_admin()
    _apply_rule_fields(acting_user, rule, data)
    rule.save()
    acting_user.audit("notification_rule.updated", rule, fields=sorted(data))
    return rule


@transaction.atomic
def delete_rule(*, acting_user: Actor, rule: NotificationRule) -> None:
    acting_user.require_admin()
    acting_user.audit("notification_rule.deleted", rule, name=rule.name)
    rule.delete()


def _check_template(actor: Actor, template: Template) -> None:
    event_type = catalog.for_organization(actor.organization).get(template.event_type)
    if event_type is None:
        raise field_error("event_type", f"unknown event type {template.event_type!r}", "unknown")
    problems = check(Parts(template.subject, template.html_body, template.text_body), event_type)
    if problems:
        raise ValidationError({p.field: ValidationError(p.message, code=p.rule) for p in problems})


@transaction.atomic
def save_template(
    *, acting_user: Actor, data: dict[str, Any], template: Template | None = None
) -> Template:
    """Create or change a template; unknown tokens and sandbox escapes are refused."""
    acting_user.require_admin()
    template = template or Template(organization=acting_user.organization)
    for name, value in data.items():
        if name == "smtp_profile":
            template.smtp_profile = _one(SmtpProfile, acting_user, "smtp_profile", value)
        else:
            setattr(
                template, name, [str(v) for v in value] if name in ("to", "cc", "bcc") else value
            )
    _check_template(acting_user, template)
    duplicate = Template.objects.filter(
        organization=acting_user.organization,
        event_type=template.event_type,
        channel=template.channel,
        language=template.language,
    ).exclude(pk=template.pk)
    if duplicate.exists():
        raise field_error(
            "language", "a template for this type, channel and language exists", "unique"
        )
    created = template.pk is None
    template.save()
    acting_user.audit(
        "notification_template.created" if created else "notification_template.updated", template
    )
    return template


@transaction.atomic
def delete_template(*, acting_user: Actor, template: Template) -> None:
    acting_user.require_admin()
    acting_user.audit("notification_template.deleted", template, name=template.name)
    template.delete()


def _check_smtp_host(host: str, port: int) -> None:
    """The outbound guard at save time: a host name or address, public (or allowed)."""
    literal = guard.literal_address(host)
    if not host or any(c in host for c in " /@") or (":" in host and literal is None):
        raise field_error("host", "a host name or address, without port or scheme", "hostname")
    try:
        guard.check_host(host, port)
    except guard.UrlRefused as refused:
        raise field_error("host", refused.message, refused.rule) from None


@transaction.atomic
def save_smtp_profile(
    *, acting_user: Actor, data: dict[str, Any], profile: SmtpProfile | None = None
) -> SmtpProfile:
    """Create or change an SMTP profile; the password is stored encrypted."""
    acting_user.require_admin()
    profile = profile or SmtpProfile(organization=acting_user.organization)
    make_default = data.pop("is_default", False)
    for name, value in data.items():
        if name == "password":
            profile.set_password(value)
        else:
            setattr(profile, name, value)
    if "host" in data or "port" in data or profile.pk is None:
        _check_smtp_host(profile.host, profile.port)
    first = not SmtpProfile.objects.filter(organization=acting_user.organization).exists()
    created = profile.pk is None
    profile.save()
    if make_default or first:
        set_default_profile(acting_user=acting_user, profile=profile)
    acting_user.audit("smtp_profile.created" if created else "smtp_profile.updated", profile)
    profile.refresh_from_db()
    return profile


@transaction.atomic
def set_default_profile(*, acting_user: Actor, profile: SmtpProfile) -> SmtpProfile:
    """Make ``profile`` the organization's default (the previous one stops being it)."""
    acting_user.require_admin()
    # Unset first: the partial unique index allows one default at any moment.
    SmtpProfile.objects.filter(organization=acting_user.organization, is_default=True).exclude(
        pk=profile.pk
    ).update(is_default=False)
    SmtpProfile.objects.filter(pk=profile.pk).update(is_default=True)
    profile.is_default = True
    acting_user.audit("smtp_profile.default", profile)
    return profile


@transaction.atomic
def delete_smtp_profile(*, acting_user: Actor, profile: SmtpProfile) -> None:
    acting_user.require_admin()
    acting_user.audit("smtp_profile.deleted", profile, name=profile.name)
    profile.delete()


@transaction.atomic
def save_policy(
    *, acting_user: Actor, data: dict[str, Any], policy: EscalationPolicy | None = None
) -> EscalationPolicy:
    """Create or change an escalation policy (running escalations keep their copy)."""
    acting_user.require_admin()
    policy = policy or EscalationPolicy(organization=acting_user.organization)
    for index, step in enumerate(data.get("steps", [])):
        _check_recipients(acting_user, step["recipients"], f"steps.{index}.recipients")
    apply_fields(policy, data)
    created = policy.pk is None
    policy.save()
    acting_user.audit(
        "escalation_policy.created" if created else "escalation_policy.updated", policy
    )
    return policy


@transaction.atomic
def delete_policy(*, acting_user: Actor, policy: EscalationPolicy) -> None:
    acting_user.require_admin()
    acting_user.audit("escalation_policy.deleted", policy, name=policy.name)
    policy.delete()
