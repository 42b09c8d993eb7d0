"""Notification templates: tokens from the event catalog, rendered in a sandbox.

Templates are Jinja2 text rendered by an :class:`ImmutableSandboxedEnvironment`:

- no attribute starting with ``_`` (``''.__class__.__mro__`` is refused), no mutating
  method, no global helpers at all (``cycler``, ``joiner``, ``namespace``, ``range``,
  ``lipsum``, ``dict`` are removed), so a template can only read the event's tokens;
- no ``{% include %}``, ``{% import %}``, ``{% extends %}`` (no loader: no file access),
  and nothing in the sandbox reaches the network;
- HTML bodies are autoescaped, text bodies and subjects are not.

Every render is bounded (see :mod:`sofno.notify.routing.template_sandbox`): intermediate
values, loop steps, produced size and time, so a template can neither bloat nor
hang the process that renders it.

At save time :func:`check` parses a template and names every token the event type
does not carry (``{{ custmer.name }}``), so a typo is refused before anything is sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError
from jinja2.meta import find_undeclared_variables

from sofno.events.catalog import EventType, Token
from sofno.notify.routing.template_sandbox import (
    FORBIDDEN_TAGS,
    HTML,
    MAX_OUTPUT,
    MAX_SEQUENCE,
    MAX_SOURCE,
    MAX_STEPS,
    MAX_STRING,
    RENDER_SECONDS,
    TEXT,
    Bounds,
    TemplateRefused,
    budgeted,
    current_budget,
)

__all__ = [
    "MAX_OUTPUT",
    "MAX_SEQUENCE",
    "MAX_STEPS",
    "MAX_STRING",
    "RENDER_SECONDS",
    "Parts",
    "Problem",
    "Rendered",
    "TemplateRefused",
    "check",
    "event_context",
    "render",
    "render_source",
    "sample_context",
    "trial_render",
]

# Names every template may use besides the event type's tokens.
EVENT_TOKENS = (
    Token("event.id", "string", "The event's public id.", "6f1c2a4e-…"),
    Token("event.type", "string", "The event type.", "device.offline"),
    Token("event.subject", "string", "What the event is about.", "device:…"),
    Token("event.sequence", "integer", "The event's number in the log.", 1042),
    Token("event.occurred_at", "datetime", "When it happened.", "2026-11-22T04:00:00+00:00"),
    Token("recipient.name", "string", "The person the message is for.", "Adam Smith"),
    Token("organization.name", "string", "Your organization.", "Acme Support"),
    Token("base_url", "string", "SOFNO's public address.", "https://sofno.example"),
)


@dataclass
class Problem:
    """One reason a template part cannot be saved."""

    field: str
    rule: str
    message: str


def known_names(event_type: EventType | None) -> tuple[set[str], set[str]]:
    """``(names, open_prefixes)`` a template for ``event_type`` may use.

    - every token name and each of its dotted prefixes (``customer`` for
      ``customer.name``) is a name;
    - object and array tokens are open: anything below them is allowed.
    """
    tokens = (*EVENT_TOKENS, *(event_type.tokens if event_type else ()))
    names: set[str] = set()
    open_prefixes: set[str] = set()
    for token in tokens:
        parts = token.name.split(".")
        for end in range(1, len(parts) + 1):
            names.add(".".join(parts[:end]))
        if token.type in ("object", "array"):
            open_prefixes.add(token.name)
    return names, open_prefixes


def _chains(ast: nodes.Template, roots: set[str]) -> list[str]:
    """Dotted names read from the context: ``customer.name`` for ``{{ customer.name }}``."""
    found = []
    inner: set[int] = set()
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        if id(node) in inner:
            continue
        parts: list[str] = []
        current: nodes.Node = node
        while isinstance(current, nodes.Getattr | nodes.Getitem):
            inner.add(id(current))
            if isinstance(current, nodes.Getattr):
                parts.append(current.attr)
            elif isinstance(current.arg, nodes.Const) and isinstance(current.arg.value, str):
                parts.append(current.arg.value)
            else:
                parts = []  # a computed key: only its root can be checked
            current = current.node
        if isinstance(current, nodes.Name) and current.name in roots:
            found.append(".".join([current.name, *reversed(parts)]))
    return found


def check_source(source: str, event_type: EventType | None, field_name: str) -> list[Problem]:
    """Problems with one template text: syntax, forbidden tags, unknown tokens."""
    if not source:
        return []
    if len(source) > MAX_SOURCE:
        return [Problem(field_name, "too_large", f"at most {MAX_SOURCE} characters")]
    try:
        ast = TEXT.parse(source)
        TEXT.compile(ast)  # unknown filters and tests are compile-time errors
    except TemplateSyntaxError as exc:
        return [Problem(field_name, "syntax", f"line {exc.lineno}: {exc.message}")]
    problems = []
    for node in ast.find_all(FORBIDDEN_TAGS):
        tag = type(node).__name__.lower()
        problems.append(
            Problem(field_name, "forbidden_tag", f"{{% {tag} %}} is not allowed in templates")
        )
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        name = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", "")
        if isinstance(name, str) and name.startswith("_"):
            problems.append(
                Problem(field_name, "forbidden_attribute", f"{name!r} is internal: not allowed")
            )
    for node in ast.find_all(nodes.Filter):
        if node.name == "attr":
            problems.append(
                Problem(field_name, "forbidden_filter", "the attr filter is not allowed")
            )
    undeclared = find_undeclared_variables(ast)
    names, open_prefixes = known_names(event_type)
    type_name = event_type.name if event_type else "this event"
    reported: set[str] = set()
    for name in sorted(undeclared):
        if name not in names:
            reported.add(name)
            problems.append(
                Problem(field_name, "unknown_token", f"unknown token {name!r} for {type_name}")
            )
    for chain in _chains(ast, undeclared):
        if chain.split(".")[0] in reported or chain in reported:
            continue
        if chain in names or _under_open(chain, open_prefixes):
            continue
        reported.add(chain)
        problems.append(
            Problem(field_name, "unknown_token", f"unknown token {chain!r} for {type_name}")
        )
    return problems


def _under_open(chain: str, open_prefixes: set[str]) -> bool:
    parts = chain.split(".")
    return any(".".join(parts[:end]) in open_prefixes for end in range(1, len(parts)))


@dataclass
class Parts:
    """The renderable parts of a template (subject, HTML body, text body)."""

    subject: str = ""
    html_body: str = ""
    text_body: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def check(parts: Parts, event_type: EventType | None, *, trial: bool = True) -> list[Problem]:
    """Every problem in a template's parts, each naming its field and rule.

    With ``trial`` (saving), a template without other problems is also rendered with
    the event type's sample data within the render budget (:func:`trial_render`).
    """
    problems = []
    for name in ("subject", "html_body", "text_body"):
        problems += check_source(getattr(parts, name), event_type, name)
    for name, source in parts.extra.items():
        problems += check_source(source, event_type, name)
    if trial and not problems:
        problems += trial_render(parts, event_type)
    return problems


@dataclass
class Rendered:
    """A template rendered for one event and one recipient."""

    subject: str
    html: str
    text: str
    extra: dict[str, str] = field(default_factory=dict)


@lru_cache(maxsize=512)
def _compiled(source: str, html: bool):
    env = HTML if html else TEXT
    if len(source) > MAX_SOURCE:
        raise TemplateRefused("too_large", f"a template part is at most {MAX_SOURCE} characters")
    ast = env.parse(source)
    if any(True for _ in ast.find_all(FORBIDDEN_TAGS)):
        raise TemplateRefused("forbidden_tag", "include, import and extends are not allowed")
    return env.from_string(Bounds().visit(ast))


def render_source(source: str, context: dict[str, Any], *, html: bool = False) -> str:
    """Render one template text in the sandbox, within the current render's budget
    (a budget of its own when called alone); refusals raise TemplateRefused."""
    if not source:
        return ""
    if current_budget() is None:
        with budgeted():
            return render_source(source, context, html=html)
    pieces, size = [], 0
    try:
        for piece in _compiled(source, html).generate(context):
            size += len(piece)
            if size > MAX_OUTPUT:
                raise TemplateRefused("too_large", "the rendered text is too large")
            pieces.append(piece)
    except TemplateRefused:
        raise
    except SecurityError as exc:
        raise TemplateRefused("sandbox", f"refused by the template sandbox: {exc}") from None
    except MemoryError:
        raise TemplateRefused("too_large", "the template needs too much memory") from None
    except Exception as exc:  # any other failure of a user's template is a render error
        raise TemplateRefused("render", f"could not render: {exc}") from None
    return "".join(pieces)


def render(parts: Parts, context: dict[str, Any], seconds: float = RENDER_SECONDS) -> Rendered:
    """Render every part within one budget (``seconds``); the subject is one line."""
    with budgeted(seconds):
        subject = " ".join(render_source(parts.subject, context).split())
        return Rendered(
            subject=subject[:300],
            html=render_source(parts.html_body, context, html=True),
            text=render_source(parts.text_body, context),
            extra={k: render_source(v, context) for k, v in parts.extra.items()},
        )


def trial_render(parts: Parts, event_type: EventType | None) -> list[Problem]:
    """Render ``parts`` with the event type's sample data, as saving does: a part that
    breaks a bound (or fails) is a problem naming its field."""
    problems = []
    context = sample_context(event_type)
    with budgeted():
        for name, source, html in (
            ("subject", parts.subject, False),
            ("html_body", parts.html_body, True),
            ("text_body", parts.text_body, False),
            *((k, v, False) for k, v in parts.extra.items()),
        ):
            try:
                render_source(source, context, html=html)
            except TemplateRefused as refused:
                problems.append(Problem(name, refused.rule, refused.message))
    return problems


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"customer.name": x}`` -> ``{"customer": {"name": x}}`` (existing dicts merge)."""
    out: dict[str, Any] = {}
    for name in sorted(flat, key=lambda n: n.count(".")):
        parts = name.split(".")
        target = out
        for part in parts[:-1]:
            child = target.get(part)
            if not isinstance(child, dict):
                child = {}
                target[part] = child
            target = child
        leaf = parts[-1]
        if isinstance(target.get(leaf), dict) and isinstance(flat[name], dict):
            continue  # an object token's example never hides its fields' examples
        target[leaf] = flat[name]
    return out


def sample_context(event_type: EventType | None) -> dict[str, Any]:
    """A context built from the tokens' examples, for the live preview."""
    flat: dict[str, Any] = {}
    for token in (*EVENT_TOKENS, *(event_type.tokens if event_type else ())):
        example = token.example
        if example is None or example == {}:
            example = {} if token.type == "object" else f"[{token.name}]"
        flat[token.name] = example
    if event_type:
        flat["event.type"] = event_type.name
    return _nest(flat)


def event_context(
    event, *, recipient_name: str = "", organization_name: str = "", base_url: str = ""
) -> dict[str, Any]:
    """The context of a real event: its payload, ``event.*`` and the recipient."""
    occurred = event.occurred_at
    return {
        **(event.payload or {}),
        "event": {
            "id": str(event.public_id),
            "type": event.type,
            "subject": event.subject,
            "sequence": event.sequence,
            "occurred_at": occurred.isoformat() if isinstance(occurred, dt.datetime) else "",
        },
        "recipient": {"name": recipient_name},
        "organization": {"name": organization_name},
        "base_url": base_url,
    }
