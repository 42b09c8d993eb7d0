"""Notification pages: the inbox (bell), web push subscription, and why an event
notified whom."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sofno.core import guard
from sofno.core.access import get_scoped_or_404
from sofno.core.scoping import customer_access
from sofno.events.models import Event
from sofno.notify.channels.webpush import vapid
from sofno.notify.models import (
    Delivery,
    EscalationPolicy,
    InboxItem,
    NotificationRule,
    NotifyChannel,
    PushSubscription,
    RuleEvaluation,
    Scope,
    SmtpProfile,
    Template,
)
from sofno.notify.routing.quiet import QuietAction
from sofno.notify.rules import actions as rule_actions
from sofno.web.access import require_actor

BELL_ITEMS = 5


def _items(request: HttpRequest):
    actor = require_actor(request)
    return InboxItem.objects.filter(user=request.user, organization=actor.organization)


@login_required
@require_GET
@customer_access
def inbox(request: HttpRequest) -> HttpResponse:
    """The person's notifications, newest first; unread ones stand out."""
    items = _items(request)
    page = Paginator(items, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "web/notifications/inbox.html",
        {
            "page": page,
            "unread": items.filter(read_at__isnull=True).count(),
            "vapid_public_key": vapid.public_key(),
            "show_rules": not request.actor.is_customer_user,
        },
    )


@login_required
@require_GET
@customer_access
def unread(request: HttpRequest) -> JsonResponse:
    """The bell's poll: the unread count and the newest unread items."""
    items = _items(request).filter(read_at__isnull=True)
    latest = [
        {
            "id": str(item.public_id),
            "title": item.title,
            "url": item.url,
            "created_at": item.created_at.isoformat(),
        }
        for item in items[:BELL_ITEMS]
    ]
    response = JsonResponse({"unread": items.count(), "items": latest})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
@customer_access
def open_item(request: HttpRequest, item_id) -> HttpResponse:
    """Mark one item read and go to what it is about."""
    items = _items(request)
    item = get_scoped_or_404(items, request.actor, public_id=item_id)
    items.filter(pk=item.pk, read_at__isnull=True).update(read_at=timezone.now())
    target = item.url
    if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        target = "web:notifications"
    return redirect(target)


@login_required
@require_POST
@customer_access
def mark_read(request: HttpRequest, item_id) -> HttpResponse:
    """Mark one item read and stay on the inbox."""
    items = _items(request)
    item = get_scoped_or_404(items, request.actor, public_id=item_id)
    items.filter(pk=item.pk, read_at__isnull=True).update(read_at=timezone.now())
    return redirect("web:notifications")


@login_required
@require_POST
@customer_access
def mark_all_read(request: HttpRequest) -> HttpResponse:
    """Mark every unread item read."""
    _items(request).filter(read_at__isnull=True).update(read_at=timezone.now())
    return redirect("web:notifications")


def _json_error(field: str, rule: str, message: str, status: int = 422) -> JsonResponse:
    return JsonResponse(
        {
            "code": "validation_error" if status == 422 else "conflict",
            "message": message,
            "errors": [{"field": field, "rule": rule, "message": message}],
        },
        status=status,
    )


def _held_by_someone_else(request: HttpRequest, endpoint: str, keys: dict) -> bool:
    """Whether ``endpoint`` is another person's subscription that this request may not take.

    An endpoint URL is not a secret (it travels through push services and logs), but
    the browser's ``auth`` key is: the same browser re-subscribing for whoever signs in
    next presents the same keys and may move it; anyone else may not.
    """
    import hmac

    held = PushSubscription.objects.filter(endpoint=endpoint).first()
    if held is None or held.user_id == request.user.pk:
        return False
    same_browser = hmac.compare_digest(
        str(keys.get("auth", ""))[:100].encode(), held.auth.encode()
    ) and hmac.compare_digest(str(keys.get("p256dh", ""))[:200].encode(), held.p256dh.encode())
    return not same_browser


