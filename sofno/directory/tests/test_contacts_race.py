"""A second primary contact written while the first is still uncommitted: the loser
gets the same clean 422, through the database constraint.

PostgreSQL only: there two writers really run at once. SQLite serializes writers
(and its in-memory test database answers "table is locked" instead of waiting).
"""

import threading
import time

import pytest
from django.db import connection, transaction

from sofno.core.testing import field_errors
from sofno.directory.models import Contact, ContactType, Customer


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_it_answers_422_when_a_concurrent_writer_takes_the_primary_slot(cast, api_client):
    customer = Customer.objects.create(organization=cast.org, name="Race Diner")
    billing = ContactType.objects.get(organization=cast.org, slug="billing")
    inserted = threading.Event()

    def first_writer():
        try:
            with transaction.atomic():
                Contact.objects.create(
                    organization=cast.org,
                    customer=customer,
                    name="First",
                    contact_type=billing,
                    is_primary=True,
                )
                inserted.set()
                time.sleep(0.5)  # keep the row uncommitted while the API request runs
        finally:
            connection.close()

    thread = threading.Thread(target=first_writer)
    thread.start()
    assert inserted.wait(10)
    response = api_client(cast.key).post(
        "/contacts",
        {
            "customer": str(customer.public_id),
            "name": "Second",
            "contact_type": "billing",
            "is_primary": True,
        },
    )
    thread.join()
    assert response.status_code == 422, response.content
    assert field_errors(response) == {"is_primary": "one_primary_per_type"}
    assert list(Contact.objects.filter(customer=customer).values_list("name", flat=True)) == [
        "First"
    ]
