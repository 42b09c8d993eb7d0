"""What every settings page shares: who may change settings, and turning an action's
refusal into a page's answer (a 403, or errors beside the fields they name)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from sofno.core.access import Actor
from sofno.core.access import PermissionDenied as ActionDenied
from sofno.web.access import require_actor


def require_settings_admin(request: HttpRequest) -> Actor:
    """The actor when it may change the organization's settings (owner or admin); 403 else."""
    actor = require_actor(request)
    if not actor.is_admin:
        raise PermissionDenied(_("Only an owner or admin may change this."))
    return actor


@contextmanager
def action_denied_as_403() -> Iterator[None]:
    """An action's own refusal (``owner_only``, ``admin_only``...) answered as a 403 page."""
    try:
        yield
    except ActionDenied as exc:
        raise PermissionDenied(exc.message) from None


def posted(request: HttpRequest):
    """The form data of a POST (even an empty one, so its fields say they are
    required), ``None`` otherwise; ``request.POST or None`` would treat an empty
    POST as a first visit."""
    return request.POST if request.method == "POST" else None


def style(form: forms.Form) -> None:
    """Bootstrap classes on every widget of ``form``."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs.setdefault("class", css)


SECTIONS = (
    (
        "web:settings-members",
        gettext_lazy("Members and roles"),
        gettext_lazy("Who works in this organization, with which role; invite people by email."),
        False,
    ),
    (
        "web:settings-api-keys",
        gettext_lazy("API keys"),
        gettext_lazy("Keys that let other programs use the API; owners and admins only."),
        True,
    ),
    (
        "web:settings-event-types",
        gettext_lazy("Custom event types"),
        gettext_lazy(
            "Event types of your own systems (billing, CRM...) and the tokens they carry."
        ),
        False,
    ),
    (
        "web:settings-consumers",
        gettext_lazy("Pull consumers"),
        gettext_lazy("Programs that read the event log in order and remember how far they got."),
        False,
    ),
    (
        "web:settings-triggers",
        gettext_lazy("Time triggers"),
        gettext_lazy("Emit an event some time after another one arrives."),
        False,
    ),
)

# Settings pages other areas own, linked from here when they exist.
ELSEWHERE = (
    ("web:monitoring-settings", gettext_lazy("Monitoring")),
    ("web:oncall-settings", gettext_lazy("On call")),
    ("web:ticket-settings", gettext_lazy("Tickets")),
    ("web:webhook-list", gettext_lazy("Webhooks")),
)


def _elsewhere() -> list[dict[str, str]]:
    found = []
    for name, title in ELSEWHERE:
        try:
            found.append({"url": reverse(name), "title": title})
        except NoReverseMatch:
            continue
    return found


@login_required
@require_GET
def settings_index(request: HttpRequest) -> HttpResponse:
    """Every settings page, with one line about each."""
    actor = require_actor(request)
    sections = [
        {"url": reverse(name), "title": title, "about": about}
        for name, title, about, admins_only in SECTIONS
        if actor.is_admin or not admins_only
    ]
    context = {"sections": sections, "elsewhere": _elsewhere()}
    return render(request, "web/settings/index.html", context)


patterns = [path("", settings_index, name="settings")]
