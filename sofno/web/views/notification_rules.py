"""The notification rule pages: list, the rule builder form, delete, and the preview of
who the rule as filled in would have reached for the latest matching event.

The builder offers the organization's event types (catalog and custom), its ticket
statuses, and conditions as rows of (field, operator, value) drawn from the chosen
types' tokens. It stores exactly what the API stores (``rule_actions`` checks it).
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sofno.core.access import get_scoped_or_404
from sofno.core.models import Membership
from sofno.core.usernames import sign_in_name
from sofno.directory.models import ContactType, Customer
from sofno.events import catalog
from sofno.monitoring.models import Device
from sofno.notify.models import RULE_CHANNEL_CHOICES, EscalationPolicy, NotificationRule, Scope
from sofno.notify.routing.quiet import QuietAction
from sofno.notify.rules import actions as rule_actions
from sofno.tickets.models import TicketStatus
from sofno.web.access import require_actor
from sofno.web.rule_preview import preview_rule

RECIPIENT_FLAGS = (
    ("assigned_agents", gettext_lazy("The customer's assigned agents")),
    ("on_call", gettext_lazy("Whoever is on call now")),
    ("technicians", gettext_lazy("The ticket's technicians")),
)
# The operators of ``notify.rules.check_condition``, in words.
OPERATORS = (
    ("eq", gettext_lazy("is")),
    ("ne", gettext_lazy("is not")),
    ("contains", gettext_lazy("contains")),
    ("in", gettext_lazy("is one of (separate with commas)")),
    ("gte", gettext_lazy("is at least")),
    ("lte", gettext_lazy("is at most")),
    ("exists", gettext_lazy("is present")),
)
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")
MAX_CONDITIONS = 20  # as the API's schema
TRUE_WORDS = {"true", "yes", "1"}
FALSE_WORDS = {"false", "no", "0"}


def event_type_choices(types: dict[str, catalog.EventType]) -> list[tuple[str, str]]:
    """Every type, then one ``prefix.*`` entry per family (``ticket.*``), sorted."""
    choices = [(name, name) for name in sorted(types)]
    families = sorted({name.split(".")[0] for name in types})
    return choices + [(f"{family}.*", f"{family}.*") for family in families]


def expand(patterns: list[str], types: dict[str, catalog.EventType]) -> list[catalog.EventType]:
    """The catalog types a list of patterns selects."""
    return [t for name, t in sorted(types.items()) if patterns and catalog.matches(patterns, name)]


def tokens_of(patterns: list[str], types: dict[str, catalog.EventType]) -> dict[str, catalog.Token]:
    """The tokens every selected type offers (one entry per name)."""
    found: dict[str, catalog.Token] = {}
    for event_type in expand(patterns, types):
        for token in event_type.tokens:
            found.setdefault(token.name, token)
    return found


def _stored_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class RuleForm(forms.Form):
    """The page form of a rule; the rules themselves are checked in ``rule_actions``.

    Conditions arrive as parallel lists ``condition_token``, ``condition_op`` and
    ``condition_value`` (one entry per builder row); rows left wholly empty are skipped.
    """

    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    enabled = forms.BooleanField(label=gettext_lazy("Enabled"), required=False, initial=True)
    event_types = forms.MultipleChoiceField(
        label=gettext_lazy("Event types"),
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "What the rule listens to. Type in the box to narrow the list; an entry "
            "ending in .* takes every event of that family."
        ),
    )
    scope = forms.ChoiceField(label=gettext_lazy("Scope"), choices=Scope.choices)
    customer = forms.ChoiceField(label=gettext_lazy("Customer"), required=False)
    device = forms.ChoiceField(label=gettext_lazy("Device"), required=False)
    ticket_status_from = forms.ChoiceField(
        label=gettext_lazy("Ticket status before the change"), required=False
    )
    ticket_status_to = forms.ChoiceField(
        label=gettext_lazy("Ticket status after the change"), required=False
    )
    conditions = forms.Field(
        label=gettext_lazy("Conditions"),
        required=False,
        widget=forms.HiddenInput,
        help_text=gettext_lazy(
            "Only notify when every condition holds. The fields offered are those of "
            "the event types chosen above."
        ),
    )
    recipient_flags = forms.MultipleChoiceField(
        label=gettext_lazy("Recipients"),
        choices=RECIPIENT_FLAGS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    roles = forms.MultipleChoiceField(
        label=gettext_lazy("Members with a role"),
        choices=(("admin", gettext_lazy("Admins")), ("agent", gettext_lazy("Technicians"))),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    users = forms.MultipleChoiceField(
        label=gettext_lazy("Named members"), required=False, widget=forms.CheckboxSelectMultiple
    )
    contact_types = forms.MultipleChoiceField(
        label=gettext_lazy("Customer contacts"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("The contacts of these types at the customer the event is about."),
    )
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("Channels"),
        choices=RULE_CHANNEL_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Staff always also get the in-app notification."),
    )
    apprise_urls = forms.CharField(
        label=gettext_lazy("Apprise URLs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("One per line; used when the Apprise channel is ticked."),
    )
    quiet_action = forms.ChoiceField(
        label=gettext_lazy("In quiet hours"), choices=QuietAction.choices
    )
    business_hours_only = forms.BooleanField(
        label=gettext_lazy("Only in the customer's business hours"), required=False
    )
    fallback_user = forms.ChoiceField(
        label=gettext_lazy("Fallback person"),
        required=False,
        help_text=gettext_lazy(
            "Notified instead when the rule names whoever is on call and nobody is."
        ),
    )
    escalation_policy = forms.ChoiceField(label=gettext_lazy("Escalation policy"), required=False)
    open_ticket_after_minutes = forms.IntegerField(
        label=gettext_lazy("Open a ticket when an incident stays unacknowledged"),
        required=False,
        min_value=1,
        max_value=10080,
        help_text=gettext_lazy(
            "In minutes. For incidents this rule notified about: when nobody acknowledges "
            "one for this long, a ticket is opened for it. Leave empty to never open one."
        ),
    )

    def __init__(self, organization, *args, rule: NotificationRule | None = None, **kwargs):
        super().__init__(*args, **kwargs)

        self.organization = organization
        self.types = catalog.for_organization(organization)
        # What the stored rule already uses stays selectable, even if the catalog
        # lost it since: saving the page never drops what the API stored.
        kept_types = list(rule.event_types or []) if rule else []
        self.kept_tokens = {c.get("token") for c in (rule.conditions or [])} if rule else set()
        choices = event_type_choices(self.types)
        known = {value for value, _label in choices}
        self.fields["event_types"].choices = choices + [
            (p, p) for p in kept_types if p not in known
        ]
        none = [("", "—")]
        any_status = [("", _("Any status"))]
        statuses = [
            (s.slug, s.name) for s in TicketStatus.objects.filter(organization=organization)
        ]
        slugs = {slug for slug, _name in statuses}
        for name in ("ticket_status_from", "ticket_status_to"):
            stored = getattr(rule, name, "") if rule else ""
            extra = [(stored, stored)] if stored and stored not in slugs else []
            self.fields[name].choices = any_status + statuses + extra
        self.fields["customer"].choices = none + [
            (str(c.public_id), c.name) for c in Customer.objects.filter(organization=organization)
        ]
        self.fields["device"].choices = none + [
            (str(d.public_id), f"{d.name} ({d.customer.name})")
            for d in Device.objects.filter(organization=organization).select_related("customer")
        ]
        members = [
            (str(m.public_id), m.user.get_full_name() or sign_in_name(m.user))
            for m in Membership.objects.filter(organization=organization)
            .exclude(role="customer")
            .select_related("user")
        ]
        self.fields["users"].choices = members
        self.fields["fallback_user"].choices = none + members
        self.fields["contact_types"].choices = [
            (t.slug, t.name) for t in ContactType.objects.filter(organization=organization)
        ]
        self.fields["escalation_policy"].choices = none + [
            (str(p.public_id), p.name)
            for p in EscalationPolicy.objects.filter(organization=organization)
        ]
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.CheckboxInput):
                widget.attrs["class"] = "form-check-input"
            elif isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select"
            elif not isinstance(widget, forms.HiddenInput):
                widget.attrs["class"] = "form-control"
        self.rows: list[dict] = []

    # --- the builder's rows ------------------------------------------------------------

    def condition_rows(self) -> list[dict]:
        """The rows the builder shows: as posted (with their errors), else as stored."""
        if self.is_bound:
            return self.rows or self._posted_rows()
        return [
            {
                "token": c.get("token", ""),
                "op": c.get("op", "eq"),
                "value": _stored_value(c.get("value")),
            }
            for c in self.initial.get("conditions") or []
        ]

    def _posted_rows(self) -> list[dict]:
        tokens = self.data.getlist("condition_token")
        ops = self.data.getlist("condition_op")
        values = self.data.getlist("condition_value")
        rows = []
        for index, token in enumerate(tokens):
            op = ops[index] if index < len(ops) else ""
            value = values[index] if index < len(values) else ""
            if not token.strip() and not value.strip():
                continue  # an untouched row
            rows.append({"token": token.strip(), "op": op, "value": value.strip(), "error": ""})
        return rows

    def clean_conditions(self) -> list[dict]:
        """The builder's rows as stored conditions; a bad row is named by its number."""
        self.rows = self._posted_rows()
        if len(self.rows) > MAX_CONDITIONS:
            raise ValidationError(
                _("At most %(count)d conditions.") % {"count": MAX_CONDITIONS}, code="max"
            )
        tokens = tokens_of(self.data.getlist("event_types"), self.types)
        conditions, problems = [], []
        for number, row in enumerate(self.rows, start=1):
            try:
                conditions.append(self._condition(row, tokens))
            except ValidationError as error:
                row["error"] = error.messages[0]
                problems.append(
                    _("Condition %(number)d: %(problem)s")
                    % {"number": number, "problem": error.messages[0]}
                )
        if problems:
            raise ValidationError(problems, code="condition")
        return conditions

    def _condition(self, row: dict, tokens: dict[str, catalog.Token]) -> dict:
        token, op, text = row["token"], row["op"], row["value"]
        if not token:
            raise ValidationError(_("choose a field."), code="required")
        if not TOKEN_PATTERN.match(token) or (
            token not in tokens and token not in self.kept_tokens
        ):
            raise ValidationError(
                _("%(field)s is not a field of the chosen event types.") % {"field": token},
                code="unknown",
            )
        if op not in dict(OPERATORS):
            raise ValidationError(_("choose how to compare."), code="operator")
        if op == "exists":
            return {"token": token, "op": op, "value": None}
        if not text:
            raise ValidationError(_("write the value to compare with."), code="required")
        if op == "in":
            items = [item.strip() for item in text.split(",") if item.strip()]
            return {"token": token, "op": op, "value": items}
        kind = tokens[token].type if token in tokens else "string"
        return {"token": token, "op": op, "value": self._typed(text, kind, op)}

    @staticmethod
    def _typed(text: str, kind: str, op: str):
        """The value as the payload carries it, so ``eq`` compares like with like."""
        if kind == "boolean" and op in ("eq", "ne"):
            word = text.lower()
            if word in TRUE_WORDS | {_("yes").lower()}:
                return True
            if word in FALSE_WORDS | {_("no").lower()}:
                return False
            raise ValidationError(_("write yes or no."), code="boolean")
        if kind in ("integer", "number") or op in ("gte", "lte"):
            try:
                number = float(text.replace(",", ".")) if kind != "integer" else int(text)
            except ValueError:
                raise ValidationError(_("write a number."), code="number") from None
            return number
        return text

    # --- out ---------------------------------------------------------------------------

    def data_for_actions(self) -> dict:
        """The cleaned form as the fields ``rule_actions`` takes."""
        c = self.cleaned_data
        recipients = [{"kind": kind} for kind in c["recipient_flags"]]
        if c["roles"]:
            recipients.append({"kind": "role", "value": list(c["roles"])})
        recipients += [{"kind": "user", "value": u} for u in c["users"]]
        recipients += [{"kind": "contact_type", "value": t} for t in c["contact_types"]]
        return {
            "name": c["name"],
            "enabled": c["enabled"],
            "event_types": list(c["event_types"]),
            "scope": c["scope"],
            "customer": c["customer"] or None,
            "device": c["device"] or None,
            "ticket_status_from": c["ticket_status_from"],
            "ticket_status_to": c["ticket_status_to"],
            "conditions": c["conditions"],
            "recipients": recipients,
            "channels": list(c["channels"]),
            "apprise_urls": _lines(c["apprise_urls"]),
            "quiet_action": c["quiet_action"],
            "business_hours_only": c["business_hours_only"],
            "fallback_user": c["fallback_user"] or None,
            "escalation_policy": c["escalation_policy"] or None,
            "open_ticket_after_minutes": c["open_ticket_after_minutes"],
        }

    def builder_data(self) -> dict:
        """What the page's script needs: each type's tokens and family, in words."""
        return {
            "types": {
                name: {
                    "tokens": [[t.name, token_label(t)] for t in et.tokens],
                }
                for name, et in self.types.items()
            },
        }