@login_required
@require_POST
@customer_access
def push_subscribe(request: HttpRequest) -> JsonResponse:
    """Store this browser's push subscription (``PushSubscription.toJSON()``)."""
    actor = require_actor(request)
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return _json_error("body", "json", _("The body is not JSON."))
    endpoint = data.get("endpoint") if isinstance(data, dict) else None
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(endpoint, str) or not endpoint.startswith("https://"):
        return _json_error("endpoint", "https_url", _("The endpoint must be an https:// URL."))
    try:
        guard.check_url(endpoint)  # the outbound guard: no private or local push service
    except guard.UrlRefused as refused:
        message = _("The endpoint is not allowed: %(reason)s") % {"reason": refused.message}
        return _json_error("endpoint", refused.rule, message)
    if not isinstance(keys, dict) or not keys.get("p256dh") or not keys.get("auth"):
        return _json_error("keys", "required", _("keys.p256dh and keys.auth are required."))
    if _held_by_someone_else(request, endpoint[:1000], keys):
        message = _("This push endpoint belongs to another person's browser.")
        return _json_error("endpoint", "taken", message, status=409)
    PushSubscription.objects.update_or_create(
        endpoint=endpoint[:1000],
        defaults={
            "organization": actor.organization,
            "user": request.user,
            "p256dh": str(keys["p256dh"])[:200],
            "auth": str(keys["auth"])[:100],
            "user_agent": request.headers.get("User-Agent", "")[:300],
        },
    )
    return JsonResponse({"subscribed": True}, status=201)


@login_required
@require_POST
@customer_access
def push_unsubscribe(request: HttpRequest) -> JsonResponse:
    """Forget this browser's push subscription."""
    try:
        endpoint = json.loads(request.body or b"{}").get("endpoint", "")
    except (ValueError, AttributeError):
        return _json_error("body", "json", _("The body is not JSON."))
    PushSubscription.objects.filter(user=request.user, endpoint=endpoint).delete()
    return JsonResponse({"subscribed": False})


@login_required
@require_GET
def event_routing(request: HttpRequest, event_id) -> HttpResponse:
    """For one event: which rules matched and why, and each delivery with its due time."""
    actor = require_actor(request)
    if actor.is_customer_user:
        raise PermissionDenied(_("Customer users may not see this."))
    event = get_scoped_or_404(Event.objects.all(), actor, public_id=event_id)
    evaluations = RuleEvaluation.objects.filter(event=event).order_by("-matched", "id")
    deliveries = (
        Delivery.objects.filter(event=event)
        .exclude(channel="webhook")
        .select_related("message", "recipient_user")
        .order_by("next_attempt_at", "id")
    )
    return render(
        request,
        "web/notifications/event.html",
        {"event": event, "evaluations": evaluations, "deliveries": deliveries},
    )


patterns = [
    path("", inbox, name="notifications"),
    path("unread.json", unread, name="notifications-unread"),
    path("read-all", mark_all_read, name="notifications-read-all"),
    path("<uuid:item_id>/open", open_item, name="notification-open"),
    path("<uuid:item_id>/read", mark_read, name="notification-read"),
    path("push/subscribe", push_subscribe, name="notifications-push-subscribe"),
    path("push/unsubscribe", push_unsubscribe, name="notifications-push-unsubscribe"),
    path("events/<uuid:event_id>/", event_routing, name="notification-event"),
]


# --- rules -------------------------------------------------------------------------

RECIPIENT_FLAGS = (
    ("assigned_agents", _lazy("The customer's assigned agents")),
    ("on_call", _lazy("Whoever is on call now")),
    ("technicians", _lazy("The ticket's technicians")),
)


