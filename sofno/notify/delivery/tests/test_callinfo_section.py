import pytest

from sofno.directory.models import Contact, ContactType, Customer
from sofno.events.emit import emit
from sofno.notify.models import Channel, Delivery

pytestmark = pytest.mark.django_db
PHONE = "+390612345678"


def deliver(org, customer_payload, channel, **target):
    event = emit(org, "device.offline", "device:x", customer_payload)
    return Delivery.objects.create(
        organization=org, event=event, channel=channel, sequence=event.sequence, **target
    )


def test_it_shows_recent_notifications_about_the_calling_customer(cast, api_client):
    service = ContactType.objects.get(organization=cast.org, slug="service")
    caller = Customer.objects.create(organization=cast.org, name="Trattoria")
    other = Customer.objects.create(organization=cast.org, name="Somebody else")
    Contact.objects.create(
        organization=cast.org, customer=caller, name="Mario", phone=PHONE, contact_type=service
    )
    deliver(
        cast.org, {"customer_id": str(caller.public_id)}, Channel.INAPP, recipient_user=cast.agent
    )
    deliver(cast.org, {"customer": {"id": str(caller.public_id)}}, Channel.EMAIL, address="a@b.c")
    deliver(
        cast.org, {"customer_id": str(other.public_id)}, Channel.INAPP, recipient_user=cast.agent
    )
    deliver(cast.org, {"customer_id": str(caller.public_id)}, Channel.WEBHOOK)

    body = api_client(cast.key).get(f"/callinfo?phone=%2B{PHONE[1:]}").json()

    recent = body["extra"]["recent_notifications"]
    assert [(n["channel"], n["to"]) for n in recent] == [("email", "a@b.c"), ("inapp", "adam")]
    assert {n["event"] for n in recent} == {"device.offline"}
