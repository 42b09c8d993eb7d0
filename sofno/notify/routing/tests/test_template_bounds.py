"""Templates are bounded: size of every intermediate value, loop steps, time, memory.

The two bombs of issue 12 (``'x'*199999`` doubled twelve times, three nested loops
that ran 51 s) and their cousins are refused within the render budget, at preview,
at save (a 422 naming the field) and at send; a separate process rendering all of
them grows by less than ``MEMORY_CAP_MB``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from sofno.notify import reasons as why
from sofno.notify.routing.templating import (
    MAX_STEPS,
    MAX_STRING,
    RENDER_SECONDS,
    Parts,
    TemplateRefused,
    render,
)

MEMORY_CAP_MB = 64  # peak RSS growth of a process rendering every bomb below
SLACK = 0.5  # seconds beyond the budget: one bounded operation plus a slow machine

BOMBS = {
    "doubled twelve times": "{% set a='x'*199999 %}" + "{% set a = a ~ a %}" * 12 + "{{ a }}",
    "doubled with +": "{% set a='x'*199999 %}" + "{% set a = a + a %}" * 12 + "{{ a }}",
    "three nested loops": (
        "{% for a in 'x'*199999 %}{% for b in 'x'*199999 %}{% for c in 'x'*199999 %}"
        "{{ c }}{% endfor %}{% endfor %}{% endfor %}"
    ),
    "recursive macro": "{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "padding": "{{ 'x'|center(1000000000) }}",
    "replace": "{{ ('x'*199999)|replace('x', 'x'*199999) }}",
    "percent width": "{{ '%999999999s' % 'x' }}",
    "format width": "{{ '{:>999999999}'.format(1) }}",
    "join": "{% set l = ['x'*199999]*10000 %}{{ l|join }}",
    "accumulate": "{% set l = [] %}{% for i in 'x'*5000 %}{% set l = l + ['y'*199999] %}"
    "{% endfor %}{{ l|length }}",
    "power tower": "{{ ((9**64)**64)**64 }}",
    "indent": "{{ ('\\n'*199999)|indent(199999) }}",
    "wordwrap": "{{ ('x '*99999)|wordwrap(1, true, 'y'*199999) }}",
    "big list": "{{ ('x'*199999)|list|length }}",
    "block set": "{% set b = 'x'*199999 %}{% set a %}{% for i in 'x'*9999 %}{{ b }}{% endfor %}"
    "{% endset %}{{ a|length }}",
    "macro body": "{% macro m() %}{% for i in 'x'*9999 %}{{ 'x'*199999 }}{% endfor %}"
    "{% endmacro %}{{ m()|length }}",
    "template data": "{% for i in 'x'*9999 %}" + "y" * 49_000 + "{% endfor %}",
    "list as text": "{% set l = ['x'*199999]*10000 %}{{ l }}",
    "list to json": "{% set l = ['x'*199999]*10000 %}{{ l|tojson|length }}",
    "list in a format": "{% set l = ['x'*199999]*10000 %}{{ '%s' % (l,) }}",
    "slow steps": "{% set s = 'x '*99999 %}{% for i in s %}{{ s|wordcount }}{% endfor %}",
}


@pytest.mark.parametrize("source", BOMBS.values(), ids=BOMBS.keys())
def test_it_refuses_each_bomb_within_the_time_budget(source):
    started = time.monotonic()
    with pytest.raises(TemplateRefused) as caught:
        render(Parts(text_body=source), {})
    assert time.monotonic() - started < RENDER_SECONDS + SLACK
    assert caught.value.rule in ("sandbox", "render", "too_large")


def test_the_time_budget_stops_a_render_that_stays_under_every_size_bound():
    started = time.monotonic()
    with pytest.raises(TemplateRefused, match="longer than"):
        render(Parts(text_body=BOMBS["slow steps"]), {}, seconds=0.3)
    assert 0.3 <= time.monotonic() - started < 0.3 + SLACK


def test_it_still_renders_honest_templates_up_to_the_bounds():
    body = "{% for c in s %}{{ c|upper }}{% endfor %}|{{ ('ab' * 1000)|replace('a', 'xy')|length }}"
    rendered = render(Parts(text_body=body), {"s": "abc"})
    assert rendered.text == "ABC|3000"
    assert len(render(Parts(text_body="{{ 'x' * n }}"), {"n": MAX_STRING}).text) == MAX_STRING
    steps = "{% for a in s %}{% for b in s %}.{% endfor %}{% endfor %}"
    assert len(render(Parts(text_body=steps), {"s": "x" * 100}).text) == 100 * 100 < MAX_STEPS


def test_long_numbers_in_a_format_are_text_not_widths():
    body = "{{ 'Ticket 1234567: %s' % n }} {{ 'Ref 9876543 {}'.format(n) }} {{ '%5d'|format(n) }}"
    expected = "Ticket 1234567: 42 Ref 9876543 42    42"
    assert render(Parts(text_body=body), {"n": 42}).text == expected
    for bomb in ("{{ '%*s' % (9, 'x') }}", "{{ '%.1000000f' % 1 }}", "{{ '%(a)999999s' % {} }}"):
        with pytest.raises(TemplateRefused):
            render(Parts(text_body=bomb), {})


def test_it_stays_under_the_memory_cap_rendering_every_bomb():
    code = (
        "import json, os, sys\n"
        "import django\n"
        "django.setup()\n"
        "from sofno.notify.routing.templating import Parts, TemplateRefused, render\n"
        "from sofno.notify.routing.tests.test_template_bounds import BOMBS\n"
        "def peak():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM'):\n"
        "            return int(line.split()[1]) / 1024\n"
        "render(Parts(text_body='{{ 1 }}'), {})\n"
        "before = peak()\n"
        "refused = 0\n"
        "for source in BOMBS.values():\n"
        "    try:\n"
        "        render(Parts(text_body=source), {})\n"
        "    except TemplateRefused:\n"
        "        refused += 1\n"
        "print(json.dumps({'growth_mb': peak() - before, 'refused': refused}))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sofno.settings"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    assert measured["refused"] == len(BOMBS)
    assert measured["growth_mb"] < MEMORY_CAP_MB, measured


@pytest.mark.parametrize("name", ["doubled twelve times", "three nested loops"])
def test_saving_a_bomb_is_refused_naming_the_field(cast, api_client, name):
    body = {
        "name": "Bomb",
        "event_type": "device.offline",
        "channel": "email",
        "subject": "Offline",
        "text_body": BOMBS[name],
    }
    client = api_client(cast.key)
    client.get("/notification-templates")  # the first request of a process loads the API
    started = time.monotonic()
    response = client.post("/notification-templates", body)
    assert time.monotonic() - started < RENDER_SECONDS + 2 * SLACK
    assert response.status_code == 422, response.content
    (error,) = response.json()["errors"]
    assert error["field"] == "text_body" and error["rule"] == "sandbox"


def test_a_preview_of_a_bomb_answers_within_the_budget_with_the_problem(cast, api_client):
    body = {"event_type": "device.offline", "text_body": BOMBS["doubled twelve times"]}
    client = api_client(cast.key)
    client.get("/notification-templates")  # the first request of a process loads the API
    started = time.monotonic()
    response = client.post("/notification-templates/preview", body)
    assert time.monotonic() - started < RENDER_SECONDS + 2 * SLACK
    assert response.status_code == 200
    assert response.json()["text"] == ""
    assert [p["rule"] for p in response.json()["problems"]] == ["sandbox"]


def test_at_send_time_a_bomb_falls_back_to_the_default_message(cast):
    from sofno.events.emit import emit
    from sofno.notify.models import Template
    from sofno.notify.routing import recipients
    from sofno.notify.routing.planning import compose

    # Stored before the bounds existed (saving refuses it now).
    Template.objects.create(
        organization=cast.org,
        name="Bomb",
        event_type="customer.created",
        channel="email",
        subject="x",
        text_body=BOMBS["three nested loops"],
    )
    event = emit(cast.org, "customer.created", "c", {})
    reasons: list = []
    person = recipients.Recipient(key="x", name="Olivia", email="o@x.test")
    started = time.monotonic()
    content = compose(event, "email", person, reasons)
    assert time.monotonic() - started < RENDER_SECONDS + SLACK
    assert [r["code"] for r in reasons] == [why.TEMPLATE_REFUSED]
    assert "refused" in why.text(reasons[0])
    assert content["text"] and "x" * 1000 not in content["text"]


def test_at_send_time_a_refused_template_is_a_failed_attempt_and_the_default_goes_out(
    cast, settings
):
    from sofno.events.emit import emit
    from sofno.notify.models import Attempt, Delivery, NotificationRule, Template
    from sofno.notify.routing.dispatcher import dispatch_organization

    Template.objects.create(
        organization=cast.org,
        name="Bomb",
        event_type="customer.created",
        channel="inapp",
        subject="x",
        text_body=BOMBS["three nested loops"],
    )
    NotificationRule.objects.create(
        organization=cast.org,
        name="New customers",
        event_types=["customer.created"],
        recipients=[{"kind": "role", "value": "owner"}],
        channels=["inapp"],
    )
    emit(cast.org, "customer.created", "c", {})
    dispatch_organization(cast.org.pk)
    delivery = Delivery.objects.get(channel="inapp")
    attempt = Attempt.objects.get(delivery=delivery)
    assert not attempt.ok
    assert "'Bomb' refused" in attempt.detail and "default wording" in attempt.detail
    assert delivery.message.content["text"]  # the default wording still goes out
