"""A person's own pages: the profile, and which organization they act in."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from sofno.core.middleware import SESSION_ORG_KEY
from sofno.core.scoping import customer_access
from sofno.directory import actions
from sofno.directory.actions.profile import profile_of
from sofno.web.access import require_actor
from sofno.web.forms import ProfileForm, add_action_errors


@login_required
@require_http_methods(["GET", "POST"])
@customer_access
def profile(request: HttpRequest) -> HttpResponse:
    """Phone, timezone, language and quiet hours of the signed-in person."""
    actor = require_actor(request)
    # Every role, read-only ones included, may change their own profile.
    form = ProfileForm(request.POST or None, instance=profile_of(actor))
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in ProfileForm.Meta.fields}
        try:
            saved = actions.update_profile(acting_user=actor, fields=fields)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            # Answer in the language just chosen, not the one this request started in.
            translation.activate(saved.language)
            messages.success(request, _("Profile saved."))
            return redirect("web:profile")
    return render(request, "web/account/profile.html", {"form": form})


@login_required
@require_POST
@customer_access
def switch_organization(request: HttpRequest) -> HttpResponse:
    """Act in another organization the user is a member of (404 for any other)."""
    membership = (
        request.user.memberships.select_related("organization")
        .filter(organization__public_id=_uuid_or_404(request.POST.get("organization", "")))
        .first()
    )
    if membership is None:
        raise Http404("organization")
    request.session[SESSION_ORG_KEY] = membership.organization_id
    messages.success(
        request, _("Now working in %(name)s.") % {"name": membership.organization.name}
    )
    return redirect("web:dashboard")


def _uuid_or_404(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise Http404("organization") from None


patterns = [
    path("profile/", profile, name="profile"),
    path("organization/", switch_organization, name="switch-organization"),
]
