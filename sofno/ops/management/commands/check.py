"""``sofno check``: Django's system checks plus SOFNO's own configuration checks."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.core.management.commands.check import Command as DjangoCheck

from sofno.ops.configcheck import run_checks


class Command(DjangoCheck):
    help = (
        "Validate the configuration and the connections (database, migrations, queue) "
        "before start-up; says what is wrong in plain words and exits non-zero if anything is."
    )

    def handle(self, *app_labels, **options):
        super().handle(*app_labels, **options)
        problems = 0
        for probe in run_checks():
            mark = "ok  " if probe.ok else "FAIL"
            self.stdout.write(f"{mark} {probe.name}: {probe.detail}")
            problems += not probe.ok
        if problems:
            raise CommandError(f"{problems} problem(s) found; SOFNO should not start like this.")
        self.stdout.write("SOFNO configuration looks good.")
