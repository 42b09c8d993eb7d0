"""Site incidents: several computers of one customer going offline together are one
incident ("Café Central is down (4 of 4 computers offline)"), not one each.

Rules:
- computers of one customer going offline within its site window (organization
  default 2 minutes, overridable per customer) open one site incident; the device
  incidents they already had join it (``incident.merged``, resolved, escalations
  stopped);
- computers going offline while the site incident is open attach to it
  (``site.device_down``); those coming back are noted (``site.device_up``, partial
  recovery on the timeline); the incident resolves when every one is back
  (``site.up``, ``incident.resolved``);
- a lone computer going offline while the others still check in stays a device
  incident;
- the alert (``incident.alert``) goes out at once when no computer of the customer
  is left online, else after the group wait so that siblings join first.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count

from sofno.events.emit import NewEvent
from sofno.monitoring import conf
from sofno.monitoring.actions.bulk import insert_incidents, insert_rows, update_rows
from sofno.monitoring.actions.payloads import (
    ENTRY_COLUMNS,
    entry_row,
    incident_data,
    site_data,
    site_title,
)
from sofno.monitoring.models import (
    DEFAULT_SITE_WINDOW,
    OPEN_STATUSES,
    CustomerMonitoring,
    Device,
    DeviceStatus,
    Incident,
    IncidentEntry,
    IncidentKind,
    IncidentStatus,
    MonitoringDefaults,
    SiteMember,
    TimelineKind,
)
from sofno.monitoring.words import Say, names_of, say


def site_windows(customers: dict) -> dict[int, int]:
    """Each customer's site window in seconds (its own, else its organization's)."""
    org_ids = {c.organization_id for c in customers.values()}
    by_org = dict(
        MonitoringDefaults.objects.filter(organization_id__in=org_ids).values_list(
            "organization_id", "site_window"
        )
    )
    own = dict(
        CustomerMonitoring.objects.filter(
            customer_id__in=list(customers), site_window__isnull=False
        ).values_list("customer_id", "site_window")
    )
    return {
        pk: own.get(pk, by_org.get(c.organization_id, DEFAULT_SITE_WINDOW))
        for pk, c in customers.items()
    }


@dataclass
class Grouping:
    """What the sweeper needs to group one batch of flipped devices by customer."""

    now: dt.datetime
    customers: dict
    totals: dict[int, int] = field(default_factory=dict)
    online: dict[int, int] = field(default_factory=dict)
    open_sites: dict[int, Incident] = field(default_factory=dict)
    siblings: dict[int, list[tuple]] = field(default_factory=dict)
    flipped: dict[int, list] = field(default_factory=dict)
    # Each flipped device's incident (its own or its site's), for its event.
    incident_of: dict[int, Incident] = field(default_factory=dict)

    @classmethod
    def load(cls, devices: list, customers: dict, now: dt.datetime) -> Grouping:
        """Counts, open site incidents and recently silent siblings, a few queries for
        the whole batch."""
        found = cls(now=now, customers=customers)
        for device in devices:
            found.flipped.setdefault(device.customer_id, []).append(device)
        ids = list(found.flipped)
        for customer_id, status, count in (
            Device.objects.filter(customer_id__in=ids, active=True)
            .values_list("customer_id", "status")
            .annotate(n=Count("id"))
        ):
            found.totals[customer_id] = found.totals.get(customer_id, 0) + count
            if status == DeviceStatus.ONLINE:
                found.online[customer_id] = count
        for incident in Incident.objects.filter(
            customer_id__in=ids, kind=IncidentKind.SITE, status__in=OPEN_STATUSES
        ).select_related("customer"):
            found.open_sites[incident.customer_id] = incident
        windows = site_windows({pk: customers[pk] for pk in ids})
        single = [pk for pk in ids if pk not in found.open_sites and found.totals.get(pk, 0) > 1]
        if single:
            batch = {d.id for d in devices}
            oldest = now - dt.timedelta(seconds=max(windows[pk] for pk in single))
            for row in Device.objects.filter(
                customer_id__in=single,
                status=DeviceStatus.OFFLINE,
                status_changed_at__gte=oldest,
            ).values_list("id", "customer_id", "name", "status_changed_at"):
                fresh = row[3] >= now - dt.timedelta(seconds=windows[row[1]])
                if row[0] not in batch and fresh:
                    found.siblings.setdefault(row[1], []).append(row)
        return found

    def apply(self, events: dict[int, list[NewEvent]]) -> list:
        """Open or grow site incidents; returns the devices that went silent alone."""
        lone, new_sites, attach = [], [], []
        for customer_id, group in self.flipped.items():
            site = self.open_sites.get(customer_id)
            siblings = self.siblings.get(customer_id, [])
            if site is not None:
                attach.append((site, group))
            elif len(group) + len(siblings) >= 2:
                new_sites.append((customer_id, group, siblings))
            else:
                lone.extend(group)
        if new_sites:
            attach += _open_sites(self, new_sites, events)
        if attach:
            _attach(self, attach, events)
        return lone


def _open_sites(grouping: Grouping, new_sites: list, events: dict) -> list:
    """Open the new site incidents; returns ``(site, devices)`` to attach instead where
    another worker opened the customer's site incident first."""
    now = grouping.now
    adapt = connection.ops.adapt_datetimefield_value
    wait = dt.timedelta(seconds=conf.group_wait())
    made: list[tuple[Incident, list[tuple[int, str, dt.datetime]]]] = []
    for customer_id, group, siblings in new_sites:
        customer = grouping.customers[customer_id]
        members = [(s[0], s[2], s[3]) for s in siblings] + [(d.id, d.name, d.since) for d in group]
        down, total = len(members), max(grouping.totals.get(customer_id, 0), len(members))
        waiting = grouping.online.get(customer_id, 0) > 0
        incident = Incident(
            organization_id=customer.organization_id,
            customer=customer,
            kind=IncidentKind.SITE,
            devices_down=down,
            devices_total=total,
            status=IncidentStatus.OPEN,
            title=site_title(customer.name, down, total),
            opened_at=min(m[2] for m in members),
            alert_due_at=now + wait if waiting else now,
        )
        incident.alerted_at = now if incident.alert_due_at <= now else None
        made.append((incident, members, group))
    # Two workers flipping siblings at once: the second one's site incident conflicts
    # with the first's (one open site incident per customer), and its computers attach
    # to that one instead.
    rows = insert_incidents(
        [i for i, _m, _g in made], returning="id, customer_id", skip_conflicts=True
    )
    ids = dict((customer_id, pk) for pk, customer_id in rows)
    lost = {i.customer_id: g for i, _m, g in made if i.customer_id not in ids}
    made = [(i, m) for i, m, _g in made if i.customer_id in ids]
    attach = [
        (site, lost[site.customer_id])
        for site in Incident.objects.filter(
            customer_id__in=list(lost), kind=IncidentKind.SITE, status__in=OPEN_STATUSES
        ).select_related("customer")
    ]
    members_rows, entries = [], []
    at = adapt(now)
    for incident, members in made:
        incident.id = ids[incident.customer_id]
        for member in members:
            grouping.incident_of[member[0]] = incident
        names = [m[1] for m in members]
        members_rows += [(incident.id, m[0], adapt(m[2])) for m in members]
        opened = say(Say.SITE_OPENED, n=len(members), names=names_of(names))
        entries.append(entry_row(incident.id, at, TimelineKind.OPENED.value, opened))
        data = site_data(incident, names)
        subject = f"customer:{incident.customer.public_id}"
        batch = events[incident.organization_id]
        batch.append(NewEvent("incident.opened", subject, data, occurred_at=incident.opened_at))
        batch.append(NewEvent("site.down", subject, data, occurred_at=incident.opened_at))
        if incident.alerted_at is not None:
            entries.append(entry_row(incident.id, at, TimelineKind.ALERT.value, say(Say.NONE_LEFT)))
            batch.append(NewEvent("incident.alert", subject, data, occurred_at=now))
    insert_rows(SiteMember, ["incident_id", "device_id", "down_at"], members_rows)
    _merge_device_incidents(made, entries, events, now)
    insert_rows(IncidentEntry, ENTRY_COLUMNS, entries)
    return attach


