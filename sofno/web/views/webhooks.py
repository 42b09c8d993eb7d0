"""Webhook endpoint pages: list, create, edit, deliveries and attempts, replay, test."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sofno.core import access
from sofno.core.access import Actor, get_scoped_or_404
from sofno.events import catalog
from sofno.notify.channels.webhook import actions
from sofno.notify.models import Delivery, DeliveryStatus, OrderingMode, WebhookEndpoint
from sofno.web.access import require_actor
from sofno.web.forms import act


def require_admin(request: HttpRequest) -> Actor:
    """The actor when it administers the organization; 403 otherwise."""
    actor = require_actor(request)
    if not actor.is_admin:
        raise PermissionDenied(_("Only administrators may change webhooks."))
    return actor


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").replace(",", "\n").splitlines() if line.strip()]


class EndpointForm(forms.Form):
    """The page form; the rules themselves live in ``notify.actions``."""

    url = forms.CharField(label=_("URL"), max_length=2048, help_text=_("https:// only"))
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    event_types = forms.CharField(
        label=_("Event types"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, e.g. invoice.* or customer.created. Empty: every type."),
    )
    headers = forms.CharField(
        label=_("Custom headers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line: Name: value"),
    )
    parameters = forms.CharField(
        label=_("Extra parameters"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line: name = value; values may use tokens like {{ customer.name }}"),
    )
    ordering = forms.ChoiceField(label=_("Ordering"), choices=OrderingMode.choices)
    rate_limit = forms.IntegerField(
        label=_("Rate limit (per second)"), required=False, min_value=1, max_value=10000
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            css = "form-check-input" if name == "enabled" else "form-control"
            if name == "ordering":
                css = "form-select"
            field.widget.attrs.setdefault("class", css)

    def clean_headers(self) -> dict[str, str]:
        headers = {}
        for line in (self.cleaned_data["headers"] or "").splitlines():
            if not line.strip():
                continue
            name, sep, value = line.partition(":")
            if not sep:
                raise ValidationError(_("“%(line)s” is not Name: value"), params={"line": line})
            headers[name.strip()] = value.strip()
        return headers

    def clean_parameters(self) -> list[dict[str, str]]:
        parameters = []
        for line in (self.cleaned_data["parameters"] or "").splitlines():
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            if not sep or not name.strip():
                raise ValidationError(_("“%(line)s” is not name = value"), params={"line": line})
            parameters.append({"name": name.strip(), "value": value.strip()})
        return parameters

    def clean_event_types(self) -> list[str]:
        return _lines(self.cleaned_data["event_types"])

    @classmethod
    def initial_for(cls, endpoint: WebhookEndpoint) -> dict:
        return {
            "url": endpoint.url,
            "description": endpoint.description,
            "event_types": "\n".join(endpoint.event_types),
            "headers": "\n".join(f"{k}: {v}" for k, v in endpoint.headers.items()),
            "parameters": "\n".join(f"{p['name']} = {p['value']}" for p in endpoint.parameters),
            "ordering": endpoint.ordering,
            "rate_limit": endpoint.rate_limit,
            "enabled": endpoint.enabled,
        }


def _save(request: HttpRequest, form: EndpointForm, endpoint: WebhookEndpoint | None):
    actor = require_admin(request)
    if endpoint is None:
        return act(
            form, lambda: actions.create_endpoint(acting_user=actor, fields=form.cleaned_data)
        ).value
    return act(
        form,
        lambda: actions.update_endpoint(
            acting_user=actor, endpoint=endpoint, fields=form.cleaned_data
        ),
    ).value


@login_required
@require_GET
def webhook_list(request: HttpRequest) -> HttpResponse:
    actor = require_actor(request)
    endpoints = WebhookEndpoint.objects.filter(organization=actor.organization)
    return render(request, "web/webhooks/list.html", {"endpoints": endpoints})


@login_required
@require_http_methods(["GET", "POST"])
def webhook_new(request: HttpRequest) -> HttpResponse:
    require_admin(request)
    form = EndpointForm(request.POST or None, initial={"ordering": OrderingMode.UNORDERED})
    if request.method == "POST" and form.is_valid():
        endpoint = _save(request, form, None)
        if endpoint is not None:
            messages.success(request, _("Endpoint created. Its signing secret is shown below."))
            return redirect("web:webhook-detail", endpoint.public_id)
    return render(request, "web/webhooks/form.html", {"form": form, "endpoint": None})


@login_required
@require_http_methods(["GET", "POST"])
def webhook_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = require_actor(request)
    endpoint = get_scoped_or_404(WebhookEndpoint.objects.all(), actor, public_id=public_id)
    require_admin(request)
    form = EndpointForm(request.POST or None, initial=EndpointForm.initial_for(endpoint))
    if request.method == "POST" and form.is_valid() and _save(request, form, endpoint):
        messages.success(request, _("Endpoint saved."))
        return redirect("web:webhook-detail", endpoint.public_id)
    return render(request, "web/webhooks/form.html", {"form": form, "endpoint": endpoint})


@login_required
@require_GET
def webhook_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = require_actor(request)
    endpoint = get_scoped_or_404(WebhookEndpoint.objects.all(), actor, public_id=public_id)
    deliveries = endpoint.deliveries.select_related("event").order_by("-created_at")
    status = request.GET.get("status", "")
    if status in DeliveryStatus.values:
        deliveries = deliveries.filter(status=status)
    page = Paginator(deliveries, 50).get_page(request.GET.get("page"))
    context = {
        "endpoint": endpoint,
        "page": page,
        "status": status,
        "statuses": DeliveryStatus.choices,
        "secrets": endpoint.signing_secrets() if actor.is_admin else [],
        "event_types": catalog.for_organization(actor.organization),
    }
    return render(request, "web/webhooks/detail.html", context)


def _admin_endpoint(request: HttpRequest, public_id: str) -> tuple[Actor, WebhookEndpoint]:
    actor = require_actor(request)
    endpoint = get_scoped_or_404(WebhookEndpoint.objects.all(), actor, public_id=public_id)
    return require_admin(request), endpoint


@login_required
@require_POST
def webhook_test(request: HttpRequest, public_id: str) -> HttpResponse:
    actor, endpoint = _admin_endpoint(request, public_id)
    actions.send_test(acting_user=actor, endpoint=endpoint)
    messages.success(request, _("Test event queued."))
    return redirect("web:webhook-detail", endpoint.public_id)


@login_required
@require_POST
def webhook_rotate(request: HttpRequest, public_id: str) -> HttpResponse:
    actor, endpoint = _admin_endpoint(request, public_id)
    actions.rotate_secret(acting_user=actor, endpoint=endpoint)
    messages.success(request, _("New secret made; the previous one keeps signing for 24 hours."))
    return redirect("web:webhook-detail", endpoint.public_id)


@login_required
@require_POST
def webhook_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    actor, endpoint = _admin_endpoint(request, public_id)
    actions.delete_endpoint(acting_user=actor, endpoint=endpoint)
    messages.success(request, _("Endpoint deleted."))
    return redirect("web:webhook-list")


@login_required
@require_GET
def delivery_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = require_actor(request)
    deliveries = Delivery.objects.select_related("event", "endpoint")
    delivery = get_scoped_or_404(deliveries, actor, public_id=public_id)
    return render(
        request,
        "web/webhooks/delivery.html",
        {"delivery": delivery, "attempts": delivery.attempts.all()},
    )


@login_required
@require_POST
def delivery_replay(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = require_actor(request)
    delivery = get_scoped_or_404(Delivery.objects.all(), actor, public_id=public_id)
    actor = require_admin(request)
    try:
        actions.replay(acting_user=actor, delivery=delivery)
        messages.success(request, _("Delivery queued again."))
    except ValidationError:
        messages.warning(request, _("This delivery is being sent right now; try again shortly."))
    except access.PermissionDenied as exc:
        raise PermissionDenied(str(exc)) from None
    return redirect("web:delivery-detail", delivery.public_id)


patterns = [
    path("", webhook_list, name="webhook-list"),
    path("new/", webhook_new, name="webhook-new"),
    path("<uuid:public_id>/", webhook_detail, name="webhook-detail"),
    path("<uuid:public_id>/edit/", webhook_edit, name="webhook-edit"),
    path("<uuid:public_id>/test/", webhook_test, name="webhook-test"),
    path("<uuid:public_id>/rotate/", webhook_rotate, name="webhook-rotate"),
    path("<uuid:public_id>/delete/", webhook_delete, name="webhook-delete"),
    path("deliveries/<uuid:public_id>/", delivery_detail, name="delivery-detail"),
    path("deliveries/<uuid:public_id>/replay/", delivery_replay, name="delivery-replay"),
]
