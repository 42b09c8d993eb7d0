"""The built-in template of every event type in the catalog, for every channel.

An organization's own template (same event type, channel and language) replaces it.
Hand-written headlines for the events people act on; every other type gets its
description and a list of its tokens, so a new event type is never silent.

The wording is in the recipient's language: :func:`default_parts` builds it under
``translation.override``. Headlines are Jinja sources marked for translation, so a
translator writes around the ``{{ ... }}`` tokens and keeps them (a test holds every
translation to the English one's tokens). Incident headlines never show the stored
``title``, which stays English: they say what happened from the payload's tokens.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext, gettext_noop

from sofno.core.channels import Channel
from sofno.events.catalog import EventType, Token
from sofno.notify.routing.templating import Parts

HEADLINES = {
    # Translators: keep every {{ ... }} token exactly as it is; they are filled in.
    "device.offline": gettext_noop("{{ device_name }} ({{ customer_name }}) is offline"),
    "device.online": gettext_noop("{{ device_name }} ({{ customer_name }}) is back online"),
    "incident.merged": gettext_noop("{{ device_name }}'s incident joined the site's incident"),
    "site.down": gettext_noop(
        "{{ customer_name }} is down ({{ devices_down }} of {{ devices_total }} "
        "computers offline: {{ device_names }})"
    ),
    "site.device_down": gettext_noop(
        "{{ customer_name }}: {{ device_name }} went offline too "
        "({{ devices_down }} of {{ devices_total }} offline)"
    ),
    "site.device_up": gettext_noop(
        "{{ customer_name }}: {{ device_name }} is back "
        "({{ devices_down }} of {{ devices_total }} still offline)"
    ),
    "site.up": gettext_noop("{{ customer_name }} is back: every computer is online"),
    "monitoring.degraded": gettext_noop(
        "Monitoring degraded: {{ devices_silent }} of {{ devices_total }} computers of "
        "{{ customers }} customers went silent together; customer alerts are held"
    ),
    "monitoring.recovered": gettext_noop("Monitoring recovered: check-ins are back"),
    "ticket.created": gettext_noop("Ticket #{{ ticket.number }} opened: {{ ticket.title }}"),
    "ticket.status_changed": gettext_noop(
        "Ticket #{{ ticket.number }} is now {{ status.name }}: {{ ticket.title }}"
    ),
    "ticket.assigned": gettext_noop("Ticket #{{ ticket.number }} assigned: {{ ticket.title }}"),
    "ticket.updated": gettext_noop("Ticket #{{ ticket.number }} changed: {{ ticket.title }}"),
    "ticket.commented": gettext_noop("Ticket #{{ ticket.number }}: {{ comment.author }} wrote"),
    "oncall.turn_started": gettext_noop("On the phones now ({{ date }} {{ turn }}): {{ people }}"),
}

# What an incident is about, by its ``kind``: every incident event carries ``kind``
# and ``customer_name``; a device incident's ``device_name``, a site incident's
# ``devices_down`` and ``devices_total`` (monitoring.actions.payloads).
DOWN = {
    "device": HEADLINES["device.offline"],
    "site": gettext_noop(
        "{{ customer_name }} is down ({{ devices_down }} of {{ devices_total }} computers offline)"
    ),
}
# A resolved incident is named, not described: the computers may be back or not.
NAMED = {
    "device": "{{ device_name }} ({{ customer_name }})",  # nothing to translate
    "site": gettext_noop("the site incident of {{ customer_name }}"),
}
# Each sentence gets ``%(what)s``: the fitting fragment above for either kind.
INCIDENT_HEADLINES = {
    # Translators: %(what)s is what happened, e.g. "Till 2 (Café Central) is offline".
    "incident.opened": (gettext_noop("Incident: %(what)s"), DOWN),
    "incident.alert": (gettext_noop("Alert: %(what)s"), DOWN),
    "incident.acknowledged": (gettext_noop("Acknowledged by {{ by }}: %(what)s"), DOWN),
    "incident.resolved": (gettext_noop("Resolved: %(what)s"), NAMED),
}
# Voice reads the headline and the keypad choices (the call adds the <Gather>).
SHORT_CHANNELS = frozenset({Channel.SMS, Channel.VOICE, Channel.WEBPUSH, Channel.INAPP})


def _scalar_tokens(event_type: EventType) -> list[Token]:
    tokens = [t for t in event_type.tokens if t.type not in ("object", "array")]
    return tokens[:12]  # a list, not the whole payload


def _incident_headline(name: str) -> str:
    sentence, what = INCIDENT_HEADLINES[name]
    site, device = gettext(what["site"]), gettext(what["device"])
    either = '{% if kind == "site" %}' + site + "{% else %}" + device + "{% endif %}"
    return gettext(sentence) % {"what": either}


def headline(event_type: EventType) -> str:
    """The one-line summary of an event of this type (template source), in the
    active language."""
    if event_type.name in INCIDENT_HEADLINES:
        return _incident_headline(event_type.name)
    if event_type.name in HEADLINES:
        return gettext(HEADLINES[event_type.name])
    names = {t.name for t in event_type.tokens}
    description = _escape(str(event_type.description))
    for candidate in ("title", "customer.name", "customer_name"):
        if candidate in names:
            return f"{description} ({{{{ {candidate} }}}})"
    return description or event_type.name


def _escape(text: str) -> str:
    # A description is plain text: keep Jinja from reading braces in it.
    return text.replace("{", "{{ '{' }}").replace("}", "{{ '}' }}") if "{" in text else text


def _label(token: Token, *, html: bool = False) -> str:
    """What a token's line in an email is called: its description, else its name."""
    text = str(token.description or token.name)
    return _escape(escape(text) if html else text)


def default_parts(event_type: EventType, channel: str, language: str = "en") -> Parts:
    """The built-in subject and bodies of ``event_type`` on ``channel``, in ``language``."""
    with translation.override(language or "en"):
        title = headline(event_type)
        if channel in SHORT_CHANNELS:
            return Parts(subject=title, text_body=title)
        tokens = _scalar_tokens(event_type)
        lines = [f"{_label(t)}: {{{{ {t.name} }}}}" for t in tokens]
        rows = "".join(
            f"<tr><th>{_label(t, html=True)}</th><td>{{{{ {t.name} }}}}</td></tr>" for t in tokens
        )
    text = "\n".join([title, "", *lines, "", "{{ event.type }} #{{ event.sequence }}"])
    html = (
        f"<p><strong>{title}</strong></p>"
        f"<table>{rows}</table>"
        "<p><small>{{ event.type }} #{{ event.sequence }}</small></p>"
    )
    return Parts(subject=f"[SOFNO] {title}", html_body=html, text_body=text)
