"""Custom event types (with their tokens), pull consumers and time triggers.

Staff read these lists; owners and admins change them. The rules live in
``sofno.events.actions``; the forms check first what a person can get wrong, so the
answer names the field in the reader's language.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sofno.core.access import Actor, get_scoped_or_404
from sofno.events import actions, catalog
from sofno.events.event_types import TEMPLATE_CATALOGS
from sofno.events.models import Consumer, CustomEventType, TimeTrigger, TimezoneSource
from sofno.web.access import require_actor
from sofno.web.forms import act
from sofno.web.views.settings_common import (
    action_denied_as_403,
    posted,
    require_settings_admin,
    style,
)

TOKEN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
TYPE_FILTER = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z0-9_]+)*(\.\*)?)$")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _type_choices(actor: Actor) -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(catalog.for_organization(actor.organization))]


# --- forms -----------------------------------------------------------------------


class EventTypeForm(forms.Form):
    """A custom event type; tokens one per line: ``name | type | description | example``."""

    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        validators=[
            RegexValidator(
                catalog.NAME_PATTERN,
                gettext_lazy("Use lower-case words joined by dots, e.g. invoice.overdue."),
            )
        ],
        help_text=gettext_lazy("Lower-case words joined by dots, e.g. invoice.overdue."),
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=500, required=False)
    category = forms.CharField(label=gettext_lazy("Category"), max_length=60, required=False)
    tokens = forms.CharField(
        label=gettext_lazy("Tokens"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy(
            "One per line: name | type | description | example. Types: string, integer, "
            "number, boolean, datetime, object, array."
        ),
    )

    def __init__(self, *args: Any, actor: Actor, custom: CustomEventType | None, **kw) -> None:
        super().__init__(*args, **kw)
        self.actor, self.custom = actor, custom
        if custom is not None:  # the name stays: events already carry it
            self.fields["name"].disabled = True
        style(self)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if self.custom is None:
            if catalog.builtin(name):
                raise ValidationError(_("%(name)s is a built-in type."), params={"name": name})
            mine = CustomEventType.objects.filter(organization=self.actor.organization, name=name)
            if mine.exists():
                raise ValidationError(_("%(name)s exists already."), params={"name": name})
        return name

    def clean_tokens(self) -> list[dict[str, Any]]:
        tokens = []
        for line in _lines(self.cleaned_data["tokens"]):
            parts = [part.strip() for part in line.split("|")]
            name, kind = parts[0], (parts[1] if len(parts) > 1 and parts[1] else "string")
            if not TOKEN_NAME.match(name) or len(name) > 100:
                raise ValidationError(
                    _("“%(line)s”: the name may hold letters, digits, _ and dots."),
                    params={"line": line},
                )
            if kind not in catalog.TOKEN_TYPES:
                raise ValidationError(
                    _("“%(line)s”: the type is one of %(types)s."),
                    params={"line": line, "types": ", ".join(catalog.TOKEN_TYPES)},
                )
            description = parts[2] if len(parts) > 2 else ""
            example = "|".join(parts[3:]) if len(parts) > 3 else None
            tokens.append(
                {"name": name, "type": kind, "description": description[:300], "example": example}
            )
        return tokens

    @staticmethod
    def initial_for(custom: CustomEventType) -> dict[str, Any]:
        def line(token: dict[str, Any]) -> str:
            parts = [token.get("name", ""), token.get("type", "string")]
            parts.append(token.get("description") or "")
            if token.get("example") not in (None, ""):
                parts.append(str(token["example"]))
            return " | ".join(parts).rstrip(" |")

        return {
            "name": custom.name,
            "description": custom.description,
            "category": custom.category,
            "tokens": "\n".join(line(t) for t in custom.tokens or []),
        }


class ConsumerForm(forms.Form):
    """A pull consumer: its name, the event types it reads, and where it stands."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    event_types = forms.CharField(
        label=gettext_lazy("Event types"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "One per line, e.g. invoice.* or device.offline. Empty: every type."
        ),
    )
    cursor = forms.IntegerField(
        label=gettext_lazy("Position in the log"),
        required=False,
        min_value=0,
        help_text=gettext_lazy("Empty on a new consumer: start from the newest event."),
    )

    def __init__(self, *args: Any, actor: Actor, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.actor = actor
        style(self)

    def clean_event_types(self) -> list[str]:
        patterns = _lines(self.cleaned_data["event_types"])
        for pattern in patterns:
            if not TYPE_FILTER.match(pattern):
                raise ValidationError(
                    _("“%(type)s” is not an event type or a pattern like invoice.*."),
                    params={"type": pattern},
                )
        unknown = catalog.unknown_patterns(self.actor.organization, patterns)
        if unknown:
            raise ValidationError(_("Unknown event type %(type)s."), params={"type": unknown[0]})
        return patterns


class TriggerForm(forms.Form):
    """When one event arrives, emit another later."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    source_type = forms.ChoiceField(label=gettext_lazy("When this event arrives"))
    timestamp_token = forms.CharField(
        label=gettext_lazy("Timestamp token"),
        max_length=100,
        required=False,
        help_text=gettext_lazy(
            "The event's field holding the reference time; empty: when the event happened."
        ),
    )
    offset_minutes = forms.IntegerField(
        label=gettext_lazy("Offset (minutes)"),
        initial=0,
        min_value=-525600,
        max_value=525600,
        help_text=gettext_lazy("Minutes after the reference time; negative for before."),
    )
    at_local_time = forms.TimeField(
        label=gettext_lazy("At local time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=gettext_lazy("Optional: move to the next time of day like this."),
    )
    timezone_source = forms.ChoiceField(
        label=gettext_lazy("Timezone"), choices=TimezoneSource.choices
    )
    timezone = forms.ChoiceField(label=gettext_lazy("Fixed timezone"), required=False)
    emit_type = forms.ChoiceField(label=gettext_lazy("Emit this event"))
    enabled = forms.BooleanField(label=gettext_lazy("Enabled"), required=False, initial=True)

    def __init__(self, *args: Any, actor: Actor, **kw: Any) -> None:
        super().__init__(*args, **kw)
        types = [("", "—"), *_type_choices(actor)]  # a person picks; no silent default
        self.fields["source_type"].choices = types
        self.fields["emit_type"].choices = types
        zones = sorted(available_timezones())
        self.fields["timezone"].choices = [("", "—")] + [(z, z) for z in zones]
        style(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        source, emitted = data.get("source_type"), data.get("emit_type")
        if source and source == emitted:
            self.add_error("emit_type", _("Choose another event than the one that starts it."))
        if data.get("timezone_source") == TimezoneSource.FIXED and not data.get("timezone"):
            self.add_error("timezone", _("Choose the fixed timezone."))
        return data


# --- one list/form/delete flow for the three kinds --------------------------------


def _save(form: forms.Form, save) -> Model | None:
    return act(form, save).value


def _edit_page(
    request: HttpRequest,
    *,
    form: forms.Form,
    save,
    obj: Model | None,
    kind: dict[str, Any],
) -> HttpResponse:
    if request.method == "POST" and form.is_valid() and _save(form, save) is not None:
        messages.success(request, kind["saved"])
        return redirect(kind["list"])
    context = {"form": form, "obj": obj, "kind": kind}
    return render(request, "web/settings/events_form.html", context)


def _delete(request: HttpRequest, model: type[Model], public_id: str, remove, kind) -> HttpResponse:
    actor = require_actor(request)
    obj = get_scoped_or_404(model.objects.all(), actor, public_id=public_id)
    actor = require_settings_admin(request)
    with action_denied_as_403():
        remove(actor, obj)
    messages.success(request, _("“%(name)s” deleted.") % {"name": obj})
    return redirect(kind["list"])


EVENT_TYPE = {
    "title": gettext_lazy("Custom event types"),
    "list": "web:settings-event-types",
    "new_title": gettext_lazy("New event type"),
    "edit_title": gettext_lazy("Edit event type"),
    "saved": gettext_lazy("Event type saved."),
}
CONSUMER = {
    "title": gettext_lazy("Pull consumers"),
    "list": "web:settings-consumers",
    "new_title": gettext_lazy("New pull consumer"),
    "edit_title": gettext_lazy("Edit pull consumer"),
    "saved": gettext_lazy("Pull consumer saved."),
}
TRIGGER = {
    "title": gettext_lazy("Time triggers"),
    "list": "web:settings-triggers",
    "new_title": gettext_lazy("New time trigger"),
    "edit_title": gettext_lazy("Edit time trigger"),
    "saved": gettext_lazy("Time trigger saved."),
}


# --- custom event types ----------------------------------------------------------


# Ready-made sets of custom types, by the name the events app gives them.
CATALOG_TITLES = {"billing": gettext_lazy("Billing and subscriptions")}


@login_required
@require_GET
def event_type_list(request: HttpRequest) -> HttpResponse:
    """The organization's own event types and their tokens."""
    actor = require_actor(request)
    types = CustomEventType.objects.filter(organization=actor.organization)
    sets = [(name, CATALOG_TITLES.get(name, name)) for name in TEMPLATE_CATALOGS]
    return render(request, "web/settings/event_types.html", {"types": types, "sets": sets})


@login_required
@require_POST
def event_type_install(request: HttpRequest) -> HttpResponse:
    """Add a ready-made set of custom types; names the organization has already stay."""
    actor = require_settings_admin(request)
    name = request.POST.get("catalog", "")
    if name not in TEMPLATE_CATALOGS:
        messages.error(request, _("Choose one of the ready-made sets."))
        return redirect("web:settings-event-types")
    with action_denied_as_403():
        created = actions.install_catalog(acting_user=actor, name=name)
    messages.success(request, _("%(count)d event types added.") % {"count": len(created)})
    return redirect("web:settings-event-types")


@login_required
@require_http_methods(["GET", "POST"])
def event_type_new(request: HttpRequest) -> HttpResponse:
    """Add a custom event type."""
    actor = require_settings_admin(request)
    form = EventTypeForm(posted(request), actor=actor, custom=None)
    save = lambda: actions.create_custom_type(acting_user=actor, fields=form.cleaned_data)  # noqa: E731
    return _edit_page(request, form=form, save=save, obj=None, kind=EVENT_TYPE)


@login_required
@require_http_methods(["GET", "POST"])
def event_type_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    """Change a custom type's description, category and tokens."""
    actor = require_actor(request)
    custom = get_scoped_or_404(CustomEventType.objects.all(), actor, public_id=public_id)
    actor = require_settings_admin(request)
    form = EventTypeForm(
        posted(request), actor=actor, custom=custom, initial=EventTypeForm.initial_for(custom)
    )

    def save() -> CustomEventType:
        fields = {k: v for k, v in form.cleaned_data.items() if k != "name"}
        return actions.update_custom_type(acting_user=actor, custom=custom, fields=fields)

    return _edit_page(request, form=form, save=save, obj=custom, kind=EVENT_TYPE)


@login_required
@require_POST
def event_type_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    """Remove a custom type (recorded events keep their type name)."""

    def remove(actor: Actor, custom: CustomEventType) -> None:
        actions.delete_custom_type(acting_user=actor, custom=custom)

    return _delete(request, CustomEventType, public_id, remove, EVENT_TYPE)


# --- pull consumers --------------------------------------------------------------


@login_required
@require_GET
def consumer_list(request: HttpRequest) -> HttpResponse:
    """Every pull consumer with where it stands in the log."""
    actor = require_actor(request)
    consumers = Consumer.objects.filter(organization=actor.organization)
    return render(request, "web/settings/consumers.html", {"consumers": consumers})


@login_required
@require_http_methods(["GET", "POST"])
def consumer_new(request: HttpRequest) -> HttpResponse:
    """Add a pull consumer."""
    actor = require_settings_admin(request)
    form = ConsumerForm(posted(request), actor=actor)
    save = lambda: actions.save_consumer(acting_user=actor, fields=dict(form.cleaned_data))  # noqa: E731
    return _edit_page(request, form=form, save=save, obj=None, kind=CONSUMER)


@login_required
@require_http_methods(["GET", "POST"])
def consumer_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    """Rename a consumer, change its types, or move its position."""
    actor = require_actor(request)
    consumer = get_scoped_or_404(Consumer.objects.all(), actor, public_id=public_id)
    actor = require_settings_admin(request)
    initial = {
        "name": consumer.name,
        "event_types": "\n".join(consumer.event_types or []),
        "cursor": consumer.cursor,
    }
    form = ConsumerForm(posted(request), actor=actor, initial=initial)

    def save() -> Consumer:
        fields = dict(form.cleaned_data)
        return actions.save_consumer(acting_user=actor, fields=fields, consumer=consumer)

    return _edit_page(request, form=form, save=save, obj=consumer, kind=CONSUMER)


@login_required
@require_POST
def consumer_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    """Delete a pull consumer."""

    def remove(actor: Actor, consumer: Consumer) -> None:
        actions.delete_consumer(acting_user=actor, consumer=consumer)

    return _delete(request, Consumer, public_id, remove, CONSUMER)


# --- time triggers ---------------------------------------------------------------


def offset_in_words(minutes: int) -> str:
    """``4410`` → "3 days 1 hour 30 minutes later"; ``-60`` → "1 hour before"; 0 → "at once"."""
    if not minutes:
        return _("at once")
    days, rest = divmod(abs(minutes), 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [
        ngettext("%(n)d day", "%(n)d days", days) % {"n": days} if days else "",
        ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours} if hours else "",
        ngettext("%(n)d minute", "%(n)d minutes", mins) % {"n": mins} if mins else "",
    ]
    span = " ".join(part for part in parts if part)
    if minutes > 0:
        return _("%(span)s later") % {"span": span}
    return _("%(span)s before") % {"span": span}


@login_required
@require_GET
def trigger_list(request: HttpRequest) -> HttpResponse:
    """Every time trigger in words."""
    actor = require_actor(request)
    triggers = list(TimeTrigger.objects.filter(organization=actor.organization))
    for trigger in triggers:
        trigger.offset_words = offset_in_words(trigger.offset_minutes)
    return render(request, "web/settings/triggers.html", {"triggers": triggers})


def _trigger_fields(form: TriggerForm) -> dict[str, Any]:
    fields = dict(form.cleaned_data)
    fields["timezone"] = fields.get("timezone") or ""
    return fields


@login_required
@require_http_methods(["GET", "POST"])
def trigger_new(request: HttpRequest) -> HttpResponse:
    """Add a time trigger."""
    actor = require_settings_admin(request)
    form = TriggerForm(posted(request), actor=actor)
    save = lambda: actions.save_trigger(acting_user=actor, fields=_trigger_fields(form))  # noqa: E731
    return _edit_page(request, form=form, save=save, obj=None, kind=TRIGGER)


@login_required
@require_http_methods(["GET", "POST"])
def trigger_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    """Change a time trigger."""
    actor = require_actor(request)
    trigger = get_scoped_or_404(TimeTrigger.objects.all(), actor, public_id=public_id)
    actor = require_settings_admin(request)
    names = [field for field in TriggerForm.base_fields]
    form = TriggerForm(
        posted(request), actor=actor, initial={n: getattr(trigger, n) for n in names}
    )

    def save() -> TimeTrigger:
        fields = _trigger_fields(form)
        return actions.save_trigger(acting_user=actor, fields=fields, trigger=trigger)

    return _edit_page(request, form=form, save=save, obj=trigger, kind=TRIGGER)


@login_required
@require_POST
def trigger_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    """Delete a time trigger and its pending firings."""

    def remove(actor: Actor, trigger: TimeTrigger) -> None:
        actions.delete_trigger(acting_user=actor, trigger=trigger)

    return _delete(request, TimeTrigger, public_id, remove, TRIGGER)


patterns = [
    path("event-types/", event_type_list, name="settings-event-types"),
    path("event-types/new/", event_type_new, name="settings-event-type-new"),
    path("event-types/install/", event_type_install, name="settings-event-type-install"),
    path("event-types/<uuid:public_id>/", event_type_edit, name="settings-event-type-edit"),
    path(
        "event-types/<uuid:public_id>/delete/",
        event_type_delete,
        name="settings-event-type-delete",
    ),
    path("consumers/", consumer_list, name="settings-consumers"),
    path("consumers/new/", consumer_new, name="settings-consumer-new"),
    path("consumers/<uuid:public_id>/", consumer_edit, name="settings-consumer-edit"),
    path("consumers/<uuid:public_id>/delete/", consumer_delete, name="settings-consumer-delete"),
    path("triggers/", trigger_list, name="settings-triggers"),
    path("triggers/new/", trigger_new, name="settings-trigger-new"),
    path("triggers/<uuid:public_id>/", trigger_edit, name="settings-trigger-edit"),
    path("triggers/<uuid:public_id>/delete/", trigger_delete, name="settings-trigger-delete"),
]
