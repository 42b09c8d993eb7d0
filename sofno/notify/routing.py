"""Rule dispatch: events -> matching rules -> recipients x channels -> Delivery rows.

Rules:
- reads each organization's event log from its own cursor, advanced in the same
  transaction as the deliveries it writes: an event is routed exactly once;
- records every rule's verdict on every event it considered (``RuleEvaluation``);
- whether and when anything about a customer or device may go out is the alert
  policy's decision (``notify.policy``): a held rule records why and is released (or
  dropped) when the hold ends;
- staff always also get the in-app notification; the in-app one is never deferred
  (a silent bell wakes nobody), every other channel respects quiet and business hours;
- the message is rendered now, in the recipient's language (their template, else the
  organization's English one, else the built-in default), and kept on the delivery;
- the deliveries are then sent by the one delivery machinery (``notify.delivery``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from sofno.core.models import Organization
from sofno.events import catalog
from sofno.events.models import Event
from sofno.notify import conf, policy, quiet, recipients, rules
from sofno.notify.default_templates import default_parts
from sofno.notify.models import (
    Attempt,
    Delivery,
    DeliveryMessage,
    HeldNotification,
    NotificationRule,
    RuleEvaluation,
    RulesCursor,
    SmtpProfile,
    Template,
)
from sofno.notify.templating import Parts, TemplateRefused, event_context, render

log = logging.getLogger(__name__)

BATCH = 500
PERSON_CHANNELS = ("email", "sms", "voice", "call_patch", "inapp", "webpush")
PHONE_CHANNELS = ("sms", "voice", "call_patch")
# The content key noting that the rule's template was refused at send time.
TEMPLATE_REFUSED = "template_refused"
INCIDENT_STOP_TYPES = ("incident.acknowledged", "incident.resolved", "incident.merged")


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


def _customer(event: Event):
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


def compose(event: Event, channel: str, recipient: recipients.Recipient, reasons: list[str]):
    """The rendered message for one recipient on one channel (a dict for the delivery)."""
    organization = event.organization
    event_type = _event_types(organization).get(event.type) or catalog.EventType(
        event.type, event.type
    )
    template = _template(organization, event.type, channel, recipient.language)
    parts = (
        Parts(template.subject, template.html_body, template.text_body)
        if template
        else default_parts(event_type, channel)
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
        refusal = f"template {template.name if template else ''!r} refused: {refused}"
        reasons.append(refusal)
        rendered = render(default_parts(event_type, channel), context)
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
    if channel == "sms":
        content["text"] = _sms_text(rendered.text or rendered.subject, event)
    if channel == "email":
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


def _sms_text(text: str, event: Event) -> str:
    if (event.payload or {}).get("incident_id"):
        text = f"{text}\nReply ACK {event.sequence} (or 4) to acknowledge, 6 to resolve."
    return text[:1500]


def _address(channel: str, recipient: recipients.Recipient) -> str:
    if channel == "email":
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
    customer = _customer(event)
    action = rule.quiet_action if rule is not None else quiet.QuietAction.DEFER
    business = customer.hours() if (customer and rule and rule.business_hours_only) else None
    people_list = list(people.people)
    if action == quiet.QuietAction.NEXT:
        awake = [p for p in people_list if not (p.quiet and p.quiet.contains(at))]
        for person in people_list:
            if person not in awake:
                reasons.append(f"{person.name} is in quiet hours: next person")
        if awake:
            people_list = awake
        elif people_list:
            reasons.append("everyone is in quiet hours: deferred instead")
            action = quiet.QuietAction.DEFER
    planned = []
    for person in people_list:
        wanted = [c for c in channels if c in PERSON_CHANNELS]
        # Staff always get the bell too, except from a managed rule (the ticket
        # settings' "email" toggles), whose settings say exactly what is sent.
        if person.is_staff and "inapp" not in wanted and not getattr(rule, "managed_by", ""):
            wanted.append("inapp")
        for channel in wanted:
            if channel in ("inapp", "webpush") and not person.is_staff:
                continue
            if channel == "call_patch" and (not person.is_staff or customer is None):
                continue
            address = _address(channel, person)
            if channel not in ("inapp", "webpush") and not address:
                reasons.append(f"{person.name} has no {'email' if channel == 'email' else 'phone'}")
                continue
            if channel == "inapp":
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
            if channel == "call_patch":
                contact = recipients.reachable_contact(customer, decision.send_at)
                if contact is None:
                    reasons.append(f"call patch: no reachable contact at {customer.name}")
                    continue
                content["patch_phone"], content["patch_name"] = contact.phone, contact.name
            planned.append(
                _pair(event, channel, person, address, decision, content, rule, escalation)
            )
    for url in (rule.apprise_urls or []) if rule is not None and "apprise" in channels else []:
        person = recipients.Recipient(key=f"apprise:{url}", name="Apprise")
        content = compose(event, "apprise", person, reasons)
        planned.append(
            _pair(event, "apprise", person, url, quiet.Decision(at), content, rule, escalation)
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
        deferred_reason=decision.reason[:300] if decision.reason else "",
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


def deliver_rule(event: Event, rule, reasons: list[str], *, at: dt.datetime) -> int:
    """Plan and save the deliveries of one matched rule, and start its escalation;
    returns how many deliveries were written."""
    from sofno.notify import escalation

    people = recipients.resolve(
        rule.recipients or [],
        event.organization,
        event,
        at=at,
        fallback_user=rule.fallback_user,
        customer=_customer(event),
    )
    reasons.extend(people.notes)
    planned = plan_deliveries(event, rule, people, list(rule.channels or []), reasons, at=at)
    count = save_planned(planned)
    reasons.append(f"{count} deliveries to {len(people.people)} recipients")
    if rule.escalation_policy_id:
        reasons.append(escalation.start(rule, event))
    return count


def _tell_admins(event: Event, at: dt.datetime) -> RuleEvaluation:
    """Monitoring's own health goes to the organization's admins, rule or not."""
    reasons = ["built in: monitoring's own health goes to the admins (email and in-app)"]
    people = recipients.resolve(
        [{"kind": "role", "value": "admin"}], event.organization, event, at=at
    )
    reasons.extend(people.notes)
    count = save_planned(plan_deliveries(event, None, people, ["email", "inapp"], reasons, at=at))
    reasons.append(f"{count} deliveries to {len(people.people)} recipients")
    return RuleEvaluation(
        organization_id=event.organization_id,
        event=event,
        rule=None,
        rule_name="Admins (built in)",
        matched=True,
        reasons=reasons,
        deliveries=count,
    )


def route_event(event: Event, rule_list: list) -> list[RuleEvaluation]:
    """Evaluate every rule on ``event`` and plan the deliveries of those that match,
    unless the alert policy holds them (then each held rule is recorded with why)."""
    from sofno.notify import escalation

    now = timezone.now()
    at = max(event.occurred_at, now) if event.occurred_at else now
    evaluations = []
    holds: list[tuple[RuleEvaluation, policy.Hold]] = []
    if event.type in INCIDENT_STOP_TYPES:
        escalation.stop_for_event(event)
    policy.note_event(event, now)
    if event.type in policy.ADMIN_EVENTS:
        evaluations.append(_tell_admins(event, at))
    verdicts = rules.evaluate_all(rule_list, event)
    matched = any(v.matched for v in verdicts)
    held = policy.hold_for(event, at, _customer(event)) if matched else None
    for verdict in verdicts:
        rule = verdict.rule
        count = 0
        if verdict.matched and held is not None:
            verdict.reasons.append(f"held: {held.words}")
        elif verdict.matched:
            count = deliver_rule(event, rule, verdict.reasons, at=at)
        # Rules that do not select this event type at all would only be noise.
        if verdict.matched or verdict.reasons[0].endswith(" is selected"):
            evaluation = RuleEvaluation(
                organization_id=event.organization_id,
                event=event,
                rule=rule,
                rule_name=rule.name,
                matched=verdict.matched,
                reasons=verdict.reasons,
                deliveries=count,
            )
            evaluations.append(evaluation)
            if verdict.matched and held is not None:
                holds.append((evaluation, held))
    RuleEvaluation.objects.bulk_create(evaluations)
    HeldNotification.objects.bulk_create([policy.hold(event, e.rule, e, h) for e, h in holds])
    return evaluations


def _start_sequence(organization_id: int) -> int:
    """Where a new cursor starts: after the events older than every rule."""
    first_rule = (
        NotificationRule.objects.filter(organization_id=organization_id)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if first_rule is None:
        # No rule: start at the latest event, but before a recent admin alert
        # (monitoring's health goes to the admins even without rules).
        admin = (
            Event.objects.filter(organization_id=organization_id, type__in=policy.ADMIN_EVENTS)
            .filter(recorded_at__gte=timezone.now() - dt.timedelta(minutes=10))
            .order_by("sequence")
            .values_list("sequence", flat=True)
            .first()
        )
        if admin is not None:
            return admin - 1
        return (
            Event.objects.filter(organization_id=organization_id)
            .order_by("-sequence")
            .values_list("sequence", flat=True)
            .first()
            or 0
        )
    older = (
        Event.objects.filter(organization_id=organization_id, recorded_at__lt=first_rule)
        .order_by("-sequence")
        .values_list("sequence", flat=True)
        .first()
    )
    return older or 0


def dispatch_rules(organization_id: int, batch: int = BATCH) -> int:
    """Route the next events of one organization through its rules; returns events read."""
    if not RulesCursor.objects.filter(organization_id=organization_id).exists():
        RulesCursor.objects.bulk_create(
            [
                RulesCursor(
                    organization_id=organization_id,
                    last_sequence=_start_sequence(organization_id),
                )
            ],
            ignore_conflicts=True,
        )
    with transaction.atomic():
        # One router per organization at a time; the others skip, not wait.
        cursor = (
            RulesCursor.objects.select_for_update(skip_locked=True)
            .filter(organization_id=organization_id)
            .first()
        )
        if cursor is None:
            return 0
        events = list(
            Event.objects.filter(organization_id=organization_id, sequence__gt=cursor.last_sequence)
            .select_related("organization")
            .order_by("sequence")[:batch]
        )
        if not events:
            return 0
        rule_list = list(
            NotificationRule.objects.filter(organization_id=organization_id, enabled=True)
            .select_related("customer", "device", "fallback_user")
            .order_by("pk")
        )
        with caching():
            for event in events:
                route_event(event, rule_list)
        RulesCursor.objects.filter(pk=cursor.pk).update(last_sequence=events[-1].sequence)
    return len(events)


def pending_organizations() -> list[int]:
    """Organizations whose log has events the rule router has not read."""
    from django.db.models import OuterRef, Subquery

    behind = (
        Organization.objects.annotate(
            routed=Subquery(
                RulesCursor.objects.filter(organization=OuterRef("pk")).values("last_sequence")
            )
        )
        .filter(notification_rules__enabled=True)
        .distinct()
    )
    out = []
    for org_id, routed in behind.values_list("pk", "routed"):
        if Event.objects.filter(organization_id=org_id, sequence__gt=routed or 0).exists():
            out.append(org_id)
    return out


def default_profile(organization) -> SmtpProfile | None:
    return SmtpProfile.objects.filter(organization=organization, is_default=True).first()
