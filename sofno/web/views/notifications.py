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
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sofno.core import guard
from sofno.core.access import get_scoped_or_404
from sofno.core.channels import Channel
from sofno.core.scoping import customer_access
from sofno.events import catalog
from sofno.events.models import Event
from sofno.notify.channels.webpush import vapid
from sofno.notify.models import (
    RULE_CHANNEL_CHOICES,
    Delivery,
    InboxItem,
    PushSubscription,
    RuleEvaluation,
    SmtpProfile,
    Template,
)
from sofno.notify.rules import actions as rule_actions
from sofno.web.access import require_actor
from sofno.web.views.notification_rules import patterns as rule_patterns
from sofno.web.views.notification_rules import require_admin

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
        .exclude(channel=Channel.WEBHOOK)
        .select_related("message__escalation", "recipient_user")
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


# --- rules (their own module: the builder and its preview) ------------------------

patterns += rule_patterns


# --- templates ---------------------------------------------------------------------


class TemplateForm(forms.Form):
    """A canned message; tokens are checked by ``rule_actions.save_template``."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    event_type = forms.ChoiceField(label=gettext_lazy("Event type"))
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), choices=RULE_CHANNEL_CHOICES)
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        choices=(("en", "English"), ("es", "Español"), ("it", "Italiano")),
    )
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=500, required=False)
    text_body = forms.CharField(
        label=gettext_lazy("Text body"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    html_body = forms.CharField(
        label=gettext_lazy("HTML body"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    cc = forms.CharField(
        label=gettext_lazy("Cc"), required=False, help_text=gettext_lazy("Comma-separated")
    )
    bcc = forms.CharField(
        label=gettext_lazy("Bcc"), required=False, help_text=gettext_lazy("Comma-separated")
    )
    smtp_profile = forms.ChoiceField(label=gettext_lazy("SMTP profile"), required=False)

    def __init__(self, organization, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The description names the type; the code stays beside it for admins.
        self.fields["event_type"].choices = sorted(
            (name, f"{t.description} ({name})" if t.description else name)
            for name, t in catalog.for_organization(organization).items()
        )
        self.fields["smtp_profile"].choices = [("", gettext_lazy("The default profile"))] + [
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
    templates = list(Template.objects.filter(organization=actor.organization))
    labels = dict(RULE_CHANNEL_CHOICES)
    for template in templates:
        template.channel_label = labels.get(template.channel, template.channel)
    context = {
        "templates": templates,
        "actor": actor,
        "event_types": catalog.for_organization(actor.organization),
    }
    return render(request, "web/notifications/templates.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def template_form(request: HttpRequest, template_id=None) -> HttpResponse:
    """Create or edit a template, with a live preview (administrators)."""
    actor = require_admin(request)
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
    actor = require_admin(request)
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
