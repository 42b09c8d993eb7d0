"""The bounded Jinja sandbox notification templates render in.

Every render is bounded (:class:`Budget`), so a template can neither bloat nor hang
the process that renders it (the preview's web process, the worker):

- every intermediate string is at most ``MAX_STRING`` characters and every sequence
  at most ``MAX_SEQUENCE`` items: ``+ * % **`` and ``~`` are checked *before* they
  allocate (``~`` is rewritten into a checked join), as are the calls and filters
  that can grow a value (``replace``, ``join``, ``center``, ``indent``, ``wordwrap``,
  ``format``, padding widths); every call and filter result is checked after;
- everything produced during one render adds up to at most ``MAX_PRODUCED``
  characters/items, which bounds what a render can keep alive at once;
- loop iterations, calls and filters count as steps, at most ``MAX_STEPS`` per
  render (nested loops multiply: ``{% for %}`` inside ``{% for %}`` counts each
  inner step), and the output at most ``MAX_OUTPUT`` characters;
- a render has ``RENDER_SECONDS`` of wall-clock time, checked cooperatively at every
  step, operator, call and filter; between two checks runs one bounded operation
  (milliseconds), so a render stops within the budget plus that.

Numbers: ``MAX_STRING`` 200,000 characters, ``MAX_SEQUENCE`` 10,000 items,
``MAX_PRODUCED`` 2,000,000, ``MAX_STEPS`` 20,000, ``RENDER_SECONDS`` 1 s; a separate
process rendering every known template bomb grows by under 64 MB (measured ~5 MB).
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import time
from collections.abc import Iterable, Iterator
from functools import wraps
from typing import Any

from jinja2 import ChainableUndefined, nodes, pass_context, pass_eval_context
from jinja2.exceptions import SecurityError
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg
from jinja2.visitor import NodeTransformer

MAX_OUTPUT = 200_000  # characters: more is a mistake or an attack, never a notification
MAX_STRING = 200_000  # characters of any one intermediate string
MAX_SEQUENCE = 10_000  # items of any one list, tuple or dict
MAX_PRODUCED = 2_000_000  # characters/items produced by all operations of one render
MAX_STEPS = 20_000  # loop iterations, calls and filters of one render
MAX_INT_BITS = 4_096  # an integer result larger than this is no notification's business
MAX_SOURCE = 50_000  # characters of one template part
RENDER_SECONDS = 1.0  # wall-clock budget of one render (all parts of a message)
FORBIDDEN_TAGS = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)
# Filters that cannot be bounded cheaply and no notification needs.
REMOVED_FILTERS = ("pprint", "xmlattr", "urlize")
# A width or precision of six digits, or one taken from the arguments ("*"), in a
# %-format; a six-digit width in a str.format field. Other long numbers are text.
_WIDE_PERCENT = re.compile(r"%(\([^)]*\))?[-+ #0]*(\*|\d{6,}|\d*\.(\*|\d{6,}))")
_WIDE_BRACE = re.compile(r"\{[^{}]*:[^{}]*\d{6,}")


class TemplateRefused(ValueError):
    """A template that may not be saved or rendered; ``rule`` is machine-readable."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


class Budget:
    """What one render may still spend: time, steps and produced size."""

    def __init__(self, seconds: float = RENDER_SECONDS) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.steps = 0
        self.produced = 0

    def step(self) -> None:
        """Count a step and check the clock."""
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise SecurityError(f"more than {MAX_STEPS} loop iterations and calls")
        if time.monotonic() > self.deadline:
            raise SecurityError(f"rendering took longer than {self.seconds:g} s")

    def produce(self, value: Any) -> Any:
        """Check ``value``'s size against the bounds and count it as produced."""
        size = _size(value)
        if size:
            if isinstance(value, str) and size > MAX_STRING:
                raise SecurityError(f"a string longer than {MAX_STRING} characters")
            if not isinstance(value, str) and size > MAX_SEQUENCE:
                raise SecurityError(f"a sequence longer than {MAX_SEQUENCE} items")
            self.produced += size
            if self.produced > MAX_PRODUCED:
                raise SecurityError(f"more than {MAX_PRODUCED} characters produced")
        elif isinstance(value, int) and not isinstance(value, bool):
            _too_big(value.bit_length())
        return value


_BUDGET: contextvars.ContextVar[Budget | None] = contextvars.ContextVar(
    "sofno_template_budget", default=None
)


def _budget() -> Budget:
    # Outside render() (nothing renders there today) the size bounds still hold, on
    # a throw-away budget: never one left behind in the thread for later renders.
    return _BUDGET.get() or Budget()


def _size(value: Any) -> int:
    if isinstance(value, str | bytes | list | tuple | dict | set | frozenset):
        return len(value)
    return 0


