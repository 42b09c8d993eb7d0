"""People's availability, timetables of phone turns, their edits, the queue and calls.

A week's timetable snapshots the organization's turns, days and lines when it is
made, so changing the configuration later never rewrites an old week.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone as django_tz
from django.utils.translation import gettext_lazy as _

from sofno.core.channels import REMINDER_CHANNELS, Channel, channel_choices
from sofno.core.http import UrlRefused, check_url
from sofno.core.modeling import CreatedAt, OrganizationOwned
from sofno.core.models import Organization
from sofno.core.usernames import sign_in_name, sign_in_name_expression
from sofno.core.validators import validate_phone
from sofno.oncall.solver import Weights
from sofno.oncall.turns import DAY_CODES, DEFAULT_TURNS, parse_turns


def new_feed_token() -> str:
    """A private calendar-feed token: unguessable, URL-safe, prefixed for recognition."""
    return "cal_" + secrets.token_urlsafe(24)


def default_turns() -> list[str]:
    return list(DEFAULT_TURNS)


def default_days() -> list[int]:
    return [0, 1, 2, 3, 4]


def default_weights() -> dict:
    return Weights().as_dict()


def validate_turns(value: list) -> None:
    try:
        parse_turns(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="turns") from None


def validate_days(value: list) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError(_("choose at least one weekday"), code="days")
    if any(not isinstance(d, int) or d < 0 or d > 6 for d in value) or len(set(value)) != len(
        value
    ):
        raise ValidationError(_("weekdays are distinct numbers 0 (Monday) to 6"), code="days")


def validate_weights(value: dict) -> None:
    try:
        Weights.from_dict(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(str(exc), code="weights") from None


def validate_closed_days(value: list) -> None:
    """A list of distinct ISO dates (``2026-12-25``): the organization's holidays."""
    if not isinstance(value, list):
        raise ValidationError(_("closed days are a list of dates like 2026-12-25"), code="dates")
    for item in value:
        try:
            # Exactly YYYY-MM-DD: fromisoformat alone would also take 20261225.
            valid = isinstance(item, str) and len(item) == 10 and bool(dt.date.fromisoformat(item))
        except ValueError:
            valid = False
        if not valid:
            raise ValidationError(
                _("%(value)s is not a date like 2026-12-25") % {"value": str(item)[:40]},
                code="dates",
            )
    if len(set(value)) != len(value):
        raise ValidationError(_("each closed day is listed once"), code="dates")


def validate_apprise_url(value: str) -> None:
    """An Apprise URL this server understands (Apprise loads only when one is saved)."""
    if not value:
        return
    import apprise

    if apprise.Apprise.instantiate(value) is None:
        raise ValidationError(_("not an Apprise URL this server understands"), code="apprise")


NO_REMINDER = "none"
# How a person hears that their turn starts: a reminder channel, or nothing.
REMINDER_CHOICES = [
    *channel_choices(REMINDER_CHANNELS, {Channel.INAPP: _("In-app bell")}),
    (NO_REMINDER, _("No reminder")),
]


