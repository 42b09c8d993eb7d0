"""Device pages: list with live status, detail, create/edit/delete, commands,
maintenance, and the map."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Value, When
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sofno.core.access import PermissionDenied as ActionDenied
from sofno.core.access import get_scoped_or_404
from sofno.core.scoping import customer_access
from sofno.directory.selectors import customers_for
from sofno.monitoring import actions, availability, commands, conf, geo
from sofno.monitoring.models import (
    Command,
    CommandTemplate,
    Device,
    DeviceStatus,
    MaintenanceWindow,
    OperatingSystem,
    place_label,
)
from sofno.monitoring.selectors import devices_for
from sofno.web.access import require_actor, require_writer
from sofno.web.forms import BootstrapMixin, add_action_errors, searchable
from sofno.web.paging import chosen_customer, page_of, sorted_by
from sofno.web.views import monitoring_settings

# The most devices the map shows (beyond, the list pages serve better).
MAP_DEVICES = 5000
# What the map's markers read of a device and its customer.
MAP_FIELDS = (
    "public_id",
    "name",
    "status",
    "latitude",
    "longitude",
    "country",
    "city",
    "local_network",
    "customer__name",
    "customer__country",
)
STATUS_ORDER = (DeviceStatus.OFFLINE, DeviceStatus.PAUSED, DeviceStatus.NEW, DeviceStatus.ONLINE)
STATUS_CLASSES = {
    DeviceStatus.ONLINE: "success",
    DeviceStatus.OFFLINE: "danger",
    DeviceStatus.NEW: "secondary",
    DeviceStatus.PAUSED: "warning",
}

# The list's sortable columns; by status, the most worrying first.
DEVICE_COLUMNS = {
    "name": ["name"],
    "customer": ["customer__name", "name"],
    "status": [
        Case(
            *(When(status=value, then=Value(rank)) for rank, value in enumerate(STATUS_ORDER)),
            default=Value(len(STATUS_ORDER)),
        ),
        "name",
    ],
    "checkin": ["last_checkin_at"],
}

# The device page's uptime figures: the last day, week and month.
UPTIME_WINDOWS = (
    (gettext_lazy("24 hours"), dt.timedelta(hours=24)),
    (gettext_lazy("7 days"), dt.timedelta(days=7)),
    (gettext_lazy("30 days"), dt.timedelta(days=30)),
)


def _percent(share: float | None) -> float | None:
    return None if share is None else share * 100


class DeviceForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    customer = forms.ModelChoiceField(
        label=gettext_lazy("Customer"), queryset=None, to_field_name="public_id"
    )
    os = forms.ChoiceField(label=gettext_lazy("Operating system"), choices=OperatingSystem.choices)
    pos_software = forms.ChoiceField(label=gettext_lazy("POS software"), required=False)
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    checkin_interval = forms.IntegerField(
        label=gettext_lazy("Check-in interval (s)"),
        required=False,
        min_value=10,
        max_value=7 * 24 * 3600,
        help_text=gettext_lazy("Empty: inherit from the customer."),
    )
    grace = forms.IntegerField(
        label=gettext_lazy("Grace period (s)"),
        required=False,
        min_value=0,
        max_value=7 * 24 * 3600,
        help_text=gettext_lazy("Empty: inherit from the customer."),
    )

    def __init__(self, *args, actor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers_for(actor).order_by("name", "pk")
        searchable(self.fields["customer"])
        self.fields["pos_software"].choices = actions.pos_choices(actor.organization)


class MaintenanceForm(BootstrapMixin, forms.Form):
    minutes = forms.IntegerField(
        label=gettext_lazy("For (minutes)"), min_value=1, max_value=30 * 24 * 60, initial=60
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300)


def _device(request: HttpRequest, public_id) -> Device:
    actor = require_actor(request)
    return get_scoped_or_404(devices_for(actor), actor, public_id=public_id)


@login_required
@require_GET
@customer_access
def device_list(request: HttpRequest) -> HttpResponse:
    actor = require_actor(request)
    devices = devices_for(actor)
    query = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    if query:
        devices = devices.filter(name__icontains=query)
    if status in DeviceStatus.values:
        devices = devices.filter(status=status)
    if customer := chosen_customer(request, actor):
        devices = devices.filter(customer=customer)
    devices, sort = sorted_by(request, devices, DEVICE_COLUMNS, default="name")
    page = page_of(request, devices)
    context = {
        "devices": page.object_list,
        "page": page,
        "q": query,
        "sort": sort,
        "for_customer": customer,
        "status": status,
        "statuses": DeviceStatus.choices,
        "classes": STATUS_CLASSES,
    }
    return render(request, "web/devices/list.html", context)


@login_required
@require_GET
@customer_access
def device_status(request: HttpRequest) -> JsonResponse:
    """The live part of the list: each device's status, polled every few seconds."""
    actor = require_actor(request)
    rows = devices_for(actor).values_list("public_id", "status", "last_checkin_at")[:2000]
    labels = dict(DeviceStatus.choices)
    return JsonResponse(
        {
            "devices": [
                {
                    "id": str(public_id),
                    "status": status,
                    "label": str(labels[status]),
                    "class": STATUS_CLASSES[status],
                    "last_checkin_at": seen.isoformat() if seen else None,
                }
                for public_id, status, seen in rows
            ]
        }
    )


