import pytest

from sofno.core.access import Actor
from sofno.core.models import Role
from sofno.notify.testing.receiver import Receiver


@pytest.fixture
def receiver(loopback):
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def owner_actor(cast):
    return Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)