def token_label(token: catalog.Token) -> str:
    """How a field is offered in the builder: its name, then what it holds."""
    return f"{token.name} — {token.description}" if token.description else token.name


def _family_words(pattern: str) -> str:
    if pattern.endswith(".*"):
        return _("Every %(family)s event") % {"family": pattern[:-2]}
    return ""


def _kept_recipients(rule: NotificationRule) -> list[dict]:
    """Recipients of kinds the page does not edit (a managed rule's turn people or
    primary contact): saving the page keeps them rather than dropping them."""
    edited = {*dict(RECIPIENT_FLAGS), "role", "user", "contact_type"}
    return [s for s in rule.recipients or [] if s.get("kind") not in edited]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value] if value else []


def _initial(rule: NotificationRule) -> dict:
    specs = rule.recipients or []
    fallback = (
        Membership.objects.filter(organization=rule.organization, user=rule.fallback_user)
        .values_list("public_id", flat=True)
        .first()
        if rule.fallback_user_id
        else None
    )
    return {
        "name": rule.name,
        "enabled": rule.enabled,
        "event_types": list(rule.event_types or []),
        "scope": rule.scope,
        "customer": str(rule.customer.public_id) if rule.customer_id else "",
        "device": str(rule.device.public_id) if rule.device_id else "",
        "ticket_status_from": rule.ticket_status_from,
        "ticket_status_to": rule.ticket_status_to,
        "conditions": list(rule.conditions or []),
        "recipient_flags": [s["kind"] for s in specs if s.get("kind") in dict(RECIPIENT_FLAGS)],
        "roles": [r for s in specs if s.get("kind") == "role" for r in _as_list(s.get("value"))],
        "users": [s["value"] for s in specs if s.get("kind") == "user"],
        "contact_types": [s["value"] for s in specs if s.get("kind") == "contact_type"],
        "channels": rule.channels or [],
        "apprise_urls": "\n".join(rule.apprise_urls or []),
        "quiet_action": rule.quiet_action,
        "business_hours_only": rule.business_hours_only,
        "fallback_user": str(fallback) if fallback else "",
        "escalation_policy": str(rule.escalation_policy.public_id)
        if rule.escalation_policy_id
        else "",
        "open_ticket_after_minutes": rule.open_ticket_after_minutes,
    }


