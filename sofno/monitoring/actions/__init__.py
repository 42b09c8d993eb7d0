"""Changes to devices, incidents and maintenance: atomic, audited, emitting events.

One module per concern; every public name stays importable from here:

- ``payloads``: what the events carry;
- ``devices``: devices, keys, POS software, inherited timing;
- ``enrollment``: agents enrolling with their customer's token;
- ``sweep``: the sweeper's flips (overdue devices go offline, incidents open);
- ``sites``: several computers of one customer offline together, one site incident;
- ``outage``: many customers' computers silent together, our own outage suspected;
- ``startup``: the start-up grace after the server itself was down;
- ``incidents``: alerts coming due, acknowledgement, resolution;
- ``recovery``: devices coming back online, in batches (a check-in alone is a batch
  of one);
- ``maintenance``: maintenance windows.
"""

from sofno.monitoring.actions.devices import (
    DEVICE_FIELDS,
    add_pos_software,
    create_device,
    defaults_for,
    delete_device,
    effective_timing,
    installer_named,
    new_device_key,
    pos_choices,
    remove_pos_software,
    rotate_device_key,
    set_customer_monitoring,
    set_defaults,
    touch_pending,
    update_device,
)
from sofno.monitoring.actions.enrollment import (
    EnrollmentRefused,
    enroll,
    issue_enrollment_link,
    rotate_enrollment_token,
)
from sofno.monitoring.actions.incidents import (
    acknowledge_incident,
    resolve_incident,
    send_due_alerts,
)
from sofno.monitoring.actions.maintenance import create_maintenance, end_maintenance
from sofno.monitoring.actions.payloads import (
    SYSTEM,
    actor_label,
    device_data,
    incident_data,
    incident_subject,
    site_data,
    subject_of,
)
from sofno.monitoring.actions.recovery import bring_back_stored, come_online_many
from sofno.monitoring.actions.startup import startup_grace
from sofno.monitoring.actions.sweep import SWEEP_BATCH, sweep_offline

__all__ = [
    "DEVICE_FIELDS",
    "SWEEP_BATCH",
    "SYSTEM",
    "EnrollmentRefused",
    "acknowledge_incident",
    "actor_label",
    "add_pos_software",
    "bring_back_stored",
    "come_online_many",
    "create_device",
    "create_maintenance",
    "defaults_for",
    "delete_device",
    "device_data",
    "effective_timing",
    "end_maintenance",
    "enroll",
    "incident_data",
    "incident_subject",
    "installer_named",
    "issue_enrollment_link",
    "new_device_key",
    "pos_choices",
    "remove_pos_software",
    "resolve_incident",
    "rotate_device_key",
    "rotate_enrollment_token",
    "send_due_alerts",
    "set_customer_monitoring",
    "set_defaults",
    "site_data",
    "startup_grace",
    "subject_of",
    "sweep_offline",
    "touch_pending",
    "update_device",
]
