"""Templates: sandbox escapes refused, unknown tokens reported, defaults for every type."""

from __future__ import annotations

import pytest

from sofno.events import catalog
from sofno.events.catalog import EventType, Token
from sofno.notify.routing.default_templates import default_parts
from sofno.notify.routing.templating import (
    Parts,
    TemplateRefused,
    check,
    check_source,
    render,
    render_source,
    sample_context,
)

OFFLINE = catalog.builtin("device.offline")
TICKET = catalog.builtin("ticket.status_changed")

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ device_name.__class__ }}",
    "{{ (device_name|attr('__class__')) }}",
    "{{ 'x' * 100000000 }}",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_it_refuses_sandbox_escapes_when_rendering(source):
    try:
        out = render_source(source, sample_context(OFFLINE))
    except TemplateRefused as refused:
        assert refused.rule in ("sandbox", "render")
    else:
        # Globals are gone and internals unreachable: nothing leaks into the output.
        assert out.strip() == ""


def test_it_reports_escaping_globals_as_unknown_tokens_at_save_time():
    for name in ("cycler", "joiner", "namespace", "lipsum", "range", "dict"):
        problems = check_source(f"{{{{ {name} }}}}", OFFLINE, "text_body")
        assert [(p.field, p.rule) for p in problems] == [("text_body", "unknown_token")], name


def test_it_refuses_include_import_and_extends():
    for source in ('{% include "/etc/passwd" %}', '{% import "x" as y %}', '{% extends "b" %}'):
        (problem,) = check_source(source, OFFLINE, "html_body")
        assert problem.rule == "forbidden_tag"
        with pytest.raises(TemplateRefused):
            render_source(source, {})


def test_it_reports_unknown_tokens_and_chains():
    parts = Parts(
        subject="{{ device_name }} {{ custmer_name }}",
        text_body="{{ ticket.title }} {{ event.typo }} {{ event.type }}",
    )
    problems = check(parts, OFFLINE)
    assert {(p.field, p.message) for p in problems} == {
        ("subject", "unknown token 'custmer_name' for device.offline"),
        ("text_body", "unknown token 'ticket' for device.offline"),
        ("text_body", "unknown token 'event.typo' for device.offline"),
    }


def test_it_accepts_dotted_tokens_loops_and_open_objects():
    source = (
        "#{{ ticket.number }} {{ status.name }} from {{ previous_status.name }}"
        "{% for t in technicians %}{{ t.name }}{% endfor %}"
    )
    assert check_source(source, TICKET, "text_body") == []
    custom = EventType("x.y", "d", (Token("customer", "object", "", {}),))
    assert check_source("{{ customer.anything.deep }}", custom, "subject") == []


def test_it_reports_syntax_errors_with_the_line():
    (problem,) = check_source("ok\n{{ device_name ", OFFLINE, "text_body")
    assert problem.rule == "syntax" and problem.message.startswith("line ")
    (problem,) = check_source("{{ device_name|nosuchfilter }}", OFFLINE, "text_body")
    assert problem.rule == "syntax"


def test_it_escapes_html_but_not_text():
    context = {"device_name": "<script>x</script>"}
    rendered = render(
        Parts("{{ device_name }}", "<b>{{ device_name }}</b>", "{{ device_name }}"), context
    )
    assert rendered.html == "<b>&lt;script&gt;x&lt;/script&gt;</b>"
    assert rendered.text == "<script>x</script>"
    assert rendered.subject == "<script>x</script>"


def test_it_renders_missing_payload_fields_as_nothing():
    assert render_source("[{{ ticket.title }}]", {}) == "[]"


def test_it_builds_a_preview_from_token_examples():
    context = sample_context(TICKET)
    out = render_source("#{{ ticket.number }} {{ customer.name }} {{ event.type }}", context)
    assert out == "#42 Trattoria Da Mario ticket.status_changed"


@pytest.mark.parametrize("channel", ["email", "sms", "voice", "inapp", "webpush", "apprise"])
def test_it_has_a_valid_default_template_for_every_builtin_type(channel):
    assert len(catalog.BUILTIN) > 20
    for event_type in catalog.BUILTIN.values():
        parts = default_parts(event_type, channel)
        assert check(parts, event_type) == [], event_type.name
        rendered = render(parts, sample_context(event_type))
        assert rendered.subject, event_type.name
        assert rendered.text, event_type.name


def test_it_refuses_internal_attributes_and_the_attr_filter_at_save_time():
    for source in ("{{ ''.__class__ }}", "{{ device_name['__class__'] }}"):
        rules = {p.rule for p in check_source(source, OFFLINE, "subject")}
        assert "forbidden_attribute" in rules
    (problem,) = check_source("{{ device_name|attr('upper') }}", OFFLINE, "subject")
    assert problem.rule == "forbidden_filter"