class OncallSettings(models.Model):
    """An organization's turn layout, solver weights, phone queue and caller lookup."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="oncall_settings"
    )
    turns = models.JSONField(
        _("turns"),
        default=default_turns,
        validators=[validate_turns],
        help_text=_('Time ranges such as "09:00-10:15", in order, not overlapping.'),
    )
    days = models.JSONField(
        _("days"), default=default_days, validators=[validate_days], help_text=_("0 = Monday")
    )
    lines = models.PositiveSmallIntegerField(_("lines per turn"), default=7)
    lunch_pairs = models.JSONField(
        _("lunch rule"),
        default=list,
        blank=True,
        help_text=_("Pairs of turn numbers (from 0) nobody takes back to back, e.g. [[1, 2]]."),
    )
    weights = models.JSONField(
        _("penalty weights"), default=default_weights, blank=True, validators=[validate_weights]
    )
    time_budget = models.PositiveIntegerField(_("solver time budget (seconds)"), default=30)
    # Tomatic's rules, as options: each one a hard rule of every new draft.
    max_overload = models.PositiveSmallIntegerField(
        _("turns above the ideal load"),
        default=0,
        help_text=_(
            "The most turns a person may take above their ideal weekly load to fill lines "
            "(each one costs the overload penalty)."
        ),
    )
    max_per_desk = models.PositiveSmallIntegerField(
        _("people of one desk per turn"),
        null=True,
        blank=True,
        # 0 would keep everyone with a desk off the phones: "no cap" is empty.
        validators=[MinValueValidator(1)],
        help_text=_("At most this many people of one desk on the phones at once. Empty: no cap."),
    )
    no_split_days = models.BooleanField(
        _("no split days"),
        default=False,
        help_text=_("A person's turns of one day are always consecutive."),
    )
    max_empty_per_turn = models.PositiveSmallIntegerField(
        _("empty lines per turn"),
        null=True,
        blank=True,
        help_text=_(
            "At most this many lines of a turn left empty; a week that cannot keep it gets "
            "no draft. Empty: no cap."
        ),
    )
    closed_days = models.JSONField(
        _("organization holidays"),
        default=list,
        blank=True,
        validators=[validate_closed_days],
        help_text=_("Dates on which nobody is scheduled, e.g. 2026-12-25."),
    )
    program_queue = models.BooleanField(
        _("program the phone queue"),
        default=False,
        help_text=_("At each turn change the worker sets the queue members to that turn."),
    )
    queue_name = models.CharField(
        _("queue name"), max_length=80, blank=True, help_text=_("Empty: SOFNO_AMI_QUEUE.")
    )
    lookup_url = models.URLField(
        _("caller lookup URL"),
        blank=True,
        help_text=_("Called with ?phone=<E.164>; its JSON answer is shown with the caller."),
    )
    team_feed_token = models.CharField(max_length=64, default=new_feed_token, unique=True)
    team_message_url = models.CharField(
        _("team message (Apprise URL)"),
        max_length=500,
        blank=True,
        validators=[validate_apprise_url],
        help_text=_(
            "At the start of each turn, who is on the phones now goes to this chat room "
            "(any Apprise URL: slack://, msteams://, tgram://, ...). Empty: no team message."
        ),
    )

    class Meta:
        verbose_name = _("on-call settings")
        verbose_name_plural = _("on-call settings")

    def __str__(self) -> str:
        return f"on-call settings of {self.organization}"

    def clean(self) -> None:
        if self.lookup_url:
            try:
                check_url(self.lookup_url)
            except UrlRefused as exc:
                raise ValidationError(
                    {"lookup_url": ValidationError(str(exc), code=exc.rule)}
                ) from None
        count = len(self.turns or [])
        pairs = self.lunch_pairs or []
        if not isinstance(pairs, list) or any(
            not isinstance(p, list | tuple)
            or len(p) != 2
            or any(not isinstance(t, int) or not 0 <= t < count for t in p)
            for p in pairs
        ):
            message = _("each lunch pair is two turn numbers from 0 to %(n)s") % {"n": count - 1}
            raise ValidationError({"lunch_pairs": ValidationError(message, code="lunch_pairs")})

    @classmethod
    def for_org(cls, organization: Organization) -> OncallSettings:
        """The organization's settings, created with the defaults on first use."""
        found, _ = cls.objects.get_or_create(organization=organization)
        return found


