"""Members and roles: the list, invitations by email, role changes and removal, and the
page an invitee opens from the emailed link."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sofno.core.access import Actor, get_scoped_or_404
from sofno.core.models import Membership, Role
from sofno.core.scoping import customer_access
from sofno.core.usernames import NAME_MAX_LENGTH, sign_in_name, sign_in_name_expression
from sofno.directory.actions import invitations, members
from sofno.directory.models import CustomerUser, Invitation
from sofno.directory.selectors import customers_for
from sofno.notify.channel_models import SmtpProfile
from sofno.notify.channels.base import Result
from sofno.notify.channels.email.sending import send_with_fallback
from sofno.notify.channels.email.smtp import Email
from sofno.web.access import require_actor
from sofno.web.forms import act, add_action_errors, searchable
from sofno.web.views.settings_common import (
    action_denied_as_403,
    posted,
    require_settings_admin,
    style,
)


def _role_choices(actor: Actor) -> list[tuple[str, str]]:
    # Only an owner may grant the owner role: others are not offered it.
    return [(value, label) for value, label in Role.choices if actor.is_owner or value != "owner"]


class RoleForm(forms.Form):
    """A role, and the customer a customer user sees (required for that role only)."""

    role = forms.ChoiceField(label=gettext_lazy("Role"))
    customer = forms.ChoiceField(
        label=gettext_lazy("Customer"),
        required=False,
        help_text=gettext_lazy("Only for a customer user: the one customer they see."),
    )

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(actor)
        customers = customers_for(actor).order_by("name").values_list("public_id", "name")
        self.fields["customer"].choices = [("", "—")] + [(str(p), n) for p, n in customers]
        searchable(self.fields["customer"])
        style(self)

    def action_fields(self) -> dict[str, Any]:
        """The cleaned values as the member actions take them."""
        return {
            "role": self.cleaned_data["role"],
            "customer": self.cleaned_data.get("customer") or None,
        }


class InviteForm(RoleForm):
    """Whom to invite, with which role."""

    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254)
    field_order = ["email", "role", "customer"]


class AcceptForm(forms.Form):
    """The invitee's new account."""

    username = forms.CharField(label=gettext_lazy("Username"), max_length=NAME_MAX_LENGTH)
    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=150, required=False)
    password = forms.CharField(label=gettext_lazy("Password"), widget=forms.PasswordInput)
    password_again = forms.CharField(
        label=gettext_lazy("Password again"), widget=forms.PasswordInput
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data


# --- members ---------------------------------------------------------------------


@login_required
@require_GET
def member_list(request: HttpRequest) -> HttpResponse:
    """Every member with their role (and customer), and the invitations still pending."""
    actor = require_actor(request)
    organization = actor.organization
    memberships = (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by(sign_in_name_expression("user__username"))
    )
    links = dict(
        CustomerUser.objects.filter(organization=organization).values_list(
            "user_id", "customer__name"
        )
    )
    rows = [{"membership": m, "customer": links.get(m.user_id)} for m in memberships]
    pending = Invitation.objects.filter(
        organization=organization, accepted_at__isnull=True
    ).select_related("customer", "invited_by")
    context = {"rows": rows, "pending": pending if actor.is_admin else []}
    return render(request, "web/settings/members.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def member_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    """Change a member's role (and the customer of a customer user)."""
    actor = require_actor(request)
    memberships = Membership.objects.select_related("user")
    membership = get_scoped_or_404(memberships, actor, public_id=public_id)
    actor = require_settings_admin(request)
    link = CustomerUser.objects.filter(organization=actor.organization, user=membership.user)
    customer = link.values_list("customer__public_id", flat=True).first()
    initial = {"role": membership.role, "customer": str(customer) if customer else ""}
    form = RoleForm(posted(request), actor=actor, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = act(
            form,
            lambda: members.update_member(
                acting_user=actor, membership=membership, fields=form.action_fields()
            ),
        )
        if saved.ok:
            messages.success(request, _("Role saved."))
            return redirect("web:settings-members")
    return render(
        request, "web/settings/member_form.html", {"form": form, "membership": membership}
    )


@login_required
@require_POST
def member_remove(request: HttpRequest, public_id: str) -> HttpResponse:
    """End a membership (the person can no longer act in this organization)."""
    actor = require_actor(request)
    memberships = Membership.objects.select_related("user")
    membership = get_scoped_or_404(memberships, actor, public_id=public_id)
    actor = require_settings_admin(request)
    try:
        with action_denied_as_403():
            members.remove_member(acting_user=actor, membership=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("%(name)s was removed.") % {"name": sign_in_name(membership.user)}
        )
    return redirect("web:settings-members")


# --- invitations -----------------------------------------------------------------


def send_invitation(invitation: Invitation, link: str) -> Result:
    """Mail the link through the organization's default SMTP profile."""
    organization = invitation.organization
    profile = SmtpProfile.objects.filter(organization=organization, is_default=True).first()
    expires = formats.date_format(invitation.expires_at, "DATETIME_FORMAT")
    context = {
        "invitation": invitation,
        "organization": organization,
        "link": link,
        "expires": expires,
        "role": invitation.get_role_display(),
    }
    email = Email(
        subject=_("You are invited to join %(organization)s") % {"organization": organization},
        text=render_to_string("web/settings/invitation_email.txt", context),
        to=[invitation.email],
    )
    return send_with_fallback(email, None, profile.smtp_settings() if profile else None)


@login_required
@require_http_methods(["GET", "POST"])
def invitation_new(request: HttpRequest) -> HttpResponse:
    """Invite someone by email; the page then says whether the email went out."""
    actor = require_settings_admin(request)
    form = InviteForm(posted(request), actor=actor, initial={"role": Role.AGENT})
    if request.method == "POST" and form.is_valid():
        fields = {**form.action_fields(), "email": form.cleaned_data["email"]}
        invited = act(form, lambda: invitations.invite(acting_user=actor, fields=fields))
        if invited.ok:
            invitation, token = invited.value
            link = request.build_absolute_uri(reverse("web:invitation-accept", args=[token]))
            result = send_invitation(invitation, link)
            context = {"invitation": invitation, "sent": result.ok, "link": link}
            response = render(request, "web/settings/invitation_sent.html", context)
            response["Cache-Control"] = "no-store"  # the link may be on this page
            return response
    context = {"form": form, "days": invitations.INVITATION_DAYS}
    return render(request, "web/settings/invitation_form.html", context)


@login_required
@require_POST
def invitation_withdraw(request: HttpRequest, public_id: str) -> HttpResponse:
    """Cancel a pending invitation."""
    actor = require_actor(request)
    invitation = get_scoped_or_404(Invitation.objects.all(), actor, public_id=public_id)
    actor = require_settings_admin(request)
    with action_denied_as_403():
        invitations.withdraw(acting_user=actor, invitation=invitation)
    messages.success(request, _("Invitation withdrawn."))
    return redirect("web:settings-members")


def _closed(request: HttpRequest) -> HttpResponse:
    return render(request, "web/settings/invitation_closed.html", status=410)


# Open to anyone holding the link (no sign-in); it reads only the invitation its token
# names, so a signed-in customer user may open one too.
@customer_access
@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invitee sets a username and password and becomes a member."""
    try:
        invitation = invitations.open_invitation(token)
    except invitations.InvitationClosed:
        return _closed(request)
    form = AcceptForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            membership = invitations.accept(token=token, fields=form.cleaned_data)
        except invitations.InvitationClosed:
            return _closed(request)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            login(request, membership.user, backend="sofno.core.backends.SignInNameBackend")
            messages.success(
                request,
                _("Welcome to %(organization)s.") % {"organization": invitation.organization},
            )
            return redirect("web:dashboard")
    context = {"form": form, "invitation": invitation, "invited_org": invitation.organization}
    return render(request, "web/settings/invitation_accept.html", context)


patterns = [
    path("members/", member_list, name="settings-members"),
    path("members/invite/", invitation_new, name="settings-invite"),
    path("members/<uuid:public_id>/", member_edit, name="settings-member-edit"),
    path("members/<uuid:public_id>/remove/", member_remove, name="settings-member-remove"),
    path(
        "invitations/<uuid:public_id>/withdraw/",
        invitation_withdraw,
        name="settings-invitation-withdraw",
    ),
]

public_patterns = [path("invite/<str:token>/", invitation_accept, name="invitation-accept")]
