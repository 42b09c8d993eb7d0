"""Importing and exporting the directory: CSV and XLSX, all or nothing, re-import updates."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from sofno.core.access import Actor, PermissionDenied
from sofno.core.models import Role
from sofno.directory.actions.contacts import ensure_default_contact_types
from sofno.directory.models import Contact, Customer
from sofno.monitoring.models import Device
from sofno.transfer.exporting import export_table
from sofno.transfer.importing import ImportRefused, import_rows
from sofno.transfer.kinds import CONTACTS, CUSTOMERS, DEVICES
from sofno.transfer.tables import detect_format, read_table

CUSTOMERS_CSV = (
    "name,city,country,timezone,email,alerts_enabled\n"
    "Café Central,Girona,ES,Europe/Madrid,hola@cafe.example,yes\n"
    "Trattoria Da Mario,Roma,IT,Europe/Rome,,no\n"
)


@pytest.fixture
def admin(cast) -> Actor:
    ensure_default_contact_types(cast.org)
    return Actor(organization=cast.org, role=Role.ADMIN, user=cast.owner)


def _rows(text: str, fmt: str = "csv"):
    data = text.encode() if fmt == "csv" else _xlsx(text)
    return read_table(data, detect_format(f"file.{fmt}", data))


def _xlsx(csv_text: str) -> bytes:
    book = Workbook()
    sheet = book.active
    for line in csv_text.strip().splitlines():
        sheet.append(line.split(","))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _snapshot(org) -> list:
    return [
        sorted(Customer.objects.filter(organization=org).values_list("name", "city", "email")),
        sorted(Contact.objects.filter(organization=org).values_list("name", "phone")),
        sorted(Device.objects.filter(organization=org).values_list("name", "os")),
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_it_imports_a_good_file(admin, fmt):
    report = import_rows(admin, CUSTOMERS, _rows(CUSTOMERS_CSV, fmt))
    assert (report.created, report.updated, report.errors, report.stored) == (2, 0, [], True)
    cafe = Customer.objects.get(organization=admin.organization, name="Café Central")
    assert (cafe.city, cafe.country, cafe.alerts_enabled) == ("Girona", "ES", True)
    mario = Customer.objects.get(organization=admin.organization, name="Trattoria Da Mario")
    assert mario.alerts_enabled is False


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_it_names_every_error_by_line_and_column_and_stores_nothing(admin, fmt):
    import_rows(admin, CUSTOMERS, _rows(CUSTOMERS_CSV))
    before = _snapshot(admin.organization)
    text = (
        "customer,name,os,checkin_interval\n"
        "Café Central,Till 1,windows,60\n"
        "Nowhere Bar,Till 1,windows,60\n"
        "Café Central,Till 2,amiga,60\n"
        "Café Central,Till 3,linux,often\n"
        "Café Central,Till 1,linux,60\n"
    )
    report = import_rows(admin, DEVICES, _rows(text, fmt))
    found = {(e.line, e.column) for e in report.errors}
    assert found == {(3, "customer"), (4, "os"), (5, "checkin_interval"), (6, "")}, [
        str(e) for e in report.errors
    ]
    assert "Nowhere Bar" in str(report.errors[0])
    assert str(report.errors[0]).startswith("line 3, column customer:")
    assert report.stored is False and report.keys == []
    assert _snapshot(admin.organization) == before  # the valid line 2 was not kept either


def test_it_updates_on_reimport_instead_of_duplicating(admin):
    import_rows(admin, CUSTOMERS, _rows(CUSTOMERS_CSV))
    changed = CUSTOMERS_CSV.replace("Girona", "Barcelona")
    report = import_rows(admin, CUSTOMERS, _rows(changed))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    cafes = Customer.objects.filter(organization=admin.organization, name="Café Central")
    assert [c.city for c in cafes] == ["Barcelona"]


def test_it_keeps_what_the_file_leaves_out(admin):
    import_rows(admin, CUSTOMERS, _rows(CUSTOMERS_CSV))
    report = import_rows(admin, CUSTOMERS, _rows("name,city\nCafé Central,\n"))
    assert report.errors == [] and report.unchanged == 1
    cafe = Customer.objects.get(organization=admin.organization, name="Café Central")
    assert (cafe.city, cafe.email) == ("Girona", "hola@cafe.example")


def test_it_stores_nothing_on_a_dry_run(admin):
    report = import_rows(admin, CUSTOMERS, _rows(CUSTOMERS_CSV), dry_run=True)
    assert report.created == 2 and report.stored is False
    assert not Customer.objects.filter(organization=admin.organization).exists()


def test_it_refuses_unknown_columns_naming_the_known_ones(admin):
    with pytest.raises(ImportRefused, match=r"'colour'.*name, address"):
        import_rows(admin, CUSTOMERS, _rows("name,colour\nCafé,red\n"))


def test_it_imports_contacts_and_devices_by_customer_name_and_shows_keys_once(admin):
    import_rows(admin, CUSTOMERS, _rows(CUSTOMERS_CSV))
    contacts = import_rows(
        admin,
        CONTACTS,
        _rows(
            "customer,name,phone,contact_type,is_primary\n"
            "café central,Marta,+34 972 000 111,service,yes\n"
        ),
    )
    assert contacts.errors == [] and contacts.created == 1
    marta = Contact.objects.get(name="Marta")
    assert (marta.customer.name, marta.phone, marta.is_primary) == (
        "Café Central",
        "+34972000111",
        True,
    )
    devices = import_rows(admin, DEVICES, _rows("customer,name,os\nCafé Central,Till 1,windows\n"))
    assert devices.created == 1 and [name for name, _ in devices.keys] == ["Till 1"]
    device = Device.objects.get(name="Till 1")
    assert devices.keys[0][1].startswith(device.key_prefix)


def test_it_reports_a_field_rule_from_the_actions_by_column(admin):
    import_rows(admin, CUSTOMERS, _rows(CUSTOMERS_CSV))
    report = import_rows(
        admin, CONTACTS, _rows("customer,name,phone\nCafé Central,Marta,not a phone\n")
    )
    assert [(e.line, e.column) for e in report.errors] == [(2, "phone")]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_it_reimports_an_export_unchanged(admin, fmt):
    import_rows(admin, CUSTOMERS, _rows(CUSTOMERS_CSV.replace("Girona", "=HYPERLINK(1)")))
    import_rows(
        admin,
        CONTACTS,
        _rows("customer,name,phone,contact_type\nCafé Central,Marta,+34972000111,service\n"),
    )
    import_rows(admin, DEVICES, _rows("customer,name,os,grace\nCafé Central,Till 1,linux,30\n"))
    before = _snapshot(admin.organization)
    for kind in (CUSTOMERS, CONTACTS, DEVICES):
        data = export_table(admin, kind, fmt)
        report = import_rows(admin, kind, read_table(data, fmt))
        assert report.errors == [], [str(e) for e in report.errors]
        assert (report.created, report.updated) == (0, 0), kind.name
        assert report.unchanged == kind.queryset(admin).count()
    assert _snapshot(admin.organization) == before


def test_it_exports_formula_looking_text_as_text(admin):
    import_rows(admin, CUSTOMERS, _rows("name,city\nEvil,=cmd|' /C calc'!A0\n"))
    csv_text = export_table(admin, CUSTOMERS, "csv").decode()
    assert "'=cmd" in csv_text
    sheet = load_workbook(io.BytesIO(export_table(admin, CUSTOMERS, "xlsx"))).active
    city = next(cell for cell in sheet[2] if str(cell.value).startswith("=cmd"))
    assert city.data_type == "s"


def test_it_scopes_every_row_to_the_organization(admin, cast):
    other = Actor(organization=cast.other_org, role=Role.OWNER, user=cast.outsider)
    import_rows(other, CUSTOMERS, _rows("name\nCafé Central\n"))
    report = import_rows(admin, CUSTOMERS, _rows(CUSTOMERS_CSV))
    assert report.created == 2  # another organization's namesake is not matched
    foreign = Customer.objects.get(organization=cast.other_org)
    report = import_rows(admin, CUSTOMERS, _rows(f"id,name\n{foreign.public_id},Stolen\n"))
    assert [(e.line, e.column) for e in report.errors] == [(2, "id")]
    foreign.refresh_from_db()
    assert foreign.name == "Café Central"
    assert b"Stolen" not in export_table(other, CUSTOMERS, "csv")


def test_it_refuses_read_only_roles_and_customer_users(cast):
    viewer = Actor(organization=cast.org, role=Role.VIEWER, user=cast.viewer)
    with pytest.raises(PermissionDenied):
        import_rows(viewer, CUSTOMERS, _rows(CUSTOMERS_CSV))
    customer_user = Actor(organization=cast.org, role=Role.CUSTOMER, user=cast.viewer)
    with pytest.raises(PermissionDenied):
        export_table(customer_user, CUSTOMERS, "csv")
    assert not Customer.objects.filter(organization=cast.org).exists()
