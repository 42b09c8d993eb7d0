"""``sofno org``: create and list organizations (tenants).

``org create`` on a fresh data directory sets the database up first (migrations),
so a newcomer's first command works.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.management.base import CommandError, CommandParser

from sofno.core.management.options import DataCommand

if TYPE_CHECKING:
    from django.core.exceptions import ValidationError


def validation_message(exc: ValidationError) -> str:
    """``field: message`` lines from a model's ``full_clean`` error."""
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(message for error in errors for message in error.messages)}"
            for field, errors in exc.error_dict.items()
        )
    return " ".join(exc.messages)


class Command(DataCommand):
    help = "Manage organizations (tenants): org create SLUG --name NAME, org list."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser(
            "create", help="create an organization (sets up a fresh database first)"
        )
        create.add_argument("slug", help="short name used in URLs and commands, e.g. acme")
        create.add_argument("--name", required=True, help="display name")
        create.add_argument("--timezone", default="UTC", help="IANA timezone, e.g. Europe/Rome")
        sub.add_parser("list", help="list organizations")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        # Imported here: ``sofno COMMAND --help`` answers without loading the models.
        from django.core.exceptions import ValidationError
        from django.db import transaction

        from sofno.core.management.options import require_database
        from sofno.core.models import Organization

        if action == "list":
            require_database()
            for org in Organization.objects.order_by("slug"):
                self.stdout.write(f"{org.slug}\t{org.name}")
            return
        self._set_up_a_fresh_database()
        slug = options["slug"]
        if Organization.objects.filter(slug=slug).exists():
            raise CommandError(f"an organization with slug {slug!r} exists already")
        org = Organization(slug=slug, name=options["name"], timezone=options["timezone"])
        try:
            org.full_clean()
            _check_timezone(org.timezone)
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from None
        with transaction.atomic():
            org.save()
        self.stdout.write(f"created organization {org.slug} ({org.public_id})")

    def _set_up_a_fresh_database(self) -> None:
        """Migrate an empty database; refuse one that is half way through an upgrade.

        Upgrading a database in use is the operator's decision (``sofno manage
        migrate`` while the servers are stopped), not a side effect of adding a tenant.
        """
        from django.core.management import call_command

        from sofno.core.management.options import pending_migrations, require_database

        started, pending = pending_migrations()
        if started:
            if pending:
                require_database()  # explains and refuses
            return
        self.stdout.write(f"setting up the new database ({pending} migrations)")
        call_command("migrate", interactive=False, verbosity=0)


def _check_timezone(name: str) -> None:
    # Organization.timezone has no field validator (core/models.py); check it here so
    # a typo fails now rather than in every schedule later.
    from django.core.exceptions import ValidationError

    from sofno.core.validators import validate_timezone_field

    try:
        validate_timezone_field(name)
    except ValidationError as exc:
        raise ValidationError({"timezone": exc.messages}) from None
