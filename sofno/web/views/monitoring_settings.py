"""Monitoring settings pages: the organization's check-in defaults, POS software
and command catalog; per customer, the timing overrides and maintenance windows."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from sofno.core.access import Actor, get_scoped_or_404
from sofno.core.models import Role
from sofno.directory.models import Customer
from sofno.directory.selectors import customers_for
from sofno.monitoring import actions, commands
from sofno.monitoring.models import (
    BUILTIN_POS,
    CommandKind,
    CommandTemplate,
    CustomerMonitoring,
    MaintenanceWindow,
    PosSoftware,
)
from sofno.web.access import require_actor, require_writer
from sofno.web.forms import BootstrapMixin, act

MAX_SECONDS = 7 * 24 * 3600


class DefaultsForm(BootstrapMixin, forms.Form):
    checkin_interval = forms.IntegerField(
        label=gettext_lazy("Check-in interval (s)"), min_value=10, max_value=MAX_SECONDS
    )
    grace = forms.IntegerField(
        label=gettext_lazy("Grace period (s)"), min_value=0, max_value=MAX_SECONDS
    )
    flap_window = forms.IntegerField(
        label=gettext_lazy("Flap window (s)"), min_value=0, max_value=MAX_SECONDS
    )
    site_window = forms.IntegerField(
        label=gettext_lazy("Site window (s)"),
        min_value=0,
        max_value=24 * 3600,
        help_text=gettext_lazy(
            "Several computers of one customer going offline within this time are one "
            "site incident."
        ),
    )


class CustomerTimingForm(BootstrapMixin, forms.Form):
    checkin_interval = forms.IntegerField(
        label=gettext_lazy("Check-in interval (s)"),
        required=False,
        min_value=10,
        max_value=MAX_SECONDS,
        help_text=gettext_lazy("Empty: the organization's default."),
    )
    grace = forms.IntegerField(
        label=gettext_lazy("Grace period (s)"),
        required=False,
        min_value=0,
        max_value=MAX_SECONDS,
        help_text=gettext_lazy("Empty: the organization's default."),
    )
    site_window = forms.IntegerField(
        label=gettext_lazy("Site window (s)"),
        required=False,
        min_value=0,
        max_value=24 * 3600,
        help_text=gettext_lazy("Empty: the organization's default."),
    )


class PosForm(BootstrapMixin, forms.Form):
    slug = forms.SlugField(label=gettext_lazy("Short name (slug)"), max_length=40)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)


class TemplateForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=CommandKind.choices)
    argument = forms.CharField(
        label=gettext_lazy("Argument"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Service, log or script name, as the agent's allowlist knows it."),
    )
    timeout = forms.IntegerField(
        label=gettext_lazy("Timeout (s)"), min_value=1, max_value=3600, initial=60
    )
    allowed_roles = forms.MultipleChoiceField(
        label=gettext_lazy("Also allowed for"),
        choices=[(Role.AGENT.value, Role.AGENT.label)],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Owners and admins always may."),
    )


class WindowForm(BootstrapMixin, forms.Form):
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Starts"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=gettext_lazy("Empty: now."),
    )
    minutes = forms.IntegerField(
        label=gettext_lazy("For (minutes)"), min_value=1, max_value=30 * 24 * 60, initial=60
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300)


def _admin(request: HttpRequest) -> Actor:
    """The actor when it administers the organization; 403 otherwise."""
    actor = require_writer(request)
    if not actor.is_admin:
        raise PermissionDenied(_("Only an owner or admin may do this."))
    return actor


def _settings_page(request: HttpRequest, actor: Actor, **forms_given) -> HttpResponse:
    found = actions.defaults_for(actor.organization)
    context = {
        "defaults_form": forms_given.get("defaults_form")
        or DefaultsForm(
            initial={
                "checkin_interval": found.checkin_interval,
                "grace": found.grace,
                "flap_window": found.flap_window,
                "site_window": found.site_window,
            }
        ),
        "pos_form": forms_given.get("pos_form") or PosForm(),
        "template_form": forms_given.get("template_form") or TemplateForm(),
        "builtin_pos": BUILTIN_POS,
        "own_pos": PosSoftware.objects.filter(organization=actor.organization),
        "templates": CommandTemplate.objects.filter(organization=actor.organization),
        "overrides": CustomerMonitoring.objects.filter(customer__organization=actor.organization)
        .exclude(checkin_interval__isnull=True, grace__isnull=True)
        .select_related("customer"),
        "customers": customers_for(actor),
    }
    status = 422 if any(f.errors for f in forms_given.values()) else 200
    return render(request, "web/devices/settings.html", context, status=status)


@login_required
@require_GET
def monitoring_settings(request: HttpRequest) -> HttpResponse:
    """Defaults, POS software and command catalog (everyone reads; admins change)."""
    actor = require_actor(request)
    if actor.is_customer_user:
        raise PermissionDenied(_("Customer users may not see this."))
    return _settings_page(request, actor)


@login_required
@require_POST
def defaults_save(request: HttpRequest) -> HttpResponse:
    actor = _admin(request)
    form = DefaultsForm(request.POST)
    if act(
        form, lambda: actions.set_defaults(acting_user=actor, fields=dict(form.cleaned_data))
    ).ok:
        messages.success(request, _("Monitoring defaults saved."))
        return redirect("web:monitoring-settings")
    return _settings_page(request, actor, defaults_form=form)


@login_required
@require_POST
def pos_add(request: HttpRequest) -> HttpResponse:
    actor = _admin(request)
    form = PosForm(request.POST)
    if act(form, lambda: actions.add_pos_software(acting_user=actor, **form.cleaned_data)).ok:
        messages.success(request, _("POS software added."))
        return redirect("web:monitoring-settings")
    return _settings_page(request, actor, pos_form=form)


@login_required
@require_POST
def pos_remove(request: HttpRequest, slug: str) -> HttpResponse:
    actor = _admin(request)
    entry = get_object_or_404(PosSoftware, organization=actor.organization, slug=slug)
    try:
        actions.remove_pos_software(acting_user=actor, entry=entry)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("POS software removed."))
    return redirect("web:monitoring-settings")


@login_required
@require_POST
def template_add(request: HttpRequest) -> HttpResponse:
    actor = _admin(request)
    form = TemplateForm(request.POST)

    def create():
        return commands.create_template(acting_user=actor, fields=dict(form.cleaned_data))

    if act(form, create).ok:
        messages.success(request, _("Command added to the catalog."))
        return redirect("web:monitoring-settings")
    return _settings_page(request, actor, template_form=form)


@login_required
@require_POST
def template_remove(request: HttpRequest, public_id) -> HttpResponse:
    actor = _admin(request)
    template = get_scoped_or_404(CommandTemplate.objects.all(), actor, public_id=public_id)
    commands.remove_template(acting_user=actor, template=template)
    messages.success(request, _("Command removed from the catalog."))
    return redirect("web:monitoring-settings")


# --- one customer -------------------------------------------------------------------


def _customer(request: HttpRequest, actor: Actor, public_id) -> Customer:
    return get_scoped_or_404(customers_for(actor), actor, public_id=public_id)


def _customer_page(
    request: HttpRequest, actor: Actor, customer: Customer, **forms_given
) -> HttpResponse:
    found = CustomerMonitoring.objects.filter(customer=customer).first()
    now = timezone.now()
    context = {
        "customer": customer,
        "timing_form": forms_given.get("timing_form")
        or CustomerTimingForm(
            initial={
                "checkin_interval": found.checkin_interval if found else None,
                "grace": found.grace if found else None,
                "site_window": found.site_window if found else None,
            }
        ),
        "window_form": forms_given.get("window_form") or WindowForm(),
        "defaults": actions.defaults_for(actor.organization),
        "windows": MaintenanceWindow.objects.filter(customer=customer, ends_at__gt=now).order_by(
            "starts_at"
        ),
        "past_windows": MaintenanceWindow.objects.filter(
            customer=customer, ends_at__lte=now
        ).order_by("-ends_at")[:10],
        "now": now,
    }
    status = 422 if any(f.errors for f in forms_given.values()) else 200
    return render(request, "web/devices/customer.html", context, status=status)


@login_required
@require_GET
def customer_monitoring(request: HttpRequest, public_id) -> HttpResponse:
    """A customer's timing overrides and maintenance windows."""
    actor = require_actor(request)
    return _customer_page(request, actor, _customer(request, actor, public_id))


