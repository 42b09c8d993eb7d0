import pytest
from django.utils import translation

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


@pytest.fixture(autouse=True)
def english():
    """Tests read the engine's reasons in English unless they ask for another language:
    a page request in Spanish leaves Spanish active on the thread after it."""
    with translation.override("en"):
        yield
