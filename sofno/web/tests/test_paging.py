"""Long lists come in pages whose links keep the search and filters."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from sofno.directory.models import Customer


def test_it_pages_customers_and_keeps_the_search(cast):
    Customer.objects.bulk_create(
        Customer(organization=cast.org, name=f"Bar {n:03d}") for n in range(120)
    )
    client = Client()
    client.force_login(cast.agent)
    first = client.get(reverse("web:customer-list"), {"q": "Bar"})
    assert first.status_code == 200
    assert "Bar 000" in first.text and "Bar 050" not in first.text
    assert "q=Bar&amp;page=2" in first.text
    assert "Page 1 of 3 (120 in all)" in first.text
    last = client.get(reverse("web:customer-list"), {"q": "Bar", "page": "3"})
    assert "Bar 119" in last.text and "Bar 099" not in last.text
    junk = client.get(reverse("web:customer-list"), {"page": "x'; drop"})
    assert junk.status_code == 200 and "Bar 000" in junk.text
