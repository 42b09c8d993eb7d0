"""Shared fixtures of the monitoring tests."""

from __future__ import annotations

import pytest

from sofno.core.access import Actor
from sofno.directory.models import Customer


@pytest.fixture(autouse=True)
def _no_downtime_between_ticks(monkeypatch):
    """Tests travel in time between sweeper ticks; that is not the server being down.
    (The start-up grace has its own test, which sets a real threshold.)"""
    monkeypatch.setenv("SOFNO_SWEEPER_DOWNTIME", str(10**9))


@pytest.fixture
def owner_actor(cast) -> Actor:
    return Actor(organization=cast.org, role="owner", user=cast.owner)


@pytest.fixture
def customer(cast) -> Customer:
    return Customer.objects.create(organization=cast.org, name="Pizzeria Roma")


@pytest.fixture
def other_customer(cast) -> Customer:
    return Customer.objects.create(organization=cast.other_org, name="Globex Diner")


@pytest.fixture
def make_device(owner_actor, customer):
    """Factory: ``make_device(name="Till 1", **fields) -> (device, key)``."""
    from sofno.monitoring import actions

    def make(name: str = "Till 1", customer=customer, actor=owner_actor, **fields):
        return actions.create_device(
            acting_user=actor, customer=customer, fields={"name": name, **fields}
        )

    return make
