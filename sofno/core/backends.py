"""Sign-in by the name people chose, which is unique per organization only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from sofno.core.middleware import SESSION_ORG_KEY
from sofno.core.usernames import candidates, organization_pk_of_handle

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class SignInNameBackend(ModelBackend):
    """Django's ``ModelBackend`` for names that several organizations may hold.

    - The typed name stands for the account with that handle and those with handles
      ``name~…`` (see :mod:`sofno.core.usernames`), at most ``MAX_CANDIDATES``.
    - Each candidate's password is checked; when none exists the hasher still runs
      once, as ``ModelBackend`` does, so an unknown name costs about the same.
    - When several passwords match, the account signed in most recently wins.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        found = candidates(username)
        if not found:
            get_user_model()().set_password(password)
            return None
        # Every candidate is checked (no early return), so the first match does not
        # answer faster than the last.
        matched = [u for u in found if u.check_password(password)]
        allowed = [u for u in matched if self.user_can_authenticate(u)]
        return allowed[0] if allowed else None  # candidates come most recent first

    async def aauthenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        return await sync_to_async(self.authenticate)(request, username, password, **kwargs)


def enter_own_organization(sender: Any, request: HttpRequest | None, user: Any, **_: Any) -> None:
    """``user_logged_in`` receiver: an account made as ``name~<pk>`` acts in that
    organization from the start (others keep their first, as before)."""
    if request is None or not hasattr(request, "session"):
        return
    pk = organization_pk_of_handle(user.get_username())
    if pk is not None and user.memberships.filter(organization_id=pk).exists():
        request.session[SESSION_ORG_KEY] = pk
