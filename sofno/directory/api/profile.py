"""The signed-in person's own staff profile."""

from django.http import HttpRequest
from ninja import Router

from sofno.core.api import ERRORS, actor
from sofno.core.scoping import customer_access
from sofno.directory import actions
from sofno.directory.actions.profile import profile_of
from sofno.directory.member_schemas import ProfileOut, ProfilePatch

router = Router(tags=["profile"])


@router.get("/me/profile", response={200: ProfileOut, **ERRORS})
@customer_access
def get_profile(request: HttpRequest):
    """Your phone, timezone, language and quiet hours (people only, not API keys)."""
    return profile_of(actor(request))


@router.patch("/me/profile", response={200: ProfileOut, **ERRORS})
@customer_access
def update_profile(request: HttpRequest, payload: ProfilePatch):
    """Change your own profile; quiet hours are weekly windows in your timezone."""
    return actions.update_profile(acting_user=actor(request), fields=payload.changes())
