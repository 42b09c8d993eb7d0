"""The built-in template of every event type in the catalog, for every channel.

An organization's own template (same event type, channel and language) replaces it.
Hand-written headlines for the events people act on; every other type gets its
description and a list of its tokens, so a new event type is never silent.
"""

from __future__ import annotations

from django.utils import translation

from sofno.events.catalog import EventType
from sofno.notify.routing.templating import Parts

HEADLINES = {
    "device.offline": "{{ device_name }} ({{ customer_name }}) is offline",
    "device.online": "{{ device_name }} ({{ customer_name }}) is back online",
    "incident.opened": "Incident: {{ title }}",
    "incident.alert": "Alert: {{ title }}",
    "incident.acknowledged": "Acknowledged by {{ by }}: {{ title }}",
    "incident.resolved": "Resolved: {{ title }}",
    "incident.merged": "{{ device_name }}'s incident joined the site's incident",
    "site.down": "{{ customer_name }} is down ({{ devices_down }} of {{ devices_total }} "
    "computers offline: {{ device_names }})",
    "site.device_down": "{{ customer_name }}: {{ device_name }} went offline too "
    "({{ devices_down }} of {{ devices_total }} offline)",
    "site.device_up": "{{ customer_name }}: {{ device_name }} is back "
    "({{ devices_down }} of {{ devices_total }} still offline)",
    "site.up": "{{ customer_name }} is back: every computer is online",
    "monitoring.degraded": "Monitoring degraded: {{ devices_silent }} of {{ devices_total }} "
    "computers of {{ customers }} customers went silent together; customer alerts are held",
    "monitoring.recovered": "Monitoring recovered: check-ins are back",
    "ticket.created": "Ticket #{{ ticket.number }} opened: {{ ticket.title }}",
    "ticket.status_changed": (
        "Ticket #{{ ticket.number }} is now {{ status.name }}: {{ ticket.title }}"
    ),
    "ticket.assigned": "Ticket #{{ ticket.number }} assigned: {{ ticket.title }}",
    "ticket.updated": "Ticket #{{ ticket.number }} changed: {{ ticket.title }}",
    "ticket.commented": "Ticket #{{ ticket.number }}: {{ comment.author }} wrote",
    "oncall.turn_started": "On the phones now ({{ date }} {{ turn }}): {{ people }}",
}
# Voice reads the headline and the keypad choices (the call adds the <Gather>).
SHORT_CHANNELS = ("sms", "voice", "webpush", "inapp")


def _scalar_tokens(event_type: EventType) -> list[str]:
    names = [t.name for t in event_type.tokens if t.type not in ("object", "array")]
    return names[:12]  # a list, not the whole payload


def headline(event_type: EventType) -> str:
    """The one-line summary of an event of this type (template source)."""
    if event_type.name in HEADLINES:
        return HEADLINES[event_type.name]
    names = {t.name for t in event_type.tokens}
    # English like the headlines above, whatever language is active where it is built.
    with translation.override("en"):
        description = _escape(str(event_type.description))
    for candidate in ("title", "customer.name", "customer_name"):
        if candidate in names:
            return f"{description} ({{{{ {candidate} }}}})"
    return description or event_type.name


def _escape(text: str) -> str:
    # A description is plain text: keep Jinja from reading braces in it.
    return text.replace("{", "{{ '{' }}").replace("}", "{{ '}' }}") if "{" in text else text


def default_parts(event_type: EventType, channel: str) -> Parts:
    """The built-in subject and bodies of ``event_type`` on ``channel``."""
    title = headline(event_type)
    if channel in SHORT_CHANNELS:
        return Parts(subject=title, text_body=title)
    lines = [f"{name}: {{{{ {name} }}}}" for name in _scalar_tokens(event_type)]
    text = "\n".join([title, "", *lines, "", "{{ event.type }} #{{ event.sequence }}"])
    rows = "".join(
        f"<tr><th>{n}</th><td>{{{{ {n} }}}}</td></tr>" for n in _scalar_tokens(event_type)
    )
    html = (
        f"<p><strong>{title}</strong></p>"
        f"<table>{rows}</table>"
        "<p><small>{{ event.type }} #{{ event.sequence }}</small></p>"
    )
    return Parts(subject=f"[SOFNO] {title}", html_body=html, text_body=text)
