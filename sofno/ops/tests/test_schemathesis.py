"""The API against its own OpenAPI document (/api/openapi.json), with schemathesis.

Every operation gets a bounded number of generated requests (``SOFNO_SCHEMATHESIS_EXAMPLES``,
10 by default) with an admin API key; each answer must not be a 5xx, its status code
must be one the document declares, and its body must match that status's schema.

The stateful phase chains calls through the links schemathesis infers from the
document (a POST's ``id`` feeds the GET/PATCH/DELETE of ``{..._id}``), so generated
PATCH and DELETE bodies reach real objects instead of 404s. It is bounded by
``SOFNO_SCHEMATHESIS_SCENARIOS`` scenarios (25 by default) of at most
``SOFNO_SCHEMATHESIS_STEPS`` calls (8) each.

It runs only when ``SOFNO_SCHEMATHESIS=1`` (CI sets it): the API is still moving and a
failure here names another app's endpoint, not a regression of the one being worked on.
"""

import os
from contextlib import contextmanager

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

ENABLED = os.environ.get("SOFNO_SCHEMATHESIS") == "1"
EXAMPLES = int(os.environ.get("SOFNO_SCHEMATHESIS_EXAMPLES", "10"))
SCENARIOS = int(os.environ.get("SOFNO_SCHEMATHESIS_SCENARIOS", "25"))
STEPS = int(os.environ.get("SOFNO_SCHEMATHESIS_STEPS", "8"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]

pytestmark = [pytest.mark.slow]


@pytest.fixture
def unlimited(settings):
    """Rate limits off, and the test's database connection kept across requests."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    # Hundreds of generated calls with one key would otherwise meet the rate limit.
    settings.API_RATE = None
    settings.EVENT_RATE = None
    # Calls go through the WSGI handler, not Django's test client, so the handler's
    # close_old_connections would close the connection holding the test's
    # transaction (on PostgreSQL); the test client unhooks it the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@contextmanager
def as_its_own_request():
    """Run one call as production does (each request on its own, autocommit), although
    the test holds every call in one transaction: a statement the database refuses
    (answered 422 by the API) must not break the calls after it on PostgreSQL."""
    from django.db import connection, transaction

    savepoint = transaction.savepoint()
    try:
        yield
    finally:
        if connection.vendor == "postgresql" and _aborted(connection):
            transaction.savepoint_rollback(savepoint)
        else:
            transaction.savepoint_commit(savepoint)


def _aborted(connection) -> bool:
    from psycopg.pq import TransactionStatus

    return connection.connection.info.transaction_status == TransactionStatus.INERROR


if ENABLED:
    from sofno.wsgi import application

    # Loaded at collection (one request for the document; no database access), so
    # each operation becomes its own test item named after it.
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)

    @schema.parametrize()
    @settings(
        max_examples=EXAMPLES,
        deadline=5000,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def test_it_answers_every_operation_within_its_schema(case, cast, unlimited):
        with as_its_own_request():
            response = case.call(headers={"Authorization": f"Bearer {cast.key}"})
        case.validate_response(response, checks=CHECKS)

    class Workflow(schema.as_state_machine()):
        """Chains of calls along the inferred links, with the test's admin key.

        Each scenario starts from the same database (a savepoint rolled back after
        it), so Hypothesis meets the same state when it replays a failing chain.
        """

        key = ""
        reached: list[str] = []  # PATCH/DELETE calls that found a real object

        def setup(self):
            from django.db import transaction

            self.savepoint = transaction.savepoint()

        def teardown(self):
            from django.db import transaction

            transaction.savepoint_rollback(self.savepoint)

        def call(self, case, **kwargs):
            with as_its_own_request():
                return case.call(**kwargs)

        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Bearer {self.key}"}}

        def after_call(self, response, case):
            if case.method in ("PATCH", "DELETE") and response.status_code < 300:
                self.reached.append(f"{case.method} {case.path}")

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    def test_it_answers_chains_of_calls_within_the_schema(cast, unlimited):
        from sofno.core.hooks import DEMO_SEEDERS

        # The demo's sample data, so lists answer real ids for the links to follow.
        for seed in DEMO_SEEDERS:
            seed(cast.org, cast.owner)
        Workflow.key = cast.key
        Workflow.reached = []
        Workflow.run(
            settings=settings(
                max_examples=SCENARIOS,
                stateful_step_count=STEPS,
                deadline=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],  # no shrinking: a bounded run
                suppress_health_check=list(HealthCheck),
            )
        )
        # The links really chained calls: some changes and deletions met real objects.
        assert Workflow.reached, "no chain reached a real object: are links inferred?"
        print(f"stateful: {len(Workflow.reached)} changes reached real objects")

else:

    def test_it_answers_every_operation_within_its_schema():
        pytest.skip("set SOFNO_SCHEMATHESIS=1 to run schemathesis against the API")

    def test_it_answers_chains_of_calls_within_the_schema():
        pytest.skip("set SOFNO_SCHEMATHESIS=1 to run schemathesis against the API")
