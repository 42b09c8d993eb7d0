from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from sofno.core.models import Organization


class Command(BaseCommand):
    help = "Manage organizations (tenants)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create an organization")
        create.add_argument("slug")
        create.add_argument("--name", required=True)
        create.add_argument("--timezone", default="UTC")
        sub.add_parser("list", help="list organizations")

    def handle(self, *args, action: str, **options):
        if action == "list":
            for org in Organization.objects.order_by("slug"):
                self.stdout.write(f"{org.slug}\t{org.name}")
            return
        slug = options["slug"]
        if Organization.objects.filter(slug=slug).exists():
            raise CommandError(f"an organization with slug {slug!r} exists already")
        org = Organization(slug=slug, name=options["name"], timezone=options["timezone"])
        org.full_clean()
        with transaction.atomic():
            org.save()
        self.stdout.write(f"created organization {org.slug} ({org.public_id})")
