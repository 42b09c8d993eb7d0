import datetime as dt

import pytest
from django.utils import timezone

from sofno.events.emit import emit
from sofno.notify.delivery import retention
from sofno.notify.models import Attempt, Channel, Delivery, DeliveryStatus

pytestmark = pytest.mark.django_db


def delivery(cast, status, age_days, finished=True):
    event = emit(cast.org, "device.offline", "device:x", {})
    at = timezone.now() - dt.timedelta(days=age_days)
    row = Delivery.objects.create(
        organization=cast.org,
        event=event,
        channel=Channel.INAPP,
        recipient_user=cast.agent,
        sequence=event.sequence,
        status=status,
        created_at=at,
        finished_at=at if finished else None,
    )
    Attempt.objects.create(delivery=row, number=1, started_at=at)
    return row


def test_it_prunes_only_finished_deliveries_past_the_retention(cast):
    old_ok = delivery(cast, DeliveryStatus.SUCCEEDED, 40)
    old_dead = delivery(cast, DeliveryStatus.FAILED, 40)
    old_cancelled = delivery(cast, DeliveryStatus.CANCELLED, 40, finished=False)
    still_pending = delivery(cast, DeliveryStatus.PENDING, 40, finished=False)
    recent_ok = delivery(cast, DeliveryStatus.SUCCEEDED, 5)

    assert retention.prune(days=30) == 3

    kept = set(Delivery.objects.values_list("pk", flat=True))
    assert kept == {still_pending.pk, recent_ok.pk}
    assert set(Attempt.objects.values_list("delivery_id", flat=True)) == kept
    assert not {old_ok.pk, old_dead.pk, old_cancelled.pk} & kept


def test_it_keeps_everything_when_retention_is_zero(cast):
    delivery(cast, DeliveryStatus.SUCCEEDED, 400)
    assert retention.prune(days=0) == 0
    assert Delivery.objects.count() == 1