@login_required
@require_POST
def customer_timing(request: HttpRequest, public_id) -> HttpResponse:
    actor = require_writer(request)
    customer = _customer(request, actor, public_id)
    form = CustomerTimingForm(request.POST)

    def save():
        return actions.set_customer_monitoring(
            acting_user=actor, customer=customer, fields=dict(form.cleaned_data)
        )

    if act(form, save).ok:
        messages.success(request, _("Check-in timing saved."))
        return redirect("web:customer-monitoring", customer.public_id)
    return _customer_page(request, actor, customer, timing_form=form)


@login_required
@require_POST
def customer_maintenance(request: HttpRequest, public_id) -> HttpResponse:
    """Start a maintenance window for all of a customer's devices, now or later."""
    actor = require_writer(request)
    customer = _customer(request, actor, public_id)
    form = WindowForm(request.POST)

    def start():
        starts = form.cleaned_data["starts_at"] or timezone.now()
        return actions.create_maintenance(
            acting_user=actor,
            customer=customer,
            starts_at=form.cleaned_data["starts_at"],
            ends_at=starts + dt.timedelta(minutes=form.cleaned_data["minutes"]),
            reason=form.cleaned_data["reason"],
        )

    if act(form, start).ok:
        messages.success(request, _("Maintenance window saved."))
        return redirect("web:customer-monitoring", customer.public_id)
    return _customer_page(request, actor, customer, window_form=form)


patterns = [
    path("settings/", monitoring_settings, name="monitoring-settings"),
    path("settings/defaults/", defaults_save, name="monitoring-defaults"),
    path("settings/pos/", pos_add, name="pos-add"),
    path("settings/pos/<slug:slug>/remove/", pos_remove, name="pos-remove"),
    path("settings/commands/", template_add, name="template-add"),
    path("settings/commands/<uuid:public_id>/remove/", template_remove, name="template-remove"),
    path("customers/<uuid:public_id>/", customer_monitoring, name="customer-monitoring"),
    path("customers/<uuid:public_id>/timing/", customer_timing, name="customer-timing"),
    path(
        "customers/<uuid:public_id>/maintenance/",
        customer_maintenance,
        name="customer-maintenance",
    ),
]
