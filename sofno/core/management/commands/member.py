"""``sofno member``: add, list and remove an organization's people.

sofno member add USERNAME --email E [--role agent] [--name "Full Name"] [--password P]
sofno member list
sofno member remove USERNAME
sofno member password USERNAME [--password P]

Without ``--password`` a one-time password is generated and printed once; the person
changes it after signing in. USERNAME is the sign-in name, unique in the organization
(``--org``) only: two organizations may each have a "giulia".
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from django.core.management.base import CommandError, CommandParser

from sofno.core.management.options import DataCommand, add_org_option, find_organization
from sofno.core.usernames import members_named, sign_in_name, sign_in_name_expression

if TYPE_CHECKING:  # the models load in handle: --help answers without them
    from sofno.core.access import Actor

ROLES = ["owner", "admin", "agent", "viewer"]  # sofno.core.models.Role, minus customer users


class Command(DataCommand):
    help = "Manage an organization's members: member add|list|remove|password."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add a person (prints a one-time password)")
        add.add_argument("username", help="sign-in name, e.g. giulia")
        add.add_argument("--email", required=True, help="where notifications go")
        add.add_argument("--role", default="agent", choices=ROLES, help="default: agent")
        add.add_argument("--name", default="", help='full name, e.g. "Giulia Rossi"')
        add.add_argument(
            "--password", help="their password (default: a one-time password, printed once)"
        )
        listing = sub.add_parser("list", help="list members: username, role, email, name")
        remove = sub.add_parser("remove", help="end a person's membership")
        remove.add_argument("username")
        password = sub.add_parser(
            "password", help="set a person's password (prints a one-time password)"
        )
        password.add_argument("username")
        password.add_argument("--password", help="the new password (default: a one-time one)")
        add_org_option(parser, add, listing, remove, password)

    def handle(self, *args: Any, action: str, org: str | None, **options: Any) -> None:
        from django.core.exceptions import ValidationError

        from sofno.core.access import Actor, PermissionDenied
        from sofno.core.models import Role

        actor = Actor(organization=find_organization(org), role=Role.OWNER)
        try:
            getattr(self, f"_{action}")(actor, **options)
        except ValidationError as exc:
            from sofno.core.management.commands.org import validation_message

            raise CommandError(validation_message(exc)) from None
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None

    def _add(
        self,
        actor: Actor,
        *,
        username: str,
        email: str,
        role: str,
        name: str,
        password: str | None,
        **_: Any,
    ) -> None:
        from sofno.core.actions import create_member

        first, _space, last = name.strip().partition(" ")
        generated = password is None
        if generated:
            password = secrets.token_urlsafe(12)
        membership = create_member(
            acting_user=actor,
            fields={
                "username": username.strip(),
                "email": email.strip(),
                "first_name": first,
                "last_name": last.strip(),
                "role": role,
                "password": password,
            },
        )
        user = membership.user
        self.stdout.write(f"added {sign_in_name(user)} ({role}) to {actor.organization.slug}")
        if generated:
            # Printed once, never stored in clear: hand it over, then it is changed.
            self.stdout.write(f"one-time password: {password}")

    def _list(self, actor: Actor, **_: Any) -> None:
        from sofno.core.models import Membership

        members = Membership.objects.filter(organization=actor.organization).select_related("user")
        for membership in members.order_by(sign_in_name_expression("user__username")):
            user = membership.user
            self.stdout.write(
                f"{sign_in_name(user)}\t{membership.role}\t{user.email}\t{user.get_full_name()}"
            )

    def _remove(self, actor: Actor, *, username: str, **_: Any) -> None:
        from sofno.core.actions import remove_member

        membership = members_named(actor.organization, username).select_related("user").first()
        if membership is None:
            raise CommandError(f"{username!r} is not a member of {actor.organization.slug}")
        remove_member(acting_user=actor, membership=membership)
        self.stdout.write(f"removed {username} from {actor.organization.slug}")

    def _password(self, actor: Actor, *, username: str, password: str | None, **_: Any) -> None:
        from sofno.core.actions import set_member_password

        membership = members_named(actor.organization, username).select_related("user").first()
        if membership is None:
            raise CommandError(f"{username!r} is not a member of {actor.organization.slug}")
        generated = password is None
        new = secrets.token_urlsafe(12) if password is None else password
        set_member_password(acting_user=actor, membership=membership, password=new)
        self.stdout.write(f"password set for {username} in {actor.organization.slug}")
        if generated:
            self.stdout.write(f"one-time password: {new}")
