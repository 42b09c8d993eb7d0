import pytest

from sofno.core.access import Actor
from sofno.core.models import Role
from sofno.notify.testing.receiver import Receiver


@pytest.fixture
def loopback(settings):
    """The test settings: plain http on any port to loopback, allowed explicitly
    (for every outbound channel: webhooks, SMTP, web push, Apprise)."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.OUTBOUND_ALLOW_HTTP = True
    settings.OUTBOUND_ALLOWED_PORTS = "*"
    settings.WEBHOOK_TIMEOUT_SECONDS = 5
    return settings


@pytest.fixture
def receiver(loopback):
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def owner_actor(cast):
    return Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)
