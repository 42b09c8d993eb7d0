"""``apply_fields`` and ``save_audited``: the one way actions store a change."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from sofno.core.access import Actor
from sofno.core.modeling import apply_fields, save_audited
from sofno.core.models import AuditEntry, Role
from sofno.directory.models import ContactType


@pytest.fixture
def actor(cast) -> Actor:
    return Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)


def _codes(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in exc.value.error_dict.items()}


def test_it_sets_the_fields_and_names_them_sorted(actor):
    kind = ContactType(organization=actor.organization)
    fields = {"slug": "billing-eu", "name": "Billing EU"}
    names = apply_fields(kind, fields, allowed={"slug", "name"})
    assert names == ["name", "slug"]
    assert (kind.slug, kind.name) == ("billing-eu", "Billing EU")


def test_it_refuses_an_unknown_field_by_name_before_setting_any(actor):
    kind = ContactType(organization=actor.organization)
    with pytest.raises(ValidationError) as exc:
        apply_fields(kind, {"name": "Billing", "secret": 1, "zone": 2}, allowed={"name"})
    assert _codes(exc) == {"secret": ["unknown"]}
    assert kind.name == ""


def test_it_audits_the_saved_change_with_its_detail(actor):
    kind = ContactType(organization=actor.organization, slug="billing-eu", name="Billing EU")
    save_audited(actor, kind, "contact_type.created", slug="billing-eu")
    entry = AuditEntry.objects.get(action="contact_type.created")
    assert ContactType.objects.filter(pk=kind.pk).exists()
    assert entry.object_id == str(kind.public_id)
    assert entry.actor_user == actor.user
    assert entry.detail == {"slug": "billing-eu"}


def test_it_audits_nothing_when_the_change_is_refused(actor):
    kind = ContactType(organization=actor.organization, slug="billing-eu", name="")
    with pytest.raises(ValidationError) as exc:
        save_audited(actor, kind, "contact_type.created")
    assert "name" in _codes(exc)
    assert kind.pk is None
    assert not AuditEntry.objects.filter(action="contact_type.created").exists()


def test_it_names_the_field_of_a_constraint_lost_to_a_race(actor):
    ContactType.objects.create(organization=actor.organization, slug="billing-eu", name="First")
    kind = ContactType(organization=actor.organization, slug="billing-eu", name="Second")
    # Leaving the slug out of the check stands in for a check that ran before the
    # other writer's row arrived: the database refuses the insert.
    with pytest.raises(ValidationError) as exc:
        save_audited(actor, kind, "contact_type.created", exclude=["slug"])
    assert _codes(exc) == {"slug": ["unique"]}
    assert not AuditEntry.objects.filter(action="contact_type.created").exists()
    # The failed insert was rolled back to its savepoint: the transaction goes on.
    assert ContactType.objects.filter(slug="billing-eu").count() == 1


def test_it_saves_only_the_fields_named(actor):
    kind = ContactType.objects.create(organization=actor.organization, slug="billing-us", name="A")
    apply_fields(kind, {"name": "B", "slug": "other"})
    save_audited(actor, kind, "contact_type.updated", update_fields=["name"], fields=["name"])
    kind.refresh_from_db()
    assert (kind.name, kind.slug) == ("B", "billing-us")
    assert AuditEntry.objects.get(action="contact_type.updated").detail == {"fields": ["name"]}