def _text_size(value: Any, limit: int = MAX_STRING) -> int:
    """How long ``str(value)`` would be, walking containers without building the
    text; stops counting once past ``limit`` (a list of 10,000 references to one
    long string is small in memory and gigabytes as text)."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str | bytes):
            total += len(item) + 2
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
            total += 2 + 2 * len(item)
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
            total += 2 + 2 * len(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            total += max(1, item.bit_length() // 3)
        else:
            total += 24  # numbers, None, undefined: short
    return total


def _check_text(*values: Any) -> None:
    """Refuse turning ``values`` into text when that text would be too long."""
    if sum(_text_size(v) for v in values if not isinstance(v, str)) > MAX_STRING:
        raise SecurityError(f"a string longer than {MAX_STRING} characters")


def _check_ints(args: Iterable[Any]) -> None:
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_STRING:
            raise SecurityError(f"a number argument above {MAX_STRING}")


def _check_format(text: Any, *, brace: bool = False) -> None:
    pattern = _WIDE_BRACE if brace else _WIDE_PERCENT
    if isinstance(text, str) and pattern.search(text):
        raise SecurityError("a format width of six digits or a * width")


def _take(items: Any) -> list:
    """``items`` as a list, refused past ``MAX_SEQUENCE`` without reading further."""
    taken = []
    for item in items:
        taken.append(item)
        if len(taken) > MAX_SEQUENCE:
            raise SecurityError(f"a sequence longer than {MAX_SEQUENCE} items")
    return taken


def _joined_length(separator: Any, items: list) -> int:
    return sum(_text_size(i) for i in items) + len(str(separator)) * len(items)


def _grown_length(name: str, text: str, args: tuple, kwargs: dict) -> int:
    """An upper bound of what ``replace``/``indent``/``wordwrap``/``expandtabs`` of
    ``text`` would produce, known before running them."""
    if name == "replace" and len(args) >= 2:
        old, new = str(args[0]), str(args[1])
        count = text.count(old) if old else len(text) + 1
        if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
            count = min(count, args[2])
        return len(text) + count * max(0, len(new) - len(old))
    if name == "indent":
        width = args[0] if args else kwargs.get("width", 4)
        pad = width if isinstance(width, int) else len(str(width))
        return len(text) + (text.count("\n") + 1) * pad
    if name == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        return len(text) + text.count("\t") * max(0, int(size))
    if name == "wordwrap":
        width = args[0] if args else kwargs.get("width", 79)
        wrap = args[2] if len(args) > 2 else kwargs.get("wrapstring") or "\n"
        return len(text) + (len(text) // max(1, int(width)) + 1) * len(str(wrap))
    return len(text)


_GROWING = {"replace", "indent", "wordwrap", "expandtabs"}
# Filters that do not turn their value into text (the others are checked first).
_NOT_TEXT = {
    "abs", "attr", "batch", "count", "d", "default", "dictsort", "first", "float",
    "groupby", "int", "items", "join", "last", "length", "list", "map", "max", "min",
    "random", "reject", "rejectattr", "reverse", "round", "select", "selectattr",
    "slice", "sort", "sum", "unique", "_sofno_concat", "_sofno_steps", "_sofno_out",
}  # fmt: skip


def _checked_filter(name: str, function: Any) -> Any:
    """A built-in filter that counts a step and cannot grow a value past the bounds."""

    passes_first = _PassArg.from_obj(function) is not None

    @wraps(function)  # keeps Jinja's pass_eval_context/pass_environment marks
    def checked(*args: Any, **kwargs: Any) -> Any:
        budget = _budget()
        budget.step()
        lead = 1 if passes_first else 0  # the eval context or environment comes first
        value, rest = (args[lead], args[lead + 1 :]) if len(args) > lead else (None, ())
        _check_ints((*rest, *kwargs.values()))
        if name not in _NOT_TEXT:
            _check_text(value, *rest, *kwargs.values())
        if name == "format":
            _check_format(value)
        if name in _GROWING and _grown_length(name, str(value), rest, kwargs) > MAX_STRING:
            raise SecurityError(f"the {name} filter would build a string too long")
        if name == "join" and value is not None:
            items = _take(value)
            if _joined_length(rest[0] if rest else kwargs.get("d", ""), items) > MAX_STRING:
                raise SecurityError(f"a string longer than {MAX_STRING} characters")
            args = (*args[:lead], items, *rest)
        if name == "sum" and (kwargs.get("start", rest[1] if len(rest) > 1 else 0) != 0):
            raise SecurityError("sum adds numbers only")
        return budget.produce(function(*args, **kwargs))

    return checked


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(["+", "-", "*", "/", "//", "%", "**"])

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        budget = _budget()
        budget.step()
        _check_binop(operator, left, right)
        return budget.produce(super().call_binop(context, operator, left, right))

    def wrap_str_format(self, value: Any) -> Any:
        # Reached on attribute access, so str.format is checked however it is called.
        owner = getattr(value, "__self__", None)
        if isinstance(owner, str) and getattr(value, "__name__", "") in ("format", "format_map"):
            _check_format(owner, brace=True)
        return super().wrap_str_format(value)

    def call(__self, __context, __obj, *args: Any, **kwargs: Any) -> Any:
        budget = _budget()
        budget.step()
        _check_ints((*args, *kwargs.values()))
        name = getattr(__obj, "__name__", "")
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            if name in ("format", "format_map"):
                _check_text(*args, *kwargs.values())
            if name in _GROWING and _grown_length(name, owner, args, kwargs) > MAX_STRING:
                raise SecurityError(f"{name}() would build a string too long")
            if name == "join" and args:
                items = _take(args[0])
                if _joined_length(owner, items) > MAX_STRING:
                    raise SecurityError(f"a string longer than {MAX_STRING} characters")
                args = (items, *args[1:])
        return budget.produce(super().call(__context, __obj, *args, **kwargs))


def _too_big(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise SecurityError("a number too large")


def _check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse an operation whose result would break a bound, before computing it."""
    ints = isinstance(left, int) and isinstance(right, int)
    if operator == "**":
        if isinstance(right, int | float) and abs(right) > 64:
            raise SecurityError("exponent too large")
        if ints and right > 0:
            _too_big(max(1, left.bit_length()) * right)
    elif operator == "*":
        if ints:
            _too_big(left.bit_length() + right.bit_length())
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(count, int):
                limit = MAX_STRING if isinstance(seq, str) else MAX_SEQUENCE
                if len(seq) * count > limit:
                    raise SecurityError("result too large")
    elif operator == "+" and isinstance(left, str | list | tuple):
        limit = MAX_STRING if isinstance(left, str) else MAX_SEQUENCE
        if _size(left) + _size(right) > limit:
            raise SecurityError("result too large")
    elif operator == "%" and isinstance(left, str):
        _check_format(left)
        _check_ints(right if isinstance(right, tuple) else (right,))
        _check_text(right)