@login_required
@require_GET
@customer_access
def device_detail(request: HttpRequest, public_id) -> HttpResponse:
    actor = require_actor(request)
    device = _device(request, public_id)
    templates = [
        t
        for t in CommandTemplate.objects.filter(organization=actor.organization)
        if commands.may_issue(actor, t)
    ]
    # The command catalog and the commands run are staff business.
    staff = not actor.is_customer_user
    now = timezone.now()
    # Days in the customer's time, as on their status page: the same bar, the same cells.
    zone = device.customer.timezone or actor.organization.timezone or "UTC"
    context = {
        "device": device,
        "days": availability.daily([device], tz=zone, now=now)[device.pk],
        "uptimes": [
            (label, _percent(availability.uptime([device], window=window, now=now)[device.pk]))
            for label, window in UPTIME_WINDOWS
        ],
        "classes": STATUS_CLASSES,
        "periods": device.offline_periods.all()[:50],
        "incidents": device.incidents.all()[:20],
        "commands": Command.objects.filter(device=device)[:20] if staff else [],
        "checkins": device.checkins.order_by("-at")[:20],
        "maintenance": MaintenanceWindow.objects.filter(device=device, ends_at__gt=now),
        "templates": templates if staff else [],
        "maintenance_form": MaintenanceForm(),
    }
    return render(request, "web/devices/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def device_create(request: HttpRequest) -> HttpResponse:
    actor = require_writer(request)
    form = DeviceForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        customer = fields.pop("customer")
        try:
            device, key = actions.create_device(acting_user=actor, customer=customer, fields=fields)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            # The key is shown on this answer only; it is never stored in clear.
            return render(request, "web/devices/created.html", {"device": device, "key": key})
    return render(request, "web/devices/form.html", {"form": form, "device": None})


@login_required
@require_http_methods(["GET", "POST"])
def device_edit(request: HttpRequest, public_id) -> HttpResponse:
    actor = require_writer(request)
    device = _device(request, public_id)
    initial = {
        "name": device.name,
        "customer": device.customer.public_id,
        "os": device.os,
        "pos_software": device.pos_software,
        "description": device.description,
        "active": device.active,
        "checkin_interval": device.checkin_interval,
        "grace": device.grace,
    }
    form = DeviceForm(request.POST or None, actor=actor, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_device(acting_user=actor, device=device, fields=dict(form.cleaned_data))
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, _("Device saved."))
            return redirect("web:device-detail", device.public_id)
    return render(request, "web/devices/form.html", {"form": form, "device": device})


@login_required
@require_POST
def device_delete(request: HttpRequest, public_id) -> HttpResponse:
    actor = require_writer(request)
    device = _device(request, public_id)
    actions.delete_device(acting_user=actor, device=device)
    messages.success(request, _("Device %(name)s deleted.") % {"name": device.name})
    return redirect("web:device-list")


@login_required
@require_POST
def device_command(request: HttpRequest, public_id) -> HttpResponse:
    actor = require_writer(request)
    device = _device(request, public_id)
    template = get_scoped_or_404(
        CommandTemplate.objects.all(), actor, public_id=request.POST.get("template", "")
    )
    try:
        commands.issue_command(acting_user=actor, device=device, template=template)
    except ActionDenied as exc:
        raise PermissionDenied(exc.message) from None
    messages.success(request, _("Command queued for the next check-in."))
    return redirect("web:device-detail", device.public_id)


@login_required
@require_POST
def device_maintenance(request: HttpRequest, public_id) -> HttpResponse:
    actor = require_writer(request)
    device = _device(request, public_id)
    form = MaintenanceForm(request.POST)
    if form.is_valid():
        ends = timezone.now() + dt.timedelta(minutes=form.cleaned_data["minutes"])
        actions.create_maintenance(
            acting_user=actor, device=device, ends_at=ends, reason=form.cleaned_data["reason"]
        )
        messages.success(request, _("Maintenance started."))
    else:
        messages.error(request, _("Maintenance needs a duration and a reason."))
    return redirect("web:device-detail", device.public_id)


@login_required
@require_POST
def maintenance_end(request: HttpRequest, public_id) -> HttpResponse:
    actor = require_writer(request)
    window = get_scoped_or_404(MaintenanceWindow.objects.all(), actor, public_id=public_id)
    actions.end_maintenance(acting_user=actor, window=window)
    messages.success(request, _("Maintenance ended."))
    if window.device_id:
        return redirect("web:device-detail", window.device.public_id)
    if window.customer_id:
        return redirect("web:customer-monitoring", window.customer.public_id)
    return redirect("web:device-list")


@login_required
@require_http_methods(["GET", "POST"])
def device_enroll(request: HttpRequest) -> HttpResponse:
    """A customer's enrollment token for agents (a new one retires the old one)."""
    actor = require_writer(request)
    customers = customers_for(actor)
    token = customer = None
    mine = request.POST.get("mine") == "1"
    if request.method == "POST":
        customer = get_scoped_or_404(customers, actor, public_id=request.POST.get("customer", ""))
        if mine:  # the person's own link: computers enrolled with it name them installer
            token = actions.issue_enrollment_link(acting_user=actor, customer=customer)
        else:
            token = actions.rotate_enrollment_token(acting_user=actor, customer=customer)
    context = {"customers": customers, "token": token, "customer": customer, "mine": mine}
    return render(request, "web/devices/enroll.html", context)


@login_required
@require_GET
@customer_access
def device_map(request: HttpRequest) -> HttpResponse:
    require_actor(request)
    return render(request, "web/devices/map.html", {"tile_url": conf.map_tile_url()})


@login_required
@require_GET
@customer_access
def device_map_data(request: HttpRequest) -> JsonResponse:
    """The map's markers: a device at its city's coordinates, else at the centre of its
    country or (on a local network) its customer's country, marked approximate; the
    rest are listed beside the map."""
    actor = require_actor(request)
    devices = (
        devices_for(actor)
        .select_related(None)
        .order_by("customer__name", "name")
        .values_list(*MAP_FIELDS, named=True)
    )
    labels = dict(DeviceStatus.choices)
    # One reverse() for thousands of links: the same URL with each device's id.
    marker = "00000000-0000-0000-0000-000000000000"
    detail = reverse("web:device-detail", args=[marker])
    placed, unplaced = [], []
    for device in devices[:MAP_DEVICES]:
        point, approximate = _map_point(device)
        item = {
            "name": device.name,
            "customer": device.customer__name,
            "status": device.status,
            "status_label": str(labels.get(device.status, device.status)),
            "place": place_label(device.city, device.country, device.local_network),
            "url": detail.replace(marker, str(device.public_id)),
        }
        if point is None:
            unplaced.append(item)
            continue
        lat, lon = point
        item.update(
            lat=lat,
            lon=lon,
            approximate=approximate,
            google=f"https://www.google.com/maps/search/?api=1&query={lat:.5f}%2C{lon:.5f}",
        )
        placed.append(item)
    return JsonResponse({"devices": placed, "unplaced": unplaced})


def _map_point(device: Any) -> tuple[tuple[float, float] | None, bool]:
    """Where a device (a row of ``MAP_FIELDS``) goes on the map, and whether that is
    only its country."""
    if device.latitude is not None and device.longitude is not None:
        return (device.latitude, device.longitude), False
    if device.country and not device.local_network:
        return geo.country_centre(device.country), True
    # On the customer's own network (or never seen): at the customer's country.
    if device.customer__country:
        return geo.country_centre(device.customer__country), True
    return None, False


@login_required
@require_GET
@customer_access
@cache_control(private=True, max_age=86400)
def world_outline(request: HttpRequest) -> JsonResponse:
    """Every country's outline (GeoJSON): the map's basemap without the internet."""
    require_actor(request)
    return JsonResponse(geo.world_outline())


patterns = [
    *monitoring_settings.patterns,
    path("", device_list, name="device-list"),
    path("status.json", device_status, name="device-status"),
    path("new/", device_create, name="device-create"),
    path("enroll/", device_enroll, name="device-enroll"),
    path("map/", device_map, name="device-map"),
    path("map.json", device_map_data, name="device-map-data"),
    path("map/world.json", world_outline, name="device-map-world"),
    path("maintenance/<uuid:public_id>/end/", maintenance_end, name="maintenance-end"),
    path("<uuid:public_id>/", device_detail, name="device-detail"),
    path("<uuid:public_id>/edit/", device_edit, name="device-edit"),
    path("<uuid:public_id>/delete/", device_delete, name="device-delete"),
    path("<uuid:public_id>/commands/", device_command, name="device-command"),
    path("<uuid:public_id>/maintenance/", device_maintenance, name="device-maintenance"),
]
