"""Turn reminders, written as managed notification rules on ``oncall.turn_started``.

At the start of each turn oncall records ``oncall.turn_started`` (``sofno.oncall.
reminders``); these rules turn it into messages, through the one delivery path:

- one rule per reminder channel (bell, email, SMS, web push) notifies the turn's
  people who chose that channel (recipient kind ``turn_people``, value the channel);
  quiet hours do not hold it back: the person is on duty;
- the team message: when the on-call settings name an Apprise URL, one rule sends
  "who is on the phones now" there (a chat room).

The rules are ordinary rules (listed and editable on the rules pages), marked
``managed_by="oncall"`` with a ``managed_key``. Saving the on-call settings
(``oncall.settings.updated``) or publishing a timetable (``oncall.timetable.
published``) (re)writes them, in that change's transaction (handlers registered on
``events.emit.on_emitted`` in ``NotifyConfig.ready``): the team rule follows the settings' URL and
is on only while there is one; the people's rules are created once, then an admin's
edits (switching one off, changing its template) are kept.
"""

from __future__ import annotations

from django.db import transaction

from sofno.core.channels import REMINDER_CHANNELS, Channel
from sofno.events.models import Event
from sofno.notify.routing.quiet import QuietAction
from sofno.notify.rule_models import NotificationRule
from sofno.oncall.models import OncallSettings

MANAGED_BY = "oncall"
EVENT = "oncall.turn_started"
TEAM_KEY = "oncall:turn_started:team"
# reminder channel (Person.reminder_channel) -> rule name
REMINDER_RULE_NAMES = {
    Channel.INAPP: "Turn reminders: the bell",
    Channel.EMAIL: "Turn reminders: email",
    Channel.SMS: "Turn reminders: SMS",
    Channel.WEBPUSH: "Turn reminders: web push",
}
assert set(REMINDER_RULE_NAMES) == REMINDER_CHANNELS, "a reminder channel has no rule"


def person_key(channel: str) -> str:
    """The managed key of the rule reminding people who chose ``channel``."""
    return f"oncall:turn_started:{channel}"


@transaction.atomic
def sync_turn_rules(organization) -> list[NotificationRule]:
    """Write the organization's managed turn-reminder rules; returns them.

    The team message URL is read from the settings, never created (reading must not
    save settings).
    """
    rules = []
    managed = NotificationRule.objects.filter(organization=organization, managed_by=MANAGED_BY)
    existing = {rule.managed_key: rule for rule in managed}
    for channel, name in REMINDER_RULE_NAMES.items():
        key = person_key(channel)
        rule = existing.get(key) or NotificationRule.objects.create(
            organization=organization,
            managed_by=MANAGED_BY,
            managed_key=key,
            name=name,
            event_types=[EVENT],
            recipients=[{"kind": "turn_people", "value": channel}],
            channels=[channel],
            quiet_action=QuietAction.THROUGH,
        )
        rules.append(rule)
    url = (
        OncallSettings.objects.filter(organization=organization)
        .values_list("team_message_url", flat=True)
        .first()
    ) or ""
    team = existing.get(TEAM_KEY)
    if team is None and url:
        team = NotificationRule.objects.create(
            organization=organization,
            managed_by=MANAGED_BY,
            managed_key=TEAM_KEY,
            name="Turn reminders: team message",
            event_types=[EVENT],
            recipients=[],
            channels=[Channel.APPRISE],
            apprise_urls=[url],
            quiet_action=QuietAction.THROUGH,
        )
    elif team is not None:
        wanted = {"enabled": bool(url), "apprise_urls": [url] if url else team.apprise_urls}
        if any(getattr(team, field) != value for field, value in wanted.items()):
            for field, value in wanted.items():
                setattr(team, field, value)
            team.save(update_fields=[*wanted, "updated_at"])
    if team is not None:
        rules.append(team)
    return rules


def ensure_turn_rules(organization) -> None:
    """The people's reminder rules exist (written once, then left to the admin)."""
    if not NotificationRule.objects.filter(
        organization=organization, managed_key=person_key(Channel.INAPP)
    ).exists():
        sync_turn_rules(organization)


def settings_updated(events: list[Event]) -> None:
    """``on_emitted`` handler: the team rule follows the saved settings' URL."""
    sync_turn_rules(events[0].organization)


def timetable_published(events: list[Event]) -> None:
    """``on_emitted`` handler: an organization that never saved its settings since turn
    reminders exist gets its rules when it publishes a week."""
    ensure_turn_rules(events[0].organization)
