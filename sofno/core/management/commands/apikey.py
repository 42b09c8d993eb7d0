from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from sofno.core.models import ApiKey, Organization


class Command(BaseCommand):
    help = "Manage API keys. The key is printed once; only its hash is stored."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a key and print it once")
        create.add_argument("--org", required=True, help="organization slug")
        create.add_argument("--name", required=True)
        create.add_argument("--read-only", action="store_true")

    def handle(self, *args, action: str, org: str, name: str, read_only: bool, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"no organization with slug {org!r}")
        _, plain = ApiKey.issue(organization, name, read_only=read_only)
        self.stdout.write(plain)
