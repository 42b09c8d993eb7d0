"""``sofno oncall``: plan turns, program the phone queue, move data in and out.

sofno oncall schedule --week 2026-11-23 [--org SLUG] [--time-limit S] [--publish]
sofno oncall queue show | set [--date D --time T] | pause EXT | resume EXT | add EXT
sofno oncall extensions show | load FILE.yaml
sofno oncall export [--week D] > team.yaml
sofno oncall import team.yaml [--create-members]

The models, the solver and the phone system are imported inside ``handle``: the
help answers without loading them (see ``sofno.cli``).
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import TYPE_CHECKING

from django.core.management.base import CommandError

from sofno.core.management.options import DataCommand, add_org_option, find_organization
from sofno.core.usernames import sign_in_name

if TYPE_CHECKING:
    from sofno.core.access import Actor


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date like 2026-11-23") from None


class Command(DataCommand):
    help = "On-call timetable and phone queue: schedule, queue, extensions, export, import."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        schedule = sub.add_parser("schedule", help="solve a week and keep it as a draft")
        schedule.add_argument("--week", required=True, help="any day of the week, YYYY-MM-DD")
        schedule.add_argument("--time-limit", type=float, help="seconds (default: settings)")
        schedule.add_argument("--publish", action="store_true", help="publish the draft too")
        q = sub.add_parser("queue", help="the phone queue")
        q.add_argument("action", choices=["show", "set", "pause", "resume", "add", "remove"])
        q.add_argument("extension", nargs="?", help="for pause, resume, add and remove")
        q.add_argument("--date", help="set: the turn of this date (default today)")
        q.add_argument("--time", help="set: the turn at this local time HH:MM (default now)")
        q.add_argument("--reason", default="", help="pause: why")
        ext = sub.add_parser("extensions", help="people's phone extensions")
        ext.add_argument("action", choices=["show", "load"])
        ext.add_argument("file", nargs="?", help="load: YAML mapping username -> extension")
        export = sub.add_parser("export", help="settings, people and timetables as YAML")
        export.add_argument("--week", action="append", help="only this week (repeatable)")
        imp = sub.add_parser("import", help="load a YAML document (all or nothing)")
        imp.add_argument("file", help="YAML file, or - for standard input")
        imp.add_argument(
            "--create-members",
            action="store_true",
            help="create the people the document names who are not members yet "
            "(agents without a password; their email from the document)",
        )
        add_org_option(parser, schedule, q, ext, export, imp)

    def handle(self, *args, what: str, org: str | None, **options):
        from django.core.exceptions import ValidationError

        from sofno.core.access import Actor
        from sofno.core.models import Role
        from sofno.oncall.telephony import TelephonyError

        actor = Actor(organization=find_organization(org), role=Role.OWNER)
        try:
            getattr(self, f"_{what}")(actor, **options)
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from None
        except TelephonyError as exc:
            raise CommandError(str(exc)) from None

    # -- schedule

    def _schedule(self, actor: Actor, *, week: str, time_limit, publish: bool, **_):
        from sofno.oncall import actions
        from sofno.oncall.explain import describe_gap
        from sofno.oncall.planning import monday_of

        day = _date(week)
        self.stdout.write(f"planning the week of {monday_of(day)} for {actor.organization.slug}")

        def progress(objective: int, bound: float, seconds: float) -> None:
            gap = (objective - bound) / objective if objective else 0.0
            self.stdout.write(
                f"  {seconds:6.2f}s  cost {objective:>8}  bound {bound:>10.1f}  gap {gap:6.2%}"
            )
            self.stdout.flush()

        timetable = actions.generate_draft(
            acting_user=actor, week=day, time_limit=time_limit, progress=progress
        )
        report = timetable.report
        self.stdout.write(
            f"{report['status']}: cost {report['objective']} in {report['seconds']}s, "
            f"{report['empty_lines']} empty lines"
        )
        for gap in report["unfilled"]:
            self.stdout.write(f"  {describe_gap(gap)}")
        for info in sorted(report["people"].values(), key=lambda i: i["name"]):
            self.stdout.write(
                f"  {info['name']:<20} {info['assigned']:>2}/{info['target']:<2} turns "
                f"(due {info['due']}, carried {info['carry']:+}) load {info['load']} "
                f"split {info['split']} prefers-not {info['soft_busy']} desk {info['desk']}"
            )
        if publish:
            actions.publish(acting_user=actor, timetable=timetable)
            self.stdout.write(f"published {timetable.public_id}")
        else:
            self.stdout.write(f"draft {timetable.public_id}")

    # -- queue

    def _provider(self, actor: Actor):
        from sofno.oncall.models import OncallSettings
        from sofno.oncall.telephony import provider_for

        conf = OncallSettings.for_org(actor.organization)
        provider = provider_for(conf.queue_name)
        if provider is None:
            raise CommandError("no phone system configured: set SOFNO_AMI_HOST and friends")
        return provider

    def _queue(self, actor: Actor, *, action: str, extension, date, time, reason, **_):
        from sofno.oncall import queue
        from sofno.oncall.models import Person

        provider = self._provider(actor)
        try:
            if action == "show":
                names = {
                    p.extension: p.name
                    for p in Person.objects.filter(organization=actor.organization).select_related(
                        "user"
                    )
                }
                members = provider.members()
                for member in members:
                    state = "paused" if member.paused else "ready"
                    who = names.get(member.extension, member.name)
                    self.stdout.write(f"{member.extension:<8} {state:<7} {who}")
                if not members:
                    self.stdout.write("the queue is empty")
            elif action == "set":
                moment = self._moment(actor, date, time)
                row = queue.program(actor.organization, moment, provider, manual=True)
                self.stdout.write(f"{row.status}: {row.detail} -> {', '.join(row.members) or '-'}")
            else:
                if not extension:
                    raise CommandError(f"queue {action} needs an extension")
                if action == "add":
                    person = Person.objects.filter(
                        organization=actor.organization, extension=extension
                    ).first()
                    provider.add(extension, person.name if person else "")
                elif action == "remove":
                    provider.remove(extension)
                else:
                    provider.pause(extension, action == "pause", reason)
                self.stdout.write(f"{action}: {extension}")
        finally:
            provider.close()

    def _moment(self, actor: Actor, date: str | None, time: str | None) -> dt.datetime:
        from zoneinfo import ZoneInfo

        from django.utils import timezone

        zone = ZoneInfo(actor.organization.timezone)
        now = timezone.now().astimezone(zone)
        day = _date(date) if date else now.date()
        if time:
            try:
                clock = dt.time.fromisoformat(time)
            except ValueError:
                raise CommandError(f"{time!r} is not a time like 09:30") from None
        else:
            clock = now.time()
        return dt.datetime.combine(day, clock, tzinfo=zone)

    # -- extensions, export, import

    def _extensions(self, actor: Actor, *, action: str, file, **_):
        import yaml

        from sofno.oncall import yamlio
        from sofno.oncall.models import Person

        if action == "show":
            people = Person.objects.filter(organization=actor.organization).select_related("user")
            for person in people.order_by("extension"):
                self.stdout.write(
                    f"{person.extension:<8} {sign_in_name(person.user):<20} {person.name}"
                )
            return
        if not file:
            raise CommandError("extensions load needs a YAML file")
        try:
            mapping = yaml.safe_load(_read(file)) or {}
        except yaml.YAMLError as exc:
            raise CommandError(f"{file} is not valid YAML: {exc}") from None
        if not isinstance(mapping, dict):
            raise CommandError("the file maps usernames to extensions, e.g. giulia: '201'")
        # Fields left out keep their values: only the extensions change.
        people = [
            {"username": str(username), "extension": str(extension)}
            for username, extension in mapping.items()
        ]
        counts = yamlio.import_yaml(acting_user=actor, text=yaml.safe_dump({"people": people}))
        self.stdout.write(f"loaded {counts['people']} extensions")

    def _export(self, actor: Actor, *, week, **_):
        from sofno.oncall import yamlio
        from sofno.oncall.planning import monday_of

        weeks = [monday_of(_date(w)) for w in week] if week else None
        self.stdout.write(yamlio.export_yaml(actor.organization, weeks), ending="")

    def _import(self, actor: Actor, *, file: str, create_members: bool, **_):
        from sofno.oncall import yamlio

        counts = yamlio.import_yaml(
            acting_user=actor, text=_read(file), create_members=create_members
        )
        self.stdout.write(", ".join(f"{n} {what}" for what, n in counts.items()))


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc}") from None


def _messages(exc) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)
