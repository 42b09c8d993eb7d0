"""Planning: one matched rule or escalation step -> recipients x channels -> Delivery rows.

Below both the rule router and escalation (each imports it; it imports neither):

- whether and when each person may be told is the alert policy's decision
  (``notify.policy.for_person``): quiet hours, business hours, the rule's quiet action;
- staff always also get the in-app notification; the in-app one is never deferred
  (a silent bell wakes nobody), every other channel respects quiet and business hours;
- the message is rendered now, in the recipient's language (their template, else the
  organization's English one, else the built-in default in their language), and kept
  on the delivery;
- catalog, template and customer reads are cached while one batch is planned
  (:func:`caching`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading

from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from sofno.core.channels import ACCOUNT_CHANNELS, PERSON_CHANNELS, PHONE_CHANNELS, Channel
from sofno.events import catalog
from sofno.events.models import Event
from sofno.notify import conf
from sofno.notify import reasons as why
from sofno.notify.models import Attempt, Delivery, DeliveryMessage, SmtpProfile, Template
from sofno.notify.routing import policy, quiet, recipients
from sofno.notify.routing.default_templates import default_parts
from sofno.notify.routing.templating import Parts, TemplateRefused, event_context, render

# The content key noting that the rule's template was refused at send time.
TEMPLATE_REFUSED = "template_refused"


def subject_url(event: Event) -> str:
    """The page of what an event is about (device, incident, ticket), else the event."""
    kind, _, public_id = (event.subject or "").partition(":")
    payload = event.payload or {}
    candidates = []
    if payload.get("incident_id"):
        candidates.append(("web:incident-detail", payload["incident_id"]))
    if kind == "ticket":
        candidates.append(("web:ticket-detail", public_id))
    if kind == "device":
        candidates.append(("web:device-detail", public_id))
    candidates.append(("web:notification-event", str(event.public_id)))
    for name, arg in candidates:
        try:
            return reverse(name, args=[arg])
        except NoReverseMatch:
            continue
    return ""


# Read once per routing batch: the catalog and templates do not change within one.
# Per thread, and only filled inside ``caching()``, so a long-running worker never
# serves stale rows.
_local = threading.local()


@contextlib.contextmanager
def caching():
    """Cache catalog, template and customer reads while one batch is routed."""
    outer = getattr(_local, "cache", None)
    _local.cache = outer if outer is not None else {}
    try:
        yield
    finally:
        if outer is None:
            _local.cache = None


def _cached(key, load):
    cache = getattr(_local, "cache", None)
    if cache is None:
        return load()
    if key not in cache:
        cache[key] = load()
    return cache[key]


def _event_types(organization) -> dict:
    return _cached(("types", organization.pk), lambda: catalog.for_organization(organization))


def _template(organization, event_type: str, channel: str, language: str):
    return _cached(
        ("template", organization.pk, event_type, channel, language),
        lambda: _find_template(organization, event_type, channel, language),
    )


def event_customer(event: Event):
    """The customer an event is about (cached while a batch is planned)."""
    return _cached(
        ("customer", event.pk), lambda: recipients.customer_of(event.organization, event)
    )


def _find_template(organization, event_type: str, channel: str, language: str):
    found = {
        t.language: t
        for t in Template.objects.filter(
            organization=organization,
            event_type=event_type,
            channel=channel,
            language__in={language, "en"},
        ).select_related("smtp_profile")
    }
    return found.get(language) or found.get("en")


def compose(event: Event, channel: str, recipient: recipients.Recipient, reasons: list):
    """The rendered message for one recipient on one channel (a dict for the delivery)."""
    organization = event.organization
    event_type = _event_types(organization).get(event.type) or catalog.EventType(
        event.type, event.type
    )
    template = _template(organization, event.type, channel, recipient.language)
    parts = (
        Parts(template.subject, template.html_body, template.text_body)
        if template
        else default_parts(event_type, channel, recipient.language)
    )
    context = event_context(
        event,
        recipient_name=recipient.name,
        organization_name=organization.name,
        base_url=conf.base_url(),
    )
    refusal = ""
    try:
        rendered = render(parts, context)
    except TemplateRefused as refused:
        # An alert is never lost to a broken template: it goes out in the default
        # wording, and the refusal becomes a failed attempt on the delivery.
        name = template.name if template else ""
        refusal = f"template {name!r} refused: {refused}"
        reasons.append(why.reason(why.TEMPLATE_REFUSED, template=name, error=str(refused)))
        rendered = render(default_parts(event_type, channel, recipient.language), context)
        template = None
    url = subject_url(event)
    content = {
        "subject": rendered.subject,
        "text": rendered.text or rendered.subject,
        "html": rendered.html,
        "url": url,
        "reference": event.sequence,
    }
    if refusal:
        content[TEMPLATE_REFUSED] = refusal[:400]
    if channel == Channel.SMS:
        content["text"] = _sms_text(rendered.text or rendered.subject, event, recipient.language)
    if channel == Channel.EMAIL:
        content["to"] = [recipient.email]
        content["cc"], content["bcc"] = [], []
        if template is not None:
            content["cc"] = list(template.cc or [])
            content["bcc"] = list(template.bcc or [])
            content["to"] += [a for a in template.to or [] if a not in content["to"]]
            if template.smtp_profile_id:
                content["smtp_profile"] = str(template.smtp_profile.public_id)
            if template.from_name:
                content["from_name"] = template.from_name
    return content


def _sms_text(text: str, event: Event, language: str) -> str:
    if (event.payload or {}).get("incident_id"):
        # The reply words stay ACK, 4 and 6 (phone.SMS_WORDS): only the hint is translated.
        with translation.override(language or "en"):
            hint = _("Reply %(ack)s (or 4) to acknowledge, 6 to resolve.") % {
                "ack": f"ACK {event.sequence}"
            }
        text = f"{text}\n{hint}"
    return text[:1500]


def _address(channel: str, recipient: recipients.Recipient) -> str:
    if channel == Channel.EMAIL:
        return recipient.email
    if channel in PHONE_CHANNELS:
        return recipient.phone
    return ""


def plan_deliveries(
    event: Event,
    rule,
    people: recipients.Resolved,
    channels: list[str],
    reasons: list[str],
    *,
    at: dt.datetime,
    escalation=None,
) -> list[tuple[Delivery, DeliveryMessage]]:
    """The deliveries (unsaved) of one matched rule or escalation step."""
    customer = event_customer(event)
    action = rule.quiet_action if rule is not None else quiet.QuietAction.DEFER
    business = customer.hours() if (customer and rule and rule.business_hours_only) else None
    people_list = list(people.people)
    if action == quiet.QuietAction.NEXT:
        awake = [p for p in people_list if not (p.quiet and p.quiet.contains(at))]
        for person in people_list:
            if person not in awake:
                reasons.append(why.reason(why.QUIET_NEXT, person=person.name))
        if awake:
            people_list = awake
        elif people_list:
            reasons.append(why.reason(why.EVERYONE_QUIET))
            action = quiet.QuietAction.DEFER
    planned = []
    for person in people_list:
        wanted = [c for c in channels if c in PERSON_CHANNELS]
        # Staff always get the bell too, except from a managed rule (the ticket
        # settings' "email" toggles), whose settings say exactly what is sent.
        if person.is_staff and Channel.INAPP not in wanted and not getattr(rule, "managed_by", ""):
            wanted.append(Channel.INAPP)
        for channel in wanted:
            if channel in ACCOUNT_CHANNELS and not person.is_staff:
                continue
            if channel == Channel.CALL_PATCH and (not person.is_staff or customer is None):
                continue
            address = _address(channel, person)
            if channel not in ACCOUNT_CHANNELS and not address:
                code = why.NO_EMAIL if channel == Channel.EMAIL else why.NO_PHONE
                reasons.append(why.reason(code, person=person.name))
                continue
            if channel == Channel.INAPP:
                decision = quiet.Decision(at)
            else:
                decision = policy.for_person(
                    at,
                    person,
                    business=person.business or business,
                    action=quiet.QuietAction.THROUGH
                    if action == quiet.QuietAction.THROUGH
                    else quiet.QuietAction.DEFER,
                )
            content = compose(event, channel, person, reasons)
            if channel == Channel.CALL_PATCH:
                contact = recipients.reachable_contact(customer, decision.send_at)
                if contact is None:
                    reasons.append(why.reason(why.CALL_PATCH_NO_CONTACT, customer=customer.name))
                    continue
                content["patch_phone"], content["patch_name"] = contact.phone, contact.name
            planned.append(
                _pair(event, channel, person, address, decision, content, rule, escalation)
            )
    for url in (
        (rule.apprise_urls or []) if rule is not None and Channel.APPRISE in channels else []
    ):
        person = recipients.Recipient(key=f"apprise:{url}", name="Apprise")
        content = compose(event, Channel.APPRISE, person, reasons)
        planned.append(
            _pair(
                event, Channel.APPRISE, person, url, quiet.Decision(at), content, rule, escalation
            )
        )
    return planned


def _pair(event, channel, person, address, decision, content, rule, escalation):
    delivery = Delivery(
        organization_id=event.organization_id,
        event=event,
        channel=channel,
        recipient_user=person.user,
        address=address[:500],
        ordering_key=event.ordering_key,
        sequence=event.sequence,
        next_attempt_at=decision.send_at,
    )
    message = DeliveryMessage(
        delivery=delivery,
        rule=rule,
        escalation=escalation,
        recipient_name=person.name[:200],
        language=person.language,
        content=content,
        deferred_code=decision.code,
        deferred_params=decision.params if decision.code else {},
    )
    return delivery, message


def save_planned(planned: list[tuple[Delivery, DeliveryMessage]]) -> int:
    """Write planned deliveries and their messages (two bulk inserts)."""
    if not planned:
        return 0
    deliveries = Delivery.objects.bulk_create([d for d, _m in planned])
    messages = []
    for delivery, message in zip(deliveries, (m for _d, m in planned), strict=True):
        if delivery.pk is None:  # SQLite before 3.35 returns no ids; never on our stack
            delivery = Delivery.objects.get(public_id=delivery.public_id)
        message.delivery = delivery
        messages.append(message)
    DeliveryMessage.objects.bulk_create(messages)
    refused = [m for m in messages if TEMPLATE_REFUSED in m.content]
    if refused:
        now = timezone.now()
        Attempt.objects.bulk_create(
            Attempt(
                delivery=m.delivery,
                number=0,
                started_at=now,
                ok=False,
                detail=f"{m.content[TEMPLATE_REFUSED]}; sent with the default wording"[:500],
            )
            for m in refused
        )
    return len(deliveries)


def default_profile(organization) -> SmtpProfile | None:
    """The organization's default SMTP profile, if it has one."""
    return SmtpProfile.objects.filter(organization=organization, is_default=True).first()
