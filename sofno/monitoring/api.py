"""Devices, check-ins, incidents, maintenance and commands under /api/v1."""

from uuid import UUID

from django.http import HttpRequest, JsonResponse
from ninja import Query, Router, Status
from ninja.pagination import paginate

from sofno.core.access import get_scoped_or_404
from sofno.core.api import ERRORS, ErrorOut, actor, error
from sofno.core.models import hash_secret
from sofno.core.net import client_ip
from sofno.core.pagination import Pages
from sofno.core.scoping import customer_access
from sofno.directory.selectors import customers_for
from sofno.monitoring import actions, checkin, commands, onboarding, signing
from sofno.monitoring.models import (
    Command,
    CommandTemplate,
    Device,
    Incident,
    MaintenanceWindow,
    PosSoftware,
)
from sofno.monitoring.schemas import (
    CommandIn,
    CommandOut,
    CommandResultIn,
    CustomerMonitoringIn,
    CustomerMonitoringOut,
    DefaultsIn,
    DefaultsOut,
    DeviceBulkIn,
    DeviceBulkOut,
    DeviceCreated,
    DeviceFilter,
    DeviceIn,
    DeviceOut,
    DevicePatch,
    EnrollIn,
    EnrollOut,
    IncidentDetail,
    IncidentFilter,
    IncidentOut,
    KeyOut,
    MaintenanceIn,
    MaintenanceOut,
    NoteIn,
    OfflinePeriodOut,
    PosSoftwareIn,
    PosSoftwareOut,
    TemplateIn,
    TemplateOut,
)
from sofno.monitoring.selectors import devices_for, incidents_for

router = Router(tags=["monitoring"])


def _device_key(request: HttpRequest) -> str:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "device" else ""


def _client_ip(request: HttpRequest) -> str | None:
    return client_ip(request)


def answer(result: checkin.Answer) -> JsonResponse:
    response = JsonResponse(result.body, status=result.status)
    if result.status == 429:
        response["Retry-After"] = "60"
    return response


# --- machine endpoints (device key or enrollment token, not an API key) -------------


@router.post("/checkin", auth=None, response={200: dict, **ERRORS, 413: ErrorOut, 429: ErrorOut})
def checkin_view(request: HttpRequest):
    """Check in with ``Authorization: Device <key>`` and an optional JSON body of facts.

    Served by the lean route in ``sofno.monitoring.fastpath`` under ``sofno serve``;
    this Django view answers the same way when the app runs without it.
    """
    key = _device_key(request)
    if checkin.too_large(request):
        return answer(checkin.TOO_LARGE)
    if not key:
        return answer(checkin.UNKNOWN)
    if not checkin.django_limiter.allow(hash_secret(key)):
        return answer(checkin.RATE_LIMITED)
    try:
        facts = checkin.parse_facts(request.body)
    except checkin.BadCheckin as exc:
        return JsonResponse(exc.body(), status=422)
    return answer(checkin.handle(key, _client_ip(request), facts))


@router.post("/enroll", auth=None, response={201: EnrollOut, **ERRORS})
def enroll(request: HttpRequest, payload: EnrollIn):
    """An agent registers with its customer's enrollment token and gets its key."""
    try:
        device, key = actions.enroll(
            token=payload.token,
            name=payload.name,
            os=payload.os,
            facts=checkin.clean_facts(payload.facts),
        )
    except actions.EnrollmentRefused as exc:
        raise error(
            "refused" if exc.status == 403 else "unauthorized", str(exc), exc.status
        ) from None
    except checkin.BadCheckin as exc:
        raise error("validation_error", exc.message, 422, exc.body()["errors"]) from None
    out = {
        "device": device.public_id,
        "key": key,
        "public_key": signing.public_key_b64(),
        "checkin_interval": device.effective_interval,
    }
    return Status(201, out)


@router.post("/agent/commands/{command_id}/result", auth=None, response={200: CommandOut, **ERRORS})
def command_result(request: HttpRequest, command_id: UUID, payload: CommandResultIn):
    """The agent reports a command's exit code and output (``Authorization: Device``)."""
    key = _device_key(request)
    device = Device.objects.filter(key_hash=hash_secret(key)).first() if key else None
    if device is None:
        raise error("unauthorized", "Unknown device key.", 401)
    return commands.record_result(
        device=device,
        command_id=str(command_id),
        status=payload.status,
        exit_code=payload.exit_code,
        output=payload.output,
    )


# --- devices -----------------------------------------------------------------------


@router.get("/devices", response=list[DeviceOut])
@paginate(Pages)
@customer_access
def list_devices(request: HttpRequest, filters: Query[DeviceFilter]):
    """The organization's devices, filtered and paginated."""
    return filters.filter(devices_for(actor(request)))


@router.post("/devices", response={201: DeviceCreated, **ERRORS})
def create_device(request: HttpRequest, payload: DeviceIn):
    """Create a device; the answer carries its key, shown this once."""
    who = actor(request)
    who.require_write()
    fields = payload.dict()
    customer = _customer(who, fields.pop("customer"))
    device, key = actions.create_device(acting_user=who, customer=customer, fields=fields)
    device.key = key
    return Status(201, device)