def _merge_device_incidents(made: list, entries: list, events: dict, now: dt.datetime) -> None:
    """The open device incidents of a new site's computers join the site incident."""
    site_of = {m[0]: incident for incident, members in made for m in members}
    merging = list(
        Incident.objects.filter(
            device_id__in=list(site_of), kind=IncidentKind.DEVICE, status__in=OPEN_STATUSES
        ).select_related("device__customer", "customer")
    )
    if not merging:
        return
    adapt = connection.ops.adapt_datetimefield_value
    at = adapt(now)
    for incident in merging:
        site = site_of[incident.device_id]
        incident.status, incident.resolved_at = IncidentStatus.RESOLVED, now
        incident.auto_resolved, incident.merged_into_id = True, site.id
        joined = say(
            Say.JOINED,
            customer=site.customer.name,
            down=site.devices_down,
            total=site.devices_total,
        )
        entries.append(entry_row(incident.id, at, TimelineKind.MERGED.value, joined))
        own = say(Say.OWN_JOINED, device=incident.device.name)
        entries.append(entry_row(site.id, at, TimelineKind.MERGED.value, own))
        data = {**incident_data(incident), "site_incident_id": str(site.public_id)}
        events[incident.organization_id].append(
            NewEvent("incident.merged", f"device:{incident.device.public_id}", data)
        )
    Incident.objects.bulk_update(
        merging, ["status", "resolved_at", "auto_resolved", "merged_into"], batch_size=500
    )