class Person(OrganizationOwned):
    """A staff member who takes phone turns."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oncall_people"
    )
    extension = models.CharField(
        _("phone extension"),
        max_length=20,
        validators=[
            # Digits only: it becomes part of an Asterisk interface name.
            RegexValidator(r"^[0-9]+$", _("an extension is digits only"), code="digits")
        ],
    )
    ideal_load = models.PositiveSmallIntegerField(
        _("ideal weekly load"), default=8, help_text=_("Turns per full week.")
    )
    max_per_day = models.PositiveSmallIntegerField(_("maximum turns per day"), default=2)
    desk = models.CharField(_("desk / team"), max_length=60, blank=True)
    active = models.BooleanField(_("takes turns"), default=True)
    reminder_channel = models.CharField(
        _("turn reminder"),
        max_length=16,
        choices=REMINDER_CHOICES,
        default=Channel.INAPP,
        help_text=_("How this person is told that their turn starts."),
    )
    feed_token = models.CharField(max_length=64, default=new_feed_token, unique=True)

    class Meta:
        verbose_name = _("on-call person")
        verbose_name_plural = _("on-call people")
        # By the name people see: a handle's "~" suffix must not move anyone.
        ordering = [sign_in_name_expression("user__username")]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "extension"],
                name="oncall_person_unique_extension",
                violation_error_message=_("This extension is already taken by someone else."),
            ),
            models.UniqueConstraint(
                fields=["organization", "user"],
                name="oncall_person_unique_user",
                violation_error_message=_("This user already has an on-call profile."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def reminder_channel_choices(self) -> list[tuple[str, str]]:
        """The reminder channels as (value, label), for the person's page."""
        return list(REMINDER_CHOICES)

    @property
    def name(self) -> str:
        full = self.user.get_full_name() if hasattr(self.user, "get_full_name") else ""
        return full or sign_in_name(self.user)


class Holiday(models.Model):
    """Days off, inclusive: the person takes no turn and their weekly load shrinks."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="holidays")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("holiday")
        ordering = ["start"]
        indexes = [
            # Building a week's problem reads the holidays overlapping that week.
            models.Index(fields=["person", "end"], name="oncall_holiday_person_end"),
        ]

    def __str__(self) -> str:
        return f"{self.person}: {self.start} - {self.end}"

    def clean(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise ValidationError(
                {"end": _("the last day is before the first day")}, code="inverted"
            )

    def covers(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


class BusyEntry(models.Model):
    """A time the person cannot (hard) or would rather not (soft) take a turn.

    - Either one date (``date``) or every week on one weekday (``weekday``).
    - Either the whole day or the listed turns (numbers from 0); never neither.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="busy_entries")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    date = models.DateField(_("date"), null=True, blank=True)
    weekday = models.PositiveSmallIntegerField(
        _("every week on"),
        null=True,
        blank=True,
        choices=[(i, code) for i, code in enumerate(DAY_CODES)],
    )
    whole_day = models.BooleanField(_("whole day"), default=False)
    turns = models.JSONField(_("turns"), default=list, blank=True)
    hard = models.BooleanField(
        _("hard"), default=True, help_text=_("Off: only prefers not to (a soft penalty).")
    )
    reason = models.CharField(_("reason"), max_length=200)

    class Meta:
        verbose_name = _("busy entry")
        verbose_name_plural = _("busy entries")
        constraints = [
            models.CheckConstraint(
                condition=(Q(date__isnull=False) & Q(weekday__isnull=True))
                | (Q(date__isnull=True) & Q(weekday__isnull=False)),
                name="oncall_busy_date_xor_weekday",
                violation_error_message=_("Give either a date or a weekday, not both."),
            )
        ]

    def __str__(self) -> str:
        when = self.date.isoformat() if self.date else f"every {DAY_CODES[self.weekday]}"
        return f"{self.person}: {when} ({self.reason})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if (self.date is None) == (self.weekday is None):
            errors["date"] = _("give either a date or a weekday (every week), not both")
        turns = self.turns or []
        if not isinstance(turns, list) or any(not isinstance(t, int) or t < 0 for t in turns):
            errors["turns"] = _("turns are numbers from 0")
        elif self.whole_day and turns:
            errors["turns"] = _("a whole-day entry lists no turns")
        elif not self.whole_day and not turns:
            errors["turns"] = _("choose at least one turn, or the whole day")
        if errors:
            raise ValidationError(errors, code="invalid")

    def applies(self, day: dt.date, turn: int) -> bool:
        """Whether this entry covers ``turn`` on ``day``."""
        if self.date is not None and self.date != day:
            return False
        if self.weekday is not None and self.weekday != day.weekday():
            return False
        return self.whole_day or turn in (self.turns or [])


class TimetableStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")