class RuleForm(forms.Form):
    """The page form of a rule; the rules themselves are checked in ``rule_actions``."""

    name = forms.CharField(label=_lazy("Name"), max_length=120)
    enabled = forms.BooleanField(label=_lazy("Enabled"), required=False, initial=True)
    event_types = forms.CharField(
        label=_lazy("Event types"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_lazy("One per line, e.g. device.offline or ticket.*"),
    )
    scope = forms.ChoiceField(label=_lazy("Scope"), choices=Scope.choices)
    customer = forms.ChoiceField(label=_lazy("Customer"), required=False)
    device = forms.ChoiceField(label=_lazy("Device"), required=False)
    ticket_status_from = forms.CharField(label=_lazy("Ticket status from"), required=False)
    ticket_status_to = forms.CharField(label=_lazy("Ticket status to"), required=False)
    conditions = forms.CharField(
        label=_lazy("Conditions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_lazy("One per line: token operator value, e.g. ticket.priority eq urgent"),
    )
    recipient_flags = forms.MultipleChoiceField(
        label=_lazy("Recipients"),
        choices=RECIPIENT_FLAGS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    roles = forms.MultipleChoiceField(
        label=_lazy("Members with a role"),
        choices=(("admin", _lazy("Admins")), ("agent", _lazy("Technicians"))),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    users = forms.MultipleChoiceField(label=_lazy("Named members"), required=False)
    contact_types = forms.MultipleChoiceField(label=_lazy("Customer contacts"), required=False)
    channels = forms.MultipleChoiceField(
        label=_lazy("Channels"),
        choices=NotifyChannel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_lazy("Staff always also get the in-app notification."),
    )
    apprise_urls = forms.CharField(
        label=_lazy("Apprise URLs"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    quiet_action = forms.ChoiceField(label=_lazy("In quiet hours"), choices=QuietAction.choices)
    business_hours_only = forms.BooleanField(
        label=_lazy("Only in the customer's business hours"), required=False
    )
    fallback_user = forms.ChoiceField(label=_lazy("Fallback person"), required=False)
    escalation_policy = forms.ChoiceField(label=_lazy("Escalation policy"), required=False)

    def __init__(self, organization, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from sofno.core.models import Membership
        from sofno.directory.models import ContactType, Customer
        from sofno.monitoring.models import Device

        none = [("", "—")]
        self.fields["customer"].choices = none + [
            (str(c.public_id), c.name) for c in Customer.objects.filter(organization=organization)
        ]
        self.fields["device"].choices = none + [
            (str(d.public_id), f"{d.name} ({d.customer.name})")
            for d in Device.objects.filter(organization=organization).select_related("customer")
        ]
        members = [
            (str(m.public_id), m.user.get_full_name() or m.user.get_username())
            for m in Membership.objects.filter(organization=organization)
            .exclude(role="customer")
            .select_related("user")
        ]
        self.fields["users"].choices = members
        self.fields["fallback_user"].choices = none + members
        self.fields["contact_types"].choices = [
            (t.slug, t.name) for t in ContactType.objects.filter(organization=organization)
        ]
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple):
                continue
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs["class"] = "form-check-input"
            elif isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select"
            else:
                widget.attrs["class"] = "form-control"
        self.fields["escalation_policy"].choices = none + [
            (str(p.public_id), p.name)
            for p in EscalationPolicy.objects.filter(organization=organization)
        ]

    def data_for_actions(self) -> dict:
        """The cleaned form as the fields ``rule_actions`` takes."""
        c = self.cleaned_data
        recipients = [{"kind": kind} for kind in c["recipient_flags"]]
        if c["roles"]:
            recipients.append({"kind": "role", "value": list(c["roles"])})
        recipients += [{"kind": "user", "value": u} for u in c["users"]]
        recipients += [{"kind": "contact_type", "value": t} for t in c["contact_types"]]
        conditions = []
        for line in _lines(c["conditions"]):
            token, _sep, rest = line.partition(" ")
            op, _sep, value = rest.strip().partition(" ")
            conditions.append({"token": token, "op": op or "exists", "value": value or None})
        return {
            "name": c["name"],
            "enabled": c["enabled"],
            "event_types": _lines(c["event_types"]),
            "scope": c["scope"],
            "customer": c["customer"] or None,
            "device": c["device"] or None,
            "ticket_status_from": c["ticket_status_from"],
            "ticket_status_to": c["ticket_status_to"],
            "conditions": conditions,
            "recipients": recipients,
            "channels": list(c["channels"]),
            "apprise_urls": _lines(c["apprise_urls"]),
            "quiet_action": c["quiet_action"],
            "business_hours_only": c["business_hours_only"],
            "fallback_user": c["fallback_user"] or None,
            "escalation_policy": c["escalation_policy"] or None,
        }


def _kept_recipients(rule: NotificationRule) -> list[dict]:
    """Recipients of kinds the page does not edit (a managed rule's turn people or
    primary contact): saving the page keeps them rather than dropping them."""
    edited = {*dict(RECIPIENT_FLAGS), "role", "user", "contact_type"}
    return [s for s in rule.recipients or [] if s.get("kind") not in edited]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _initial(rule: NotificationRule) -> dict:
    from sofno.core.models import Membership

    specs = rule.recipients or []
    users = [s["value"] for s in specs if s.get("kind") == "user"]
    fallback = (
        Membership.objects.filter(organization=rule.organization, user=rule.fallback_user)
        .values_list("public_id", flat=True)
        .first()
        if rule.fallback_user_id
        else None
    )
    roles = [r for s in specs if s.get("kind") == "role" for r in _as_list(s.get("value"))]
    return {
        "name": rule.name,
        "enabled": rule.enabled,
        "event_types": "\n".join(rule.event_types or []),
        "scope": rule.scope,
        "customer": str(rule.customer.public_id) if rule.customer_id else "",
        "device": str(rule.device.public_id) if rule.device_id else "",
        "ticket_status_from": rule.ticket_status_from,
        "ticket_status_to": rule.ticket_status_to,
        "conditions": "\n".join(
            " ".join(str(x) for x in (c.get("token"), c.get("op"), c.get("value")) if x is not None)
            for c in rule.conditions or []
        ),
        "recipient_flags": [s["kind"] for s in specs if s.get("kind") in dict(RECIPIENT_FLAGS)],
        "roles": roles,
        "users": users,
        "contact_types": [s["value"] for s in specs if s.get("kind") == "contact_type"],
        "channels": rule.channels or [],
        "apprise_urls": "\n".join(rule.apprise_urls or []),
        "quiet_action": rule.quiet_action,
        "business_hours_only": rule.business_hours_only,
        "fallback_user": str(fallback) if fallback else "",
        "escalation_policy": str(rule.escalation_policy.public_id)
        if rule.escalation_policy_id
        else "",
    }


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value] if value else []


def _require_admin(request: HttpRequest):
    actor = require_actor(request)
    if not actor.is_admin:
        raise PermissionDenied(_("Only administrators may change notification rules."))
    return actor


@login_required
@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    """The organization's rules (staff only)."""
    actor = require_actor(request)
    if actor.is_customer_user:
        raise PermissionDenied(_("Customer users may not see this."))
    rules = NotificationRule.objects.filter(organization=actor.organization).select_related(
        "customer", "device", "escalation_policy"
    )
    return render(request, "web/notifications/rules.html", {"rules": rules, "actor": actor})


@login_required
@require_http_methods(["GET", "POST"])
def rule_form(request: HttpRequest, rule_id=None) -> HttpResponse:
    """Create or edit a rule (administrators)."""
    actor = _require_admin(request)
    rule = (
        get_scoped_or_404(NotificationRule.objects.all(), actor, public_id=rule_id)
        if rule_id
        else None
    )
    if request.method == "POST":
        form = RuleForm(actor.organization, request.POST)
        if form.is_valid():
            try:
                if rule is None:
                    rule_actions.create_rule(acting_user=actor, data=form.data_for_actions())
                else:
                    data = form.data_for_actions()
                    data["recipients"] += _kept_recipients(rule)
                    rule_actions.update_rule(acting_user=actor, rule=rule, data=data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    base = field.split(".")[0]
                    target = base if base in form.fields else None
                    for message in errors:
                        form.add_error(target, f"{field}: {message}" if not target else message)
            else:
                messages.success(request, _("The rule is saved."))
                return redirect("web:notification-rules")
    else:
        form = RuleForm(actor.organization, initial=_initial(rule) if rule else None)
    return render(request, "web/notifications/rule_form.html", {"form": form, "rule": rule})


@login_required
@require_POST
def rule_delete(request: HttpRequest, rule_id) -> HttpResponse:
    actor = _require_admin(request)
    rule = get_scoped_or_404(NotificationRule.objects.all(), actor, public_id=rule_id)
    rule_actions.delete_rule(acting_user=actor, rule=rule)
    messages.success(request, _("The rule is deleted."))
    return redirect("web:notification-rules")


patterns += [
    path("rules/", rule_list, name="notification-rules"),
    path("rules/new", rule_form, name="notification-rule-new"),
    path("rules/<uuid:rule_id>/", rule_form, name="notification-rule-edit"),
    path("rules/<uuid:rule_id>/delete", rule_delete, name="notification-rule-delete"),
]


# --- templates ---------------------------------------------------------------------


class TemplateForm(forms.Form):
    """A canned message; tokens are checked by ``rule_actions.save_template``."""

    name = forms.CharField(label=_lazy("Name"), max_length=120)
    event_type = forms.ChoiceField(label=_lazy("Event type"))
    channel = forms.ChoiceField(label=_lazy("Channel"), choices=NotifyChannel.choices)
    language = forms.ChoiceField(
        label=_lazy("Language"), choices=(("en", "English"), ("es", "Español"), ("it", "Italiano"))
    )
    subject = forms.CharField(label=_lazy("Subject"), max_length=500, required=False)
    text_body = forms.CharField(
        label=_lazy("Text body"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    html_body = forms.CharField(
        label=_lazy("HTML body"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    cc = forms.CharField(label=_lazy("Cc"), required=False, help_text=_lazy("Comma-separated"))
    bcc = forms.CharField(label=_lazy("Bcc"), required=False, help_text=_lazy("Comma-separated"))
    smtp_profile = forms.ChoiceField(label=_lazy("SMTP profile"), required=False)

    def __init__(self, organization, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from sofno.events import catalog

        self.fields["event_type"].choices = sorted(
            (name, f"{name}: {t.description}")
            for name, t in catalog.for_organization(organization).items()
        )
        self.fields["smtp_profile"].choices = [("", _lazy("The default profile"))] + [
            (str(p.public_id), p.name)
            for p in SmtpProfile.objects.filter(organization=organization)
        ]
        for field in self.fields.values():
            widget = field.widget
            widget.attrs["class"] = (
                "form-select" if isinstance(widget, forms.Select) else "form-control"
            )

    def data_for_actions(self) -> dict:
        c = self.cleaned_data
        return {
            "name": c["name"],
            "event_type": c["event_type"],
            "channel": c["channel"],
            "language": c["language"],
            "subject": c["subject"],
            "text_body": c["text_body"],
            "html_body": c["html_body"],
            "cc": [a.strip() for a in c["cc"].split(",") if a.strip()],
            "bcc": [a.strip() for a in c["bcc"].split(",") if a.strip()],
            "smtp_profile": c["smtp_profile"] or None,
        }


def _template_initial(template: Template) -> dict:
    return {
        "name": template.name,
        "event_type": template.event_type,
        "channel": template.channel,
        "language": template.language,
        "subject": template.subject,
        "text_body": template.text_body,
        "html_body": template.html_body,
        "cc": ", ".join(template.cc or []),
        "bcc": ", ".join(template.bcc or []),
        "smtp_profile": str(template.smtp_profile.public_id) if template.smtp_profile_id else "",
    }


@login_required
@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    """The organization's templates (staff only)."""
    actor = require_actor(request)
    if actor.is_customer_user:
        raise PermissionDenied(_("Customer users may not see this."))
    templates = Template.objects.filter(organization=actor.organization)
    return render(
        request, "web/notifications/templates.html", {"templates": templates, "actor": actor}
    )


@login_required
@require_http_methods(["GET", "POST"])
def template_form(request: HttpRequest, template_id=None) -> HttpResponse:
    """Create or edit a template, with a live preview (administrators)."""
    actor = _require_admin(request)
    template = (
        get_scoped_or_404(Template.objects.all(), actor, public_id=template_id)
        if template_id
        else None
    )
    if request.method == "POST":
        form = TemplateForm(actor.organization, request.POST)
        if form.is_valid():
            data = form.data_for_actions()
            try:
                rule_actions.save_template(acting_user=actor, data=data, template=template)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    target = field if field in form.fields else None
                    for message in errors:
                        form.add_error(target, message if target else f"{field}: {message}")
            else:
                messages.success(request, _("The template is saved."))
                return redirect("web:notification-templates")
    else:
        initial = _template_initial(template) if template else {"event_type": "device.offline"}
        form = TemplateForm(actor.organization, initial=initial)
    return render(
        request, "web/notifications/template_form.html", {"form": form, "template": template}
    )


@login_required
@require_POST
def template_delete(request: HttpRequest, template_id) -> HttpResponse:
    actor = _require_admin(request)
    template = get_scoped_or_404(Template.objects.all(), actor, public_id=template_id)
    rule_actions.delete_template(acting_user=actor, template=template)
    messages.success(request, _("The template is deleted."))
    return redirect("web:notification-templates")


patterns += [
    path("templates/", template_list, name="notification-templates"),
    path("templates/new", template_form, name="notification-template-new"),
    path("templates/<uuid:template_id>/", template_form, name="notification-template-edit"),
    path(
        "templates/<uuid:template_id>/delete", template_delete, name="notification-template-delete"
    ),
]