def _attach(grouping: Grouping, attach: list, events: dict) -> None:
    """Computers going offline while their site's incident is open join it."""
    now = grouping.now
    adapt = connection.ops.adapt_datetimefield_value
    at = adapt(now)
    sites = [site for site, _group in attach]
    # Lock the sites (in id order: no deadlock between workers) so two workers
    # attaching computers to one site count each other's committed members.
    list(
        Incident.objects.select_for_update()
        .filter(id__in=[s.id for s in sites])
        .order_by("id")
        .values_list("id", flat=True)
    )
    # Only this batch's computers can be members already (a flap back and down again).
    known = set(
        SiteMember.objects.filter(
            incident__in=sites, device_id__in=[d.id for _s, group in attach for d in group]
        ).values_list("incident_id", "device_id")
    )
    again: dict[int, list[int]] = defaultdict(list)
    rows, entries = [], []
    for site, group in attach:
        for device in group:
            grouping.incident_of[device.id] = site
            if (site.id, device.id) in known:
                again[site.id].append(device.id)
            else:
                rows.append((site.id, device.id, adapt(device.since)))
    insert_rows(SiteMember, ["incident_id", "device_id", "down_at"], rows)
    for site_id, device_ids in again.items():
        SiteMember.objects.filter(incident_id=site_id, device_id__in=device_ids).update(
            back_at=None, down_at=now
        )
    down = dict(
        SiteMember.objects.filter(incident__in=sites, back_at__isnull=True)
        .values_list("incident_id")
        .annotate(n=Count("id"))
        .values_list("incident_id", "n")
    )
    for site, _group in attach:
        site.devices_down = down.get(site.id, 0)
        site.devices_total = max(site.devices_total, site.devices_down)
        site.title = site_title(site.customer.name, site.devices_down, site.devices_total)
    update_rows(
        Incident,
        ["devices_down", "devices_total", "title"],
        [(s.id, s.devices_down, s.devices_total, s.title) for s in sites],
    )
    # The last computer online went silent: nothing is left to join, so the group
    # wait ends now (the tick's due alerts send it) rather than at its full length.
    settled = [
        s.id for s in sites if s.alerted_at is None and not grouping.online.get(s.customer_id, 0)
    ]
    if settled:
        Incident.objects.filter(id__in=settled, alerted_at__isnull=True).update(alert_due_at=now)
    # The names still offline of every site, in one query (not one per site).
    names: dict[int, list[str]] = defaultdict(list)
    for incident_id, name in SiteMember.objects.filter(
        incident__in=sites, back_at__isnull=True
    ).values_list("incident_id", "device__name"):
        names[incident_id].append(name)
    for site, group in attach:
        data = site_data(site, names[site.id])
        subject = f"customer:{site.customer.public_id}"
        for device in group:
            down = say(
                Say.DEVICE_DOWN,
                device=device.name,
                down=site.devices_down,
                total=site.devices_total,
            )
            entries.append(entry_row(site.id, at, TimelineKind.DEVICE_DOWN.value, down))
            events[site.organization_id].append(
                NewEvent(
                    "site.device_down",
                    subject,
                    {**data, "device_name": device.name},
                    occurred_at=device.since,
                )
            )
    insert_rows(IncidentEntry, ENTRY_COLUMNS, entries)
