"""The import and export pages: upload, preview with every error, confirm, download."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from sofno.conftest import horizontal_overflow
from sofno.core.models import Role
from sofno.core.testing import make_user
from sofno.directory.models import Customer
from sofno.transfer.models import PendingImport

GOOD = b"name,city,country\nCafe Central,Girona,ES\nBar Roma,Roma,IT\n"
BAD = b"name,city,country\nCafe Central,Girona,ES\nBar Roma,Roma,Italy\n"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _upload(client: Client, data: bytes, kind: str = "customers", name: str = "c.csv"):
    return client.post(
        reverse("web:transfer"), {"kind": kind, "file": SimpleUploadedFile(name, data)}
    )


def test_it_previews_then_imports_on_confirmation(cast):
    client = _client(cast.agent)
    preview = _upload(client, GOOD)
    assert preview.status_code == 200
    assert "To create: 2" in preview.text
    assert not Customer.objects.filter(organization=cast.org).exists()  # nothing yet
    confirm = re.search(r'action="([^"]+/confirm/)"', preview.text)[1]
    done = client.post(confirm, follow=True)
    assert done.status_code == 200
    assert "2 created" in done.text
    names = Customer.objects.filter(organization=cast.org).values_list("name", flat=True)
    assert sorted(names) == ["Bar Roma", "Cafe Central"]
    assert not PendingImport.objects.exists()
    assert client.post(confirm).status_code == 404  # a preview imports once


def test_it_lists_every_error_and_offers_no_confirmation(cast):
    preview = _upload(_client(cast.agent), BAD)
    assert preview.status_code == 200
    assert re.search(r"<td>3</td><td><code>country</code></td><td>[^<]*Italy", preview.text)
    assert "confirm/" not in preview.text
    assert not PendingImport.objects.exists()
    assert not Customer.objects.filter(organization=cast.org).exists()


def test_it_explains_a_file_it_cannot_read(cast):
    answer = _upload(_client(cast.agent), b"PK\x03\x04broken", name="c.xlsx")
    assert answer.status_code == 200
    assert "not a readable XLSX workbook" in answer.text


def test_it_keeps_a_preview_to_the_person_who_made_it(cast):
    preview = _upload(_client(cast.agent), GOOD)
    confirm = re.search(r'action="([^"]+/confirm/)"', preview.text)[1]
    assert _client(cast.owner).post(confirm).status_code == 404
    assert _client(cast.outsider).post(confirm).status_code in (403, 404)
    assert not Customer.objects.filter(organization=cast.org).exists()


def test_it_refuses_read_only_roles_and_customer_users(cast):
    assert _upload(_client(cast.viewer), GOOD).status_code == 403
    assert _client(cast.viewer).get(reverse("web:transfer")).status_code == 200
    customer_user = make_user("carla", cast.org, Role.CUSTOMER)
    client = _client(customer_user)
    assert client.get(reverse("web:transfer")).status_code == 403
    assert client.get(reverse("web:transfer-export", args=["customers", "csv"])).status_code == 403
    assert not Customer.objects.filter(organization=cast.org).exists()


def test_it_downloads_exports_in_both_formats(cast):
    client = _client(cast.agent)
    confirm = re.search(r'action="([^"]+/confirm/)"', _upload(client, GOOD).text)[1]
    client.post(confirm)
    csv_file = client.get(reverse("web:transfer-export", args=["customers", "csv"]))
    assert csv_file["Content-Type"].startswith("text/csv")
    assert b",Cafe Central,,Girona," in csv_file.content
    xlsx = client.get(reverse("web:transfer-export", args=["customers", "xlsx"]))
    assert xlsx.content.startswith(b"PK\x03\x04")
    assert client.get(reverse("web:transfer-export", args=["people", "csv"])).status_code == 404


@pytest.mark.browser
def test_it_fits_a_phone_and_shows_errors(cast, phone_page, login, tmp_path):
    login(phone_page, cast.agent)
    phone_page.goto(reverse("web:transfer"))
    assert horizontal_overflow(phone_page) == 0
    bad = tmp_path / "customers.csv"
    bad.write_bytes(BAD)
    phone_page.select_option("#id_kind", "customers")
    phone_page.set_input_files("#id_file", str(bad))
    phone_page.click("#import-form button[type=submit]")
    phone_page.wait_for_selector("#import-errors")
    assert horizontal_overflow(phone_page) == 0
    assert "Italy" in phone_page.inner_text("#import-errors")