@pass_eval_context
def _bounded_concat(eval_ctx, values: list) -> str:
    """``a ~ b ~ c``, refused before joining when the result would be too long."""
    budget = _budget()
    budget.step()
    if sum(len(v) if isinstance(v, str) else _text_size(v) for v in values) > MAX_STRING:
        raise SecurityError(f"a string longer than {MAX_STRING} characters")
    return budget.produce((markup_join if eval_ctx.autoescape else str_join)(values))


@pass_context  # never folded at compile time: every piece is counted when rendered
def _counted_output(context: Any, value: Any) -> Any:
    """A piece of output (also inside ``{% set %}`` blocks, macros and filter blocks,
    which Jinja joins on its own), counted as produced."""
    budget = _budget()
    if time.monotonic() > budget.deadline:
        raise SecurityError(f"rendering took longer than {budget.seconds:g} s")
    if not isinstance(value, str):
        _check_text(value)
        value = str(value)
    budget.produce(value)
    return value


def _counted(iterable: Any) -> Iterator[Any]:
    """A loop's iterable, each iteration counted against the render's budget."""
    budget = _budget()
    for item in iterable:
        budget.step()
        yield item


class Bounds(NodeTransformer):
    """Rewrite ``~`` into a checked join, loops into counted loops and every piece of
    output into a counted one."""

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        node = self.generic_visit(node)
        values = nodes.List(node.nodes, lineno=node.lineno)
        return nodes.Filter(values, "_sofno_concat", [], [], None, None, lineno=node.lineno)

    def visit_Output(self, node: nodes.Output) -> nodes.Node:
        node = self.generic_visit(node)
        node.nodes = [
            nodes.Filter(child, "_sofno_out", [], [], None, None, lineno=child.lineno)
            for child in node.nodes
        ]
        return node

    def visit_For(self, node: nodes.For) -> nodes.Node:
        node = self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, "_sofno_steps", [], [], None, None, lineno=node.lineno)
        return node


def _environment(autoescape: bool) -> _Sandbox:
    env = _Sandbox(autoescape=autoescape, undefined=ChainableUndefined, loader=None)
    # The default globals (range, dict, lipsum, cycler, joiner, namespace) are the
    # classic ways out of a sandbox, or at least to burn CPU: a template gets none.
    env.globals.clear()
    for name in REMOVED_FILTERS:
        env.filters.pop(name, None)
    env.filters = {name: _checked_filter(name, f) for name, f in env.filters.items()}
    env.filters["_sofno_concat"] = _bounded_concat
    env.filters["_sofno_steps"] = _counted
    env.filters["_sofno_out"] = _counted_output
    return env


TEXT = _environment(autoescape=False)
HTML = _environment(autoescape=True)


def current_budget() -> Budget | None:
    """The budget of the render in progress in this context, if any."""
    return _BUDGET.get()


@contextlib.contextmanager
def budgeted(seconds: float = RENDER_SECONDS) -> Iterator[Budget]:
    """Render inside this block with one budget of ``seconds``."""
    budget = Budget(seconds)
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)
