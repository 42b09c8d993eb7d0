"""API keys: the list, a new key (shown once, on the answer to the form), revocation.

Keys are sensitive: every page here is for owners and admins only.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sofno.core import actions
from sofno.core.access import get_scoped_or_404
from sofno.core.models import ApiKey
from sofno.web.forms import act
from sofno.web.views.settings_common import (
    action_denied_as_403,
    posted,
    require_settings_admin,
    style,
)


class ApiKeyForm(forms.Form):
    """A new key's name and whether it may only read."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    read_only = forms.BooleanField(
        label=gettext_lazy("Read only"),
        required=False,
        help_text=gettext_lazy("The key may read but never change anything."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        style(self)


@login_required
@require_GET
def api_key_list(request: HttpRequest) -> HttpResponse:
    """Every key of the organization, live ones first."""
    actor = require_settings_admin(request)
    keys = ApiKey.objects.filter(organization=actor.organization).select_related("created_by")
    keys = keys.order_by("revoked_at", "-created_at")
    return render(request, "web/settings/api_keys.html", {"keys": keys})


@login_required
@require_http_methods(["GET", "POST"])
def api_key_new(request: HttpRequest) -> HttpResponse:
    """Make a key; its plain text appears on this one answer and is never stored."""
    actor = require_settings_admin(request)
    form = ApiKeyForm(posted(request))
    if request.method == "POST" and form.is_valid():
        issued = act(form, lambda: actions.issue_api_key(acting_user=actor, **form.cleaned_data))
        if issued.ok:
            key, plain = issued.value
            response = render(
                request, "web/settings/api_key_created.html", {"key": key, "plain": plain}
            )
            response["Cache-Control"] = "no-store"  # never kept by the browser's cache
            return response
    return render(request, "web/settings/api_key_form.html", {"form": form})


@login_required
@require_POST
def api_key_revoke(request: HttpRequest, public_id: str) -> HttpResponse:
    """Revoke a key at once."""
    actor = require_settings_admin(request)
    key = get_scoped_or_404(ApiKey.objects.all(), actor, public_id=public_id)
    with action_denied_as_403():
        changed = actions.revoke_api_key(acting_user=actor, key=key)
    if changed:
        messages.success(request, _("Key “%(name)s” revoked.") % {"name": key.name})
    else:
        messages.info(request, _("That key was revoked already."))
    return redirect("web:settings-api-keys")


patterns = [
    path("api-keys/", api_key_list, name="settings-api-keys"),
    path("api-keys/new/", api_key_new, name="settings-api-key-new"),
    path("api-keys/<uuid:public_id>/revoke/", api_key_revoke, name="settings-api-key-revoke"),
]