@router.post("/devices/bulk", response={201: DeviceBulkOut, **ERRORS})
def create_devices_in_bulk(request: HttpRequest, payload: DeviceBulkIn):
    """Create up to 1,000 devices at once, all or nothing; each answer carries its key,
    shown this once. A refusal lists every broken field as ``devices.<index>.<field>``."""
    who = actor(request)
    items = [item.dict() for item in payload.devices]
    try:
        created = onboarding.bulk_create_devices(acting_user=who, items=items)
    except onboarding.BulkRefused as exc:
        errors = [e.as_dict() for e in exc.errors]
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        raise error("validation_error", summary, 422, errors) from None
    for device, key in created:
        device.key = key
    return Status(201, {"devices": [device for device, _ in created]})


def _customer(who, customer_id):
    found = customers_for(who).filter(public_id=customer_id).first()
    if found is None:
        raise error(
            "validation_error",
            "customer: unknown customer",
            422,
            [{"field": "customer", "rule": "unknown", "message": "unknown customer"}],
        )
    return found


@router.get("/devices/{device_id}", response={200: DeviceOut, **ERRORS})
@customer_access
def get_device(request: HttpRequest, device_id: UUID):
    who = actor(request)
    return get_scoped_or_404(devices_for(who), who, public_id=device_id)


@router.patch("/devices/{device_id}", response={200: DeviceOut, **ERRORS})
def update_device(request: HttpRequest, device_id: UUID, payload: DevicePatch):
    who = actor(request)
    device = get_scoped_or_404(devices_for(who), who, public_id=device_id)
    fields = payload.dict(exclude_unset=True)
    if fields.get("customer"):
        fields["customer"] = _customer(who, fields["customer"])
    if "installed_by" in fields:
        fields["installed_by"] = actions.installer_named(who, fields["installed_by"])
    return actions.update_device(acting_user=who, device=device, fields=fields)


@router.delete("/devices/{device_id}", response={204: None, **ERRORS})
def delete_device(request: HttpRequest, device_id: UUID):
    who = actor(request)
    device = get_scoped_or_404(devices_for(who), who, public_id=device_id)
    actions.delete_device(acting_user=who, device=device)
    return Status(204, None)


@router.post("/devices/{device_id}/rotate-key", response={200: KeyOut, **ERRORS})
def rotate_key(request: HttpRequest, device_id: UUID):
    who = actor(request)
    device = get_scoped_or_404(devices_for(who), who, public_id=device_id)
    return {"key": actions.rotate_device_key(acting_user=who, device=device)}


@router.get(
    "/devices/{device_id}/offline-periods", response={200: list[OfflinePeriodOut], **ERRORS}
)
@customer_access
def offline_periods(request: HttpRequest, device_id: UUID):
    """The device's failure history, newest first (last 200)."""
    who = actor(request)
    device = get_scoped_or_404(devices_for(who), who, public_id=device_id)
    return list(device.offline_periods.all()[:200])


# --- incidents ---------------------------------------------------------------------


@router.get("/incidents", response=list[IncidentOut])
@paginate(Pages)
@customer_access
def list_incidents(request: HttpRequest, filters: Query[IncidentFilter]):
    return filters.filter(incidents_for(actor(request)))


@router.get("/incidents/{incident_id}", response={200: IncidentDetail, **ERRORS})
@customer_access
def get_incident(request: HttpRequest, incident_id: UUID):
    who = actor(request)
    return get_scoped_or_404(incidents_for(who), who, public_id=incident_id)


@router.post("/incidents/{incident_id}/acknowledge", response={200: IncidentDetail, **ERRORS})
def acknowledge(request: HttpRequest, incident_id: UUID, payload: NoteIn | None = None):
    who = actor(request)
    incident = get_scoped_or_404(incidents_for(who), who, public_id=incident_id)
    note = payload.note if payload else ""
    return actions.acknowledge_incident(acting_user=who, incident=incident, note=note)


@router.post("/incidents/{incident_id}/resolve", response={200: IncidentDetail, **ERRORS})
def resolve(request: HttpRequest, incident_id: UUID, payload: NoteIn | None = None):
    who = actor(request)
    incident = get_scoped_or_404(incidents_for(who), who, public_id=incident_id)
    note = payload.note if payload else ""
    return actions.resolve_incident(acting_user=who, incident=incident, note=note)


# --- maintenance -------------------------------------------------------------------


@router.get("/maintenance", response=list[MaintenanceOut])
@paginate(Pages)
def list_maintenance(request: HttpRequest):
    who = actor(request)
    return MaintenanceWindow.objects.filter(organization=who.organization).select_related(
        "device", "customer"
    )


@router.post("/maintenance", response={201: MaintenanceOut, **ERRORS})
def create_maintenance(request: HttpRequest, payload: MaintenanceIn):
    """A maintenance window for a device or a customer; immediate without ``starts_at``."""
    who = actor(request)
    who.require_write()
    device = customer = None
    if payload.device:
        device = devices_for(who).filter(public_id=payload.device).first()
        if device is None:
            raise error(
                "validation_error",
                "device: unknown device",
                422,
                [{"field": "device", "rule": "unknown", "message": "unknown device"}],
            )
    else:
        customer = _customer(who, payload.customer)
    window = actions.create_maintenance(
        acting_user=who,
        device=device,
        customer=customer,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        reason=payload.reason,
    )
    return Status(201, window)


