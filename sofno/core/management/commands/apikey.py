"""``sofno apikey``: create an organization's API key (printed once)."""

from __future__ import annotations

from typing import Any, cast

from django.core.management.base import CommandError, CommandParser

from sofno.core.management.options import DataCommand, add_org_option, find_organization


class Command(DataCommand):
    help = "Manage API keys. The key is printed once; only its hash is stored."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a key and print it once")
        create.add_argument("--name", required=True, help="what the key is for")
        create.add_argument("--read-only", action="store_true", help="the key may only read")
        add_org_option(parser, create)

    def handle(
        self, *args: Any, action: str, org: str | None, name: str, read_only: bool, **options: Any
    ) -> None:
        # Imported here: ``sofno COMMAND --help`` answers without loading the models.
        from django.db import transaction

        from sofno.core.access import Actor
        from sofno.core.models import ApiKey, Role

        organization = find_organization(org)
        name = name.strip()
        if not name or len(name) > cast(int, ApiKey._meta.get_field("name").max_length):
            raise CommandError("--name must be 1 to 100 characters")
        with transaction.atomic():
            key, plain = ApiKey.issue(organization, name, read_only=read_only)
            # Made on the command line: an owner's act with no user attached.
            Actor(organization=organization, role=Role.OWNER).audit(
                "api_key.created", key, name=name, read_only=read_only
            )
        self.stdout.write(plain)
