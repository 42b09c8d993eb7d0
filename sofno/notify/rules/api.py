"""Notification rules, templates (with live preview), SMTP profiles, escalation
policies, and "why did this event notify whom" under /api/v1."""

from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Status

from sofno.core.access import get_scoped_or_404
from sofno.core.api import ERRORS, actor
from sofno.core.channels import Channel
from sofno.events import catalog
from sofno.events.models import Event
from sofno.notify.models import (
    Delivery,
    EscalationPolicy,
    NotificationRule,
    RuleEvaluation,
    SmtpProfile,
    Template,
)
from sofno.notify.routing.templating import (
    Parts,
    Problem,
    TemplateRefused,
    check,
    render,
    sample_context,
)
from sofno.notify.rules import actions as rule_actions
from sofno.notify.rules.schemas import (
    PolicyIn,
    PolicyOut,
    PreviewIn,
    PreviewOut,
    RoutingOut,
    RuleIn,
    RuleOut,
    RulePatch,
    SmtpProfileIn,
    SmtpProfileOut,
    SmtpProfilePatch,
    TemplateIn,
    TemplateOut,
    TemplatePatch,
)

router = Router(tags=["notifications"])


def _staff(request: HttpRequest):
    who = actor(request)
    who.require_staff()
    return who


def _get(model, request: HttpRequest, public_id: UUID):
    return get_scoped_or_404(model.objects.all(), _staff(request), public_id=public_id)


def _dump(payload) -> dict:
    return payload.model_dump(exclude_unset=True, mode="json")


# --- rules -------------------------------------------------------------------------


@router.get("/notification-rules", response={200: list[RuleOut], **ERRORS})
def list_rules(request: HttpRequest):
    """The organization's notification rules."""
    return NotificationRule.objects.filter(
        organization=_staff(request).organization
    ).select_related("customer", "device", "escalation_policy")


@router.post("/notification-rules", response={201: RuleOut, **ERRORS})
def create_rule(request: HttpRequest, payload: RuleIn):
    data = payload.model_dump(mode="json")
    return Status(201, rule_actions.create_rule(acting_user=actor(request), data=data))


@router.get("/notification-rules/{rule_id}", response={200: RuleOut, **ERRORS})
def get_rule(request: HttpRequest, rule_id: UUID):
    return _get(NotificationRule, request, rule_id)


@router.patch("/notification-rules/{rule_id}", response={200: RuleOut, **ERRORS})
def update_rule(request: HttpRequest, rule_id: UUID, payload: RulePatch):
    rule = _get(NotificationRule, request, rule_id)
    return rule_actions.update_rule(acting_user=actor(request), rule=rule, data=_dump(payload))


@router.delete("/notification-rules/{rule_id}", response={204: None, **ERRORS})
def delete_rule(request: HttpRequest, rule_id: UUID):
    rule = _get(NotificationRule, request, rule_id)
    rule_actions.delete_rule(acting_user=actor(request), rule=rule)
    return Status(204, None)


@router.get("/events/{event_id}/routing", response={200: RoutingOut, **ERRORS})
def event_routing(request: HttpRequest, event_id: UUID):
    """Which rules an event matched and why, and every delivery with its due time."""
    event = _get(Event, request, event_id)
    deliveries = (
        Delivery.objects.filter(event=event)
        .exclude(channel=Channel.WEBHOOK)
        .select_related("message__escalation")
        .order_by("next_attempt_at", "id")
    )
    evaluations = RuleEvaluation.objects.filter(event=event).select_related("rule")
    return {"evaluations": list(evaluations), "deliveries": list(deliveries)}


# --- templates ---------------------------------------------------------------------


@router.get("/notification-templates", response={200: list[TemplateOut], **ERRORS})
def list_templates(request: HttpRequest):
    return Template.objects.filter(organization=_staff(request).organization).select_related(
        "smtp_profile"
    )


@router.post("/notification-templates", response={201: TemplateOut, **ERRORS})
def create_template(request: HttpRequest, payload: TemplateIn):
    """A template; unknown tokens, syntax errors and sandbox escapes answer 422."""
    data = payload.model_dump(mode="json")
    return Status(201, rule_actions.save_template(acting_user=actor(request), data=data))