def require_admin(request: HttpRequest):
    """The request's actor if an administrator, else 403."""
    actor = require_actor(request)
    if not actor.is_admin:
        raise PermissionDenied(_("Only administrators may change notification rules."))
    return actor


@login_required
@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    """The organization's rules (staff only)."""
    actor = require_actor(request)
    if actor.is_customer_user:
        raise PermissionDenied(_("Customer users may not see this."))
    rules = list(
        NotificationRule.objects.filter(organization=actor.organization).select_related(
            "customer", "device", "escalation_policy"
        )
    )
    names = dict(RULE_CHANNEL_CHOICES)
    for rule in rules:  # the channels in words, not their stored keys
        rule.channel_names = [str(names.get(c, c)) for c in rule.channels or []]
    context = {
        "rules": rules,
        "actor": actor,
        "event_types": catalog.for_organization(actor.organization),
    }
    return render(request, "web/notifications/rules.html", context)


def _save(request: HttpRequest, actor, form: RuleForm, rule: NotificationRule | None) -> bool:
    """Create or update the rule; ``rule_actions``' refusals become the form's errors."""
    data = form.data_for_actions()
    try:
        if rule is None:
            rule_actions.create_rule(acting_user=actor, data=data)
        else:
            data["recipients"] += _kept_recipients(rule)
            rule_actions.update_rule(acting_user=actor, rule=rule, data=data)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            base = field.split(".")[0]
            target = base if base in form.fields else None
            for message in errors:
                form.add_error(target, f"{field}: {message}" if not target else message)
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def rule_form(request: HttpRequest, rule_id=None) -> HttpResponse:
    """Create or edit a rule (administrators); ``preview`` in the post shows who the
    rule as filled in would have reached, and saves nothing."""
    actor = require_admin(request)
    rule = (
        get_scoped_or_404(NotificationRule.objects.all(), actor, public_id=rule_id)
        if rule_id
        else None
    )
    preview = None
    if request.method == "POST":
        form = RuleForm(actor.organization, request.POST, rule=rule)
        if "preview" in request.POST:
            form.fields["name"].required = False  # an unnamed draft may be previewed
            if form.is_valid():
                data = form.data_for_actions()
                data["recipients"] += _kept_recipients(rule) if rule else []
                preview = preview_rule(actor.organization, data)
        elif form.is_valid() and _save(request, actor, form, rule):
            messages.success(request, _("The rule is saved."))
            return redirect("web:notification-rules")
    else:
        form = RuleForm(actor.organization, initial=_initial(rule) if rule else None, rule=rule)
    selected = (
        form.data.getlist("event_types") if form.is_bound else form.initial.get("event_types", [])
    )
    tokens = tokens_of(list(selected or []), form.types)
    descriptions = {name: t.description for name, t in form.types.items()}
    context = {
        "form": form,
        "event_type_rows": [
            (choice, descriptions.get(choice.data["value"]) or _family_words(choice.data["value"]))
            for choice in form["event_types"]
        ],
        "token_choices": [(name, token_label(t)) for name, t in sorted(tokens.items())],
        "token_names": set(tokens),
        "empty_row": {"token": "", "op": "eq", "value": ""},
        "rule": rule,
        "preview": preview,
        "operators": OPERATORS,
        "rows": form.condition_rows(),
        "builder": form.builder_data(),
    }
    return render(request, "web/notifications/rule_form.html", context)


@login_required
@require_POST
def rule_delete(request: HttpRequest, rule_id) -> HttpResponse:
    """Delete a rule (administrators)."""
    actor = require_admin(request)
    rule = get_scoped_or_404(NotificationRule.objects.all(), actor, public_id=rule_id)
    rule_actions.delete_rule(acting_user=actor, rule=rule)
    messages.success(request, _("The rule is deleted."))
    return redirect("web:notification-rules")


patterns = [
    path("rules/", rule_list, name="notification-rules"),
    path("rules/new", rule_form, name="notification-rule-new"),
    path("rules/<uuid:rule_id>/", rule_form, name="notification-rule-edit"),
    path("rules/<uuid:rule_id>/delete", rule_delete, name="notification-rule-delete"),
]