@router.post("/maintenance/{window_id}/end", response={200: MaintenanceOut, **ERRORS})
def end_maintenance(request: HttpRequest, window_id: UUID):
    """End a window now; alerts it held back for still-offline devices go out."""
    who = actor(request)
    window = get_scoped_or_404(MaintenanceWindow.objects.all(), who, public_id=window_id)
    return actions.end_maintenance(acting_user=who, window=window)


# --- settings ----------------------------------------------------------------------


@router.get("/monitoring/defaults", response={200: DefaultsOut, **ERRORS})
def get_defaults(request: HttpRequest):
    return actions.defaults_for(actor(request).organization)


@router.put("/monitoring/defaults", response={200: DefaultsOut, **ERRORS})
def put_defaults(request: HttpRequest, payload: DefaultsIn):
    """The organization's check-in interval, grace and flap window (admins)."""
    return actions.set_defaults(acting_user=actor(request), fields=payload.dict())


@router.put("/customers/{customer_id}/monitoring", response={200: CustomerMonitoringOut, **ERRORS})
def put_customer_monitoring(request: HttpRequest, customer_id: UUID, payload: CustomerMonitoringIn):
    """Override interval and grace for one customer's devices (empty: inherit)."""
    who = actor(request)
    customer = get_scoped_or_404(customers_for(who), who, public_id=customer_id)
    return actions.set_customer_monitoring(
        acting_user=who, customer=customer, fields=payload.dict()
    )


@router.post("/customers/{customer_id}/enrollment-token", response={200: KeyOut, **ERRORS})
def enrollment_token(request: HttpRequest, customer_id: UUID):
    """A new enrollment token for the customer's agents (the old one stops working)."""
    who = actor(request)
    customer = get_scoped_or_404(customers_for(who), who, public_id=customer_id)
    return {"key": actions.rotate_enrollment_token(acting_user=who, customer=customer)}


@router.post("/customers/{customer_id}/enrollment-link", response={200: KeyOut, **ERRORS})
def enrollment_link(request: HttpRequest, customer_id: UUID):
    """The signed-in staff member's own enrollment token for the customer: computers
    enrolled with it record them as their installer (their previous link stops working)."""
    who = actor(request)
    customer = get_scoped_or_404(customers_for(who), who, public_id=customer_id)
    return {"key": actions.issue_enrollment_link(acting_user=who, customer=customer)}


@router.get("/pos-software", response=list[PosSoftwareOut])
def list_pos_software(request: HttpRequest):
    """The POS software choices: built-in ones and the organization's own."""
    organization = actor(request).organization
    own = set(PosSoftware.objects.filter(organization=organization).values_list("slug", flat=True))
    return [
        {"slug": slug, "name": name, "builtin": slug not in own}
        for slug, name in actions.pos_choices(organization)
        if slug
    ]


@router.post("/pos-software", response={201: PosSoftwareOut, **ERRORS})
def add_pos_software(request: HttpRequest, payload: PosSoftwareIn):
    """Add a POS software to the organization's choice list."""
    entry = actions.add_pos_software(acting_user=actor(request), **payload.dict())
    return Status(201, {"slug": entry.slug, "name": entry.name})


# --- commands ----------------------------------------------------------------------


@router.get("/command-templates", response=list[TemplateOut])
def list_templates(request: HttpRequest):
    return list(CommandTemplate.objects.filter(organization=actor(request).organization))


@router.post("/command-templates", response={201: TemplateOut, **ERRORS})
def create_template(request: HttpRequest, payload: TemplateIn):
    """Add an allowlisted command to the organization's catalog (admins)."""
    return Status(201, commands.create_template(acting_user=actor(request), fields=payload.dict()))


@router.get("/devices/{device_id}/commands", response={200: list[CommandOut], **ERRORS})
def list_commands(request: HttpRequest, device_id: UUID):
    who = actor(request)
    device = get_scoped_or_404(devices_for(who), who, public_id=device_id)
    return list(Command.objects.filter(device=device).select_related("device")[:100])


@router.post("/devices/{device_id}/commands", response={201: CommandOut, **ERRORS})
def issue_command(request: HttpRequest, device_id: UUID, payload: CommandIn):
    """Queue a catalog command for the device; it is sent signed on its next check-in."""
    who = actor(request)
    who.require_write()
    device = get_scoped_or_404(devices_for(who), who, public_id=device_id)
    template = CommandTemplate.objects.filter(
        organization=who.organization, public_id=payload.template
    ).first()
    if template is None:
        raise error(
            "validation_error",
            "template: unknown command",
            422,
            [{"field": "template", "rule": "unknown", "message": "unknown command"}],
        )
    return Status(201, commands.issue_command(acting_user=who, device=device, template=template))


__all__ = ["Incident", "router"]
