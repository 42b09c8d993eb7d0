"""Programming the phone queue from the published timetable.

The worker's ``oncall-queue`` loop calls :func:`tick`: at each turn change it sets
the queue's members to that turn's people. The insert of a :class:`QueueProgram`
row for the turn is the claim, so several workers program each turn once; a
failed turn is retried after :data:`RETRY_AFTER`.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone

from sofno.core.models import Organization
from sofno.events.emit import emit
from sofno.oncall.models import OncallSettings, QueueProgram, QueueProgramStatus
from sofno.oncall.selectors import turn_at
from sofno.oncall.telephony import QueueProvider, TelephonyError, provider_for, set_members

log = logging.getLogger(__name__)
RETRY_AFTER = dt.timedelta(seconds=60)


def wanted_members(organization: Organization, moment: dt.datetime) -> dict[str, str] | None:
    """Extension -> name of the people on the turn at ``moment``; ``None`` off turns."""
    current = turn_at(organization, moment)
    if current is None:
        return None
    return {p.extension: p.name for p in current.people()}


def program(
    organization: Organization,
    moment: dt.datetime,
    provider: QueueProvider,
    *,
    manual: bool = False,
) -> QueueProgram | None:
    """Set the queue to the turn at ``moment``; ``None`` when nothing was due.

    Without ``manual`` each turn is programmed once (the row insert is the claim).
    """
    wanted = wanted_members(organization, moment)
    if wanted is None and not manual:
        return None
    wanted = wanted or {}
    current = turn_at(organization, moment)
    slot = f"manual:{uuid.uuid4()}" if manual or current is None else current.start.isoformat()
    row = _claim(organization, slot, sorted(wanted))
    if row is None:
        return None
    try:
        changes = set_members(provider, wanted)
    except TelephonyError as exc:
        QueueProgram.objects.filter(pk=row.pk).update(
            status=QueueProgramStatus.FAILED, detail=str(exc), attempted_at=timezone.now()
        )
        row.refresh_from_db()
        log.warning("phone queue not programmed for %s: %s", slot, exc)
        return row
    with transaction.atomic():
        QueueProgram.objects.filter(pk=row.pk).update(
            status=QueueProgramStatus.DONE,
            detail=f"added {', '.join(changes['added']) or 'nobody'}; "
            f"removed {', '.join(changes['removed']) or 'nobody'}",
        )
        emit(
            organization,
            "oncall.queue.programmed",
            subject=f"queue:{slot}",
            data={"slot": slot, "members": sorted(wanted), **changes},
        )
    row.refresh_from_db()
    return row


def _claim(organization: Organization, slot: str, members: list[str]) -> QueueProgram | None:
    try:
        with transaction.atomic():
            return QueueProgram.objects.create(
                organization=organization, slot=slot, members=members
            )
    except IntegrityError:
        pass
    stale = timezone.now() - RETRY_AFTER
    # A failed turn is retried by whichever worker moves it back to pending first.
    claimed = QueueProgram.objects.filter(
        organization=organization,
        slot=slot,
        status=QueueProgramStatus.FAILED,
        attempted_at__lt=stale,
    ).update(status=QueueProgramStatus.PENDING, attempted_at=timezone.now(), members=members)
    if not claimed:
        return None
    return QueueProgram.objects.get(organization=organization, slot=slot)


def tick() -> int:
    """Program every organization whose queue follows its timetable; returns how many."""
    provider_count = 0
    now = timezone.now()
    for conf in OncallSettings.objects.filter(program_queue=True).select_related("organization"):
        provider = provider_for(conf.queue_name)
        if provider is None:
            return provider_count
        try:
            # The provider connects on first use, so an idle tick opens no connection.
            if program(conf.organization, now, provider) is not None:
                provider_count += 1
        finally:
            provider.close()
    return provider_count