class Timetable(OrganizationOwned, CreatedAt):
    """One week of phone turns: a draft, the published (current) one, or a past one."""

    week_start = models.DateField(_("week of (Monday)"))
    status = models.CharField(
        max_length=16, choices=TimetableStatus.choices, default=TimetableStatus.DRAFT
    )
    turns = models.JSONField(default=default_turns)
    days = models.JSONField(default=default_days)
    lines = models.JSONField(default=list, help_text="lines[day][turn]")
    lunch_pairs = models.JSONField(default=list, blank=True)
    report = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("timetable")
        ordering = ["-week_start", "-created_at"]
        constraints = [
            # "The current one" is unambiguous: one published timetable per week.
            models.UniqueConstraint(
                fields=["organization", "week_start"],
                condition=Q(status="published"),
                name="oncall_one_published_per_week",
            )
        ]
        indexes = [
            # on_call_at and the feeds read one organization's published weeks by date.
            models.Index(
                fields=["organization", "status", "week_start"], name="oncall_tt_org_status_week"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.week_start} ({self.status})"

    def day_dates(self) -> list[dt.date]:
        """The calendar date of each of this timetable's days."""
        return [self.week_start + dt.timedelta(days=d) for d in self.days]

    def turn_ranges(self):
        return parse_turns(self.turns)


class Assignment(models.Model):
    """One person on one line of one turn of one day."""

    timetable = models.ForeignKey(Timetable, on_delete=models.CASCADE, related_name="assignments")
    day = models.PositiveSmallIntegerField(help_text="index into timetable.days")
    turn = models.PositiveSmallIntegerField(help_text="index into timetable.turns")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="assignments")

    class Meta:
        constraints = [
            # At most one line per person per turn, even after manual edits.
            models.UniqueConstraint(
                fields=["timetable", "day", "turn", "person"], name="oncall_assign_once_per_turn"
            )
        ]
        indexes = [
            # on_call_at: the people of one turn of one published timetable.
            models.Index(fields=["timetable", "day", "turn"], name="oncall_assign_slot"),
        ]

    def __str__(self) -> str:
        return f"{self.timetable_id} d{self.day} t{self.turn}: {self.person_id}"


class EditKind(models.TextChoices):
    SWAP = "swap", _("Swap")
    REPLACE = "replace", _("Replace")
    ADD_LINE = "add_line", _("Add a line")
    REMOVE_LINE = "remove_line", _("Remove a line")
    PUBLISH = "publish", _("Publish")


class TimetableEdit(models.Model):
    """A manual change to a timetable: what, why, who and when, and the rules it broke."""

    timetable = models.ForeignKey(Timetable, on_delete=models.CASCADE, related_name="edits")
    kind = models.CharField(max_length=16, choices=EditKind.choices)
    reason = models.CharField(_("reason"), max_length=300)
    detail = models.JSONField(default=dict)
    warnings = models.JSONField(default=list, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=django_tz.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"


class QueueProgramStatus(models.TextChoices):
    PENDING = "pending", _("Programming")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class QueueProgram(models.Model):
    """The phone queue set to one turn's people (or emptied), once per turn change."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    slot = models.CharField(max_length=64, help_text="turn start (ISO) or 'manual:<uuid>'")
    members = models.JSONField(default=list)
    status = models.CharField(
        max_length=16, choices=QueueProgramStatus.choices, default=QueueProgramStatus.PENDING
    )
    detail = models.TextField(blank=True)
    attempted_at = models.DateTimeField(default=django_tz.now)

    class Meta:
        constraints = [
            # Several workers may tick at once: the insert is the claim.
            models.UniqueConstraint(fields=["organization", "slot"], name="oncall_queue_slot_once")
        ]

    def __str__(self) -> str:
        return f"{self.slot}: {self.status}"


class Call(OrganizationOwned):
    """A call the phone system reported ringing at an agent's extension."""

    phone = models.CharField(_("caller"), max_length=20, validators=[validate_phone])
    extension = models.CharField(_("extension"), max_length=20)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=django_tz.now)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # The screen-pop poll: an agent's newest call.
            models.Index(fields=["organization", "taken_by", "-at"], name="oncall_call_agent_at"),
            # The call log, newest first.
            models.Index(fields=["organization", "-at"], name="oncall_call_org_at"),
        ]

    def __str__(self) -> str:
        return f"{self.phone} -> {self.extension} at {self.at:%Y-%m-%d %H:%M}"
