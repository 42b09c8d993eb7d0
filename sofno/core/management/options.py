"""What the ``sofno`` management commands share: ``--org`` anywhere, the database check,
the base of the commands that only work on data.

Imports nothing from the apps' models at module level: ``sofno COMMAND --help``
builds the parser without loading Django's applications (``sofno.cli``).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from django.core.management.base import BaseCommand, CommandError

if TYPE_CHECKING:
    from sofno.core.models import Organization

ORG_HELP = "organization slug (default: the only one)"


class DataCommand(BaseCommand):
    """A command that reads or changes data and starts nothing.

    Django's system checks are left to ``sofno check``, ``serve`` and ``worker``:
    they load the URL configuration, which builds the whole API, well over half the
    run time of a short command such as ``sofno member list``.
    """

    requires_system_checks: list[str] = []


def add_org_option(parser: argparse.ArgumentParser, *subparsers: argparse.ArgumentParser) -> None:
    """``--org SLUG`` before the subcommand or after it (``oncall schedule --org acme``).

    The subcommands' copies default to "not given" so they never overwrite a value
    given before the subcommand.
    """
    parser.add_argument("--org", help=ORG_HELP)
    for sub in subparsers:
        sub.add_argument("--org", default=argparse.SUPPRESS, help=ORG_HELP)


def find_organization(slug: str | None) -> Organization:
    """The organization ``slug`` names, or the only one when no slug is given."""
    from django.db import DatabaseError

    from sofno.core.models import Organization

    try:
        organizations = list(Organization.objects.filter(**({"slug": slug} if slug else {}))[:2])
    except DatabaseError:
        require_database()  # explains a database that is not set up
        raise
    if slug:
        if not organizations:
            raise CommandError(f"no organization {slug!r} (sofno org list shows them)")
        return organizations[0]
    if not organizations:
        raise CommandError("no organization yet: create one with sofno org create SLUG --name N")
    if len(organizations) != 1:
        raise CommandError("say which organization with --org SLUG")
    return organizations[0]


def pending_migrations() -> tuple[bool, int]:
    """(whether the database has SOFNO's tables at all, how many migrations are unapplied)."""
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return bool(executor.loader.applied_migrations), len(plan)


def require_database() -> None:
    """Refuse clearly (not "no such table") when the database is not set up.

    Called when a query failed, so a database that is ready pays nothing.
    """
    started, pending = pending_migrations()
    if not started:
        raise CommandError(
            "the database is empty: sofno org create SLUG --name NAME sets it up, "
            "or run sofno manage migrate"
        )
    if pending:
        raise CommandError(
            f"the database needs {pending} migration(s): run sofno manage migrate first"
        )
