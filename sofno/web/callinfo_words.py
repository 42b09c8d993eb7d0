"""The caller screen in words: :func:`sofno.oncall.callinfo.caller_info` answers in
codes (for the API: ``offline``, ``inapp``, a contact type's slug); the page shows
each as its label in the reader's language, with links to the objects' pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sofno.core.channels import Channel
from sofno.core.models import Organization
from sofno.directory.models import ContactType
from sofno.monitoring.models import DeviceStatus, IncidentStatus
from sofno.notify.models import DeliveryStatus

# What happened, for the notifications the caller's customer was sent lately.
EVENT_WORDS = {
    "device.offline": gettext_lazy("Device offline"),
    "device.online": gettext_lazy("Device back online"),
    "incident.opened": gettext_lazy("Incident opened"),
    "incident.alert": gettext_lazy("Incident alert"),
    "incident.acknowledged": gettext_lazy("Incident acknowledged"),
    "incident.resolved": gettext_lazy("Incident resolved"),
    "site.down": gettext_lazy("Site down"),
    "site.up": gettext_lazy("Site back up"),
    "ticket.created": gettext_lazy("Ticket opened"),
    "ticket.status_changed": gettext_lazy("Ticket status changed"),
    "ticket.assigned": gettext_lazy("Ticket assigned"),
    "ticket.commented": gettext_lazy("Ticket comment"),
    "maintenance.created": gettext_lazy("Maintenance planned"),
    "maintenance.ended": gettext_lazy("Maintenance ended"),
}
# The sections other apps add to the caller answer, by their registered name.
SECTION_TITLES = {"recent_notifications": gettext_lazy("Recent notifications")}


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _notification(item: dict) -> tuple[str, dt.datetime | None]:
    at = parse_datetime(item.get("at") or "")
    parts = [
        str(EVENT_WORDS.get(item.get("event", ""), item.get("event", ""))),
        _label(Channel, item.get("channel", "")),
        item.get("to") or "",
        _label(DeliveryStatus, item.get("status", "")),
    ]
    text = " · ".join(part for part in parts if part)
    return text, at


def readable(info: dict[str, Any], organization: Organization) -> dict[str, Any]:
    """A copy of the caller answer ``info`` with labels beside each code.

    - devices and incidents: ``status_label``, ``url``; contacts: ``type_label``;
    - ``sections``: ``[(title, [(text, moment or None), ...])]`` from ``extra``,
      never a raw dict;
    - ``external.error`` is replaced by a sentence (the detail goes to the log).
    """
    types = dict(ContactType.objects.filter(organization=organization).values_list("slug", "name"))
    answer = dict(info)
    answer["contacts"] = [
        {**c, "type_label": types.get(c["contact_type"], c["contact_type"])}
        for c in info.get("contacts", [])
    ]
    answer["devices"] = [
        {
            **d,
            "status_label": _label(DeviceStatus, d["status"]),
            "url": reverse("web:device-detail", args=[d["id"]]),
        }
        for d in info.get("devices", [])
    ]
    answer["incidents"] = [
        {
            **i,
            "status_label": _label(IncidentStatus, i["status"]),
            "url": reverse("web:incident-detail", args=[i["id"]]),
        }
        for i in info.get("incidents", [])
    ]
    answer["tickets"] = [
        {**t, "url": reverse("web:ticket-detail", args=[t["id"]])} for t in info.get("tickets", [])
    ]
    answer["customers"] = [
        {**c, "url": reverse("web:customer-detail", args=[c["id"]])}
        for c in info.get("customers", [])
    ]
    sections = []
    for name, items in (info.get("extra") or {}).items():
        if not items:
            continue
        if name == "recent_notifications":
            lines = [_notification(item) for item in items]
        else:  # a section this page does not know yet: its values, never its keys
            lines = [
                (
                    " · ".join(str(v) for v in item.values())
                    if isinstance(item, dict)
                    else str(item),
                    None,
                )
                for item in items
            ]
        sections.append((str(SECTION_TITLES.get(name, name.replace("_", " ").capitalize())), lines))
    answer["sections"] = sections
    external = info.get("external")
    if external and not external.get("ok"):
        answer["external"] = {"ok": False, "error": _("The company's lookup did not answer.")}
    return answer