@router.post("/notification-templates/preview", response={200: PreviewOut, **ERRORS})
def preview_template(request: HttpRequest, payload: PreviewIn):
    """Render a template with a sample event built from the tokens' examples."""
    _staff(request)
    event_type = catalog.for_organization(actor(request).organization).get(payload.event_type)
    parts = Parts(payload.subject, payload.html_body, payload.text_body)
    problems = check(parts, event_type, trial=False)  # rendered just below, once
    sample = sample_context(event_type)
    try:
        rendered = render(parts, sample)
        out = {"subject": rendered.subject, "html": rendered.html, "text": rendered.text}
    except TemplateRefused as refused:
        out = {"subject": "", "html": "", "text": ""}
        problems.append(Problem("template", refused.rule, refused.message))
    if event_type is None:
        problems.insert(0, Problem("event_type", "unknown", "unknown event type"))
    return {**out, "problems": [p.__dict__ for p in problems], "sample": sample}


@router.get("/notification-templates/{template_id}", response={200: TemplateOut, **ERRORS})
def get_template(request: HttpRequest, template_id: UUID):
    return _get(Template, request, template_id)


@router.patch("/notification-templates/{template_id}", response={200: TemplateOut, **ERRORS})
def update_template(request: HttpRequest, template_id: UUID, payload: TemplatePatch):
    template = _get(Template, request, template_id)
    return rule_actions.save_template(
        acting_user=actor(request), data=_dump(payload), template=template
    )


@router.delete("/notification-templates/{template_id}", response={204: None, **ERRORS})
def delete_template(request: HttpRequest, template_id: UUID):
    template = _get(Template, request, template_id)
    rule_actions.delete_template(acting_user=actor(request), template=template)
    return Status(204, None)


# --- SMTP profiles -----------------------------------------------------------------


@router.get("/smtp-profiles", response={200: list[SmtpProfileOut], **ERRORS})
def list_profiles(request: HttpRequest):
    return SmtpProfile.objects.filter(organization=_staff(request).organization)


@router.post("/smtp-profiles", response={201: SmtpProfileOut, **ERRORS})
def create_profile(request: HttpRequest, payload: SmtpProfileIn):
    """An SMTP profile (the organization's first one becomes its default)."""
    data = payload.model_dump(mode="json")
    return Status(201, rule_actions.save_smtp_profile(acting_user=actor(request), data=data))


@router.get("/smtp-profiles/{profile_id}", response={200: SmtpProfileOut, **ERRORS})
def get_profile(request: HttpRequest, profile_id: UUID):
    return _get(SmtpProfile, request, profile_id)


@router.patch("/smtp-profiles/{profile_id}", response={200: SmtpProfileOut, **ERRORS})
def update_profile(request: HttpRequest, profile_id: UUID, payload: SmtpProfilePatch):
    profile = _get(SmtpProfile, request, profile_id)
    return rule_actions.save_smtp_profile(
        acting_user=actor(request), data=_dump(payload), profile=profile
    )


@router.post("/smtp-profiles/{profile_id}/default", response={200: SmtpProfileOut, **ERRORS})
def make_default_profile(request: HttpRequest, profile_id: UUID):
    """Make this the default profile (at any time)."""
    profile = _get(SmtpProfile, request, profile_id)
    return rule_actions.set_default_profile(acting_user=actor(request), profile=profile)


@router.delete("/smtp-profiles/{profile_id}", response={204: None, **ERRORS})
def delete_profile(request: HttpRequest, profile_id: UUID):
    profile = _get(SmtpProfile, request, profile_id)
    rule_actions.delete_smtp_profile(acting_user=actor(request), profile=profile)
    return Status(204, None)


# --- escalation policies -----------------------------------------------------------


@router.get("/escalation-policies", response={200: list[PolicyOut], **ERRORS})
def list_policies(request: HttpRequest):
    return EscalationPolicy.objects.filter(organization=_staff(request).organization)


@router.post("/escalation-policies", response={201: PolicyOut, **ERRORS})
def create_policy(request: HttpRequest, payload: PolicyIn):
    data = payload.model_dump(mode="json")
    return Status(201, rule_actions.save_policy(acting_user=actor(request), data=data))


@router.get("/escalation-policies/{policy_id}", response={200: PolicyOut, **ERRORS})
def get_policy(request: HttpRequest, policy_id: UUID):
    return _get(EscalationPolicy, request, policy_id)


@router.put("/escalation-policies/{policy_id}", response={200: PolicyOut, **ERRORS})
def replace_policy(request: HttpRequest, policy_id: UUID, payload: PolicyIn):
    """Replace a policy; escalations already running keep the copy they started with."""
    policy = _get(EscalationPolicy, request, policy_id)
    data = payload.model_dump(mode="json")
    return rule_actions.save_policy(acting_user=actor(request), data=data, policy=policy)


@router.delete("/escalation-policies/{policy_id}", response={204: None, **ERRORS})
def delete_policy(request: HttpRequest, policy_id: UUID):
    policy = _get(EscalationPolicy, request, policy_id)
    rule_actions.delete_policy(acting_user=actor(request), policy=policy)
    return Status(204, None)
