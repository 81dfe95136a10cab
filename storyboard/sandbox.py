"""The Jinja sandbox with bounded work: no template can hang or exhaust memory.

:class:`BoundedSandbox` is Jinja's immutable sandbox (attribute checks, no mutating
methods) plus limits on what a template may build or do while it renders:

* every text, list or mapping it builds: at most :data:`MAX_SIZE` characters or items
  (checked *before* ``*``, ``+``, ``%``, ``str.format``, ``join``, ``replace``,
  ``indent``, ... allocate), and integers of at most :data:`MAX_INT_BITS` bits
  (``7 ** (10**8)`` is refused before it is computed);
* numbers passed to functions and filters: at most :data:`MAX_SIZE` (``range``,
  ``center``, ``batch``, ``tojson(indent=...)`` ...);
* work: :data:`MAX_STEPS` loop iterations and macro calls in all, macros nested at most
  :data:`MAX_CALL_DEPTH` deep, and :data:`TIME_BUDGET` seconds of wall-clock time;
* its output: at most :data:`MAX_SIZE` characters.

Each ``render()`` gets its own :class:`Budget`. Breaking a limit raises
:class:`TemplateLimit`, a ``TemplateRuntimeError`` whose traceback carries the template
line (see :func:`storyboard.templating.template_line`).
"""

from __future__ import annotations

import re
import string
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

__all__ = [
    "MAX_CALL_DEPTH",
    "MAX_INT_BITS",
    "MAX_SIZE",
    "MAX_STEPS",
    "TIME_BUDGET",
    "BoundedSandbox",
    "Budget",
    "TemplateLimit",
]

MAX_SIZE = 100_000
"""Characters of any text (the output included) or items of any list a template builds:
40 times Kling's 2,500-character prompt, a few MB of memory at most."""
MAX_INT_BITS = 10_000
"""Bits of any integer a template computes (about 3,000 digits)."""
MAX_STEPS = 1_000_000
"""Loop iterations plus macro calls in one render."""
MAX_CALL_DEPTH = 50
"""Macros calling macros (recursion included), at most this deep."""
TIME_BUDGET = 2.0
"""Seconds one render may take (a prompt renders in well under a millisecond)."""

_DENIED_METHODS = frozenset({"translate", "maketrans", "expandtabs", "to_bytes"})
_PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")


class TemplateLimit(jinja2.TemplateRuntimeError):
    """A template broke one of the sandbox's limits; the message says which. ``slow``:
    the limit is one of work or time (rendering more of the same would be slow too)."""

    def __init__(self, message: str, *, slow: bool = False) -> None:
        super().__init__(message)
        self.slow = slow


class Budget:
    """What one render may still do: steps, call depth and time."""

    def __init__(self, seconds: float = TIME_BUDGET, steps: int = MAX_STEPS) -> None:
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.steps_left = steps
        self.depth = 0

    def step(self) -> None:
        """Count one loop iteration, macro call or output piece."""
        self.steps_left -= 1
        if self.steps_left < 0:
            raise TemplateLimit(
                f"the template does more than {MAX_STEPS:,} loop iterations and macro calls",
                slow=True,
            )
        if self.steps_left % 512 == 0 and time.monotonic() > self.deadline:
            raise TemplateLimit(
                f"the template takes longer than {self.seconds:g} s to render", slow=True
            )

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_CALL_DEPTH:
            raise TemplateLimit(
                f"macros call each other more than {MAX_CALL_DEPTH} levels deep "
                "(a macro that never stops calling itself?)"
            )

    def leave(self) -> None:
        self.depth -= 1


_budget: ContextVar[Budget | None] = ContextVar("storyboard_template_budget", default=None)


def _current() -> Budget:
    budget = _budget.get()
    if budget is None:  # rendering outside BoundedTemplate.render (e.g. a generator)
        budget = Budget()
        _budget.set(budget)
    return budget


class BoundedTemplate(jinja2.Template):
    """A template whose every ``render()`` runs under a fresh :class:`Budget`."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        token = _budget.set(Budget())
        try:
            return super().render(*args, **kwargs)
        finally:
            _budget.reset(token)


class _BoundLoopsAndJoins(NodeTransformer):
    """Route ``for`` iterables and ``~`` through the budget-checking filters."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, "_sb_iter", [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        items = nodes.List(list(node.nodes), lineno=node.lineno)
        return nodes.Filter(items, "_sb_concat", [], [], None, None, lineno=node.lineno)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with the limits of this module."""

    template_class = BoundedTemplate
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters = {name: _guard_filter(name, f) for name, f in self.filters.items()}
        self.filters["_sb_iter"] = _iterate
        self.filters["_sb_concat"] = _concat
        self.globals.pop("lipsum", None)
        self.globals["range"] = _bounded_range

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        result = _BoundLoopsAndJoins().visit(tree)
        assert isinstance(result, nodes.Template)
        return result

    def concat(self, pieces: Iterable[str]) -> str:
        """Join output pieces, stopping as soon as they pass :data:`MAX_SIZE`."""
        budget, total, parts = _current(), 0, []
        for piece in pieces:
            budget.step()
            total += len(piece)
            if total > MAX_SIZE:
                raise TemplateLimit(_too_big("the template's output", total))
            parts.append(piece)
        return "".join(parts)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return attr not in _DENIED_METHODS and super().is_safe_attribute(obj, attr, value)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _check_binop(operator, left, right)
        return _checked(super().call_binop(context, operator, left, right), operator)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_numbers(args, kwargs, getattr(__obj, "__name__", "a function"))
        _check_method(__obj, args)
        budget = _current()
        if not isinstance(__obj, Macro):
            return _checked(super().call(__context, __obj, *args, **kwargs), "a call")
        budget.step()
        budget.enter()
        try:
            return super().call(__context, __obj, *args, **kwargs)
        finally:
            budget.leave()

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        template: str = value.__self__
        mapping = value.__name__ == "format_map"

        def checked(*args: Any, **kwargs: Any) -> str:
            values = list(args[0].values()) if mapping and args else [*args, *kwargs.values()]
            _check_format(template, values)
            return wrapped(*args, **kwargs)

        return checked


# -- the checks ----------------------------------------------------------------------------


def _too_big(what: str, size: int) -> str:
    return f"{what} would be {size:,} characters or items; the limit is {MAX_SIZE:,}"


def _size(value: Any) -> int | None:
    if isinstance(value, str | bytes | list | tuple | dict):
        return len(value)
    return None


def _checked(value: Any, what: str) -> Any:
    """``value`` unless it is over the size or integer limit."""
    size = _size(value)
    if size is not None and size > MAX_SIZE:
        raise TemplateLimit(_too_big(f"the result of {what}", size))
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise TemplateLimit(f"a number over {MAX_INT_BITS:,} bits (from {what})")
    return value


def _check_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        _check_repeat(left, right)
        _check_repeat(right, left)
        if (
            _is_int(left)
            and _is_int(right)
            and (left.bit_length() + right.bit_length() > MAX_INT_BITS)
        ):
            raise TemplateLimit(f"a product of over {MAX_INT_BITS:,} bits")
    elif operator == "**" and _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1:
        if left.bit_length() * right > MAX_INT_BITS:
            raise TemplateLimit(f"a power of over {MAX_INT_BITS:,} bits ({left} ** {right})")
    elif operator == "+":
        first, second = _size(left), _size(right)
        if first is not None and second is not None and first + second > MAX_SIZE:
            raise TemplateLimit(_too_big("a concatenation", first + second))
    elif operator == "%" and isinstance(left, str):
        values = (
            list(right.values())
            if isinstance(right, Mapping)
            else (list(right) if isinstance(right, tuple) else [right])
        )
        _check_printf(left, values)


def _is_int(value: Any) -> bool:
    return isinstance(value, int)


def _check_repeat(sequence: Any, times: Any) -> None:
    size = _size(sequence)
    if size is not None and _is_int(times) and size * times > MAX_SIZE:
        raise TemplateLimit(_too_big("a repetition", size * times))


def _longest(values: Iterable[Any]) -> int:
    return max((len(str(v)) for v in values), default=0)


def _check_printf(template: str, values: list[Any]) -> None:
    specs = _PRINTF_SPEC.findall(template)
    widths = 0
    for width, precision in specs:
        if "*" in (width, precision):
            raise TemplateLimit("`*` widths in %-formatting are not allowed")
        widths += int(width or 0) + int(precision or 0)
    size = len(template) + widths + len(specs) * _longest(values)
    if size > MAX_SIZE:
        raise TemplateLimit(_too_big("a %-formatted text", size))


def _check_format(template: str, values: list[Any]) -> None:
    fields, widths = 0, 0
    for _, field, spec, _ in string.Formatter().parse(template):
        if field is None:
            continue
        fields += 1
        if spec and "{" in spec:
            raise TemplateLimit("nested {} in a format specification are not allowed")
        widths += sum(int(n) for n in re.findall(r"\d+", spec or ""))
    size = len(template) + widths + fields * _longest(values)
    if size > MAX_SIZE:
        raise TemplateLimit(_too_big("a formatted text", size))


def _check_numbers(args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> None:
    for value in (*args, *kwargs.values()):
        if _is_int(value) and abs(value) > MAX_SIZE:
            raise TemplateLimit(
                f"{name} was given {value}; numbers passed to functions and "
                f"filters are limited to {MAX_SIZE:,}"
            )


def _check_method(obj: Any, args: tuple[Any, ...]) -> None:
    owner = getattr(obj, "__self__", None)
    if not isinstance(owner, str):
        return
    name = getattr(obj, "__name__", "")
    if name == "replace" and len(args) >= 2:
        _check_replace(owner, args[0], args[1], args[2] if len(args) > 2 else -1)
    elif name == "join" and args:
        _check_joined(args[0], owner)


def _check_replace(text: str, old: Any, new: Any, count: Any) -> None:
    if not (isinstance(old, str) and isinstance(new, str)):
        return
    found = text.count(old) if old else len(text) + 1
    if _is_int(count) and count >= 0:
        found = min(found, count)
    size = len(text) + found * (len(new) - len(old))
    if size > MAX_SIZE:
        raise TemplateLimit(_too_big("a replace()", size))


def _check_joined(items: Any, separator: str) -> None:
    if not isinstance(items, list | tuple):
        return
    size = sum(len(str(i)) for i in items) + max(len(items) - 1, 0) * len(separator)
    if size > MAX_SIZE:
        raise TemplateLimit(_too_big("a join()", size))


# -- filters, loops, range -------------------------------------------------------------------


def _guard_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with its numbers checked, its known blow-ups estimated first, and its
    result checked; it keeps the flags Jinja reads (pass_context, pass_environment, ...)."""

    def guarded(*args: Any, **kwargs: Any) -> Any:
        values = [a for a in args if not isinstance(a, jinja2.Environment | Context | EvalContext)]
        _check_numbers(tuple(values[1:]), kwargs, f"the {name} filter")
        args = _prepared(name, args, values, kwargs)
        return _checked(function(*args, **kwargs), f"the {name} filter")

    for flag in ("jinja_pass_arg",):
        if hasattr(function, flag):
            setattr(guarded, flag, getattr(function, flag))
    guarded.__name__ = getattr(function, "__name__", name)
    return guarded


def _prepared(
    name: str, args: tuple[Any, ...], values: list[Any], kwargs: dict[str, Any]
) -> tuple[Any, ...]:
    """Estimate the filters that can multiply their input; lists materialised once."""
    if not values:
        return args
    first, rest = values[0], values[1:]
    if name == "replace" and len(rest) >= 2:
        _check_replace(str(first), rest[0], rest[1], rest[2] if len(rest) > 2 else -1)
    elif name == "indent":
        width = rest[0] if rest else kwargs.get("width", 4)
        lines = str(first).count("\n") + 1
        size = len(str(first)) + lines * len(width if isinstance(width, str) else " " * width)
        if size > MAX_SIZE:
            raise TemplateLimit(_too_big("an indent", size))
    elif name == "format":
        _check_printf(str(first), [*rest, *kwargs.values()])
    elif name == "wordwrap":
        wrap = kwargs.get("wrapstring") or (rest[2] if len(rest) > 2 else None) or "\n"
        text = str(first)
        size = len(text) + (len(text) + 1) * len(str(wrap)) if len(str(wrap)) > 1 else 0
        if size > MAX_SIZE:
            raise TemplateLimit(_too_big("a wordwrap", size))
    elif name in {"join", "sum"} and not isinstance(first, str):
        items = list(first)[: MAX_SIZE + 1]
        _checked(items, f"the {name} filter")
        if name == "join":
            _check_joined(items, str(rest[0] if rest else kwargs.get("d", "")))
        elif any(_size(i) is not None for i in items):
            _check_joined([i for i in items if _size(i) is not None], "")
        return tuple(items if a is first else a for a in args)
    return args


def _iterate(iterable: Any) -> Iterator[Any]:
    """Iterate, counting each step against the render's budget."""
    budget = _current()
    for item in iterable:
        budget.step()
        yield item


def _concat(parts: list[Any]) -> str:
    """``a ~ b``, refused before it outgrows :data:`MAX_SIZE`."""
    texts = [str(p) for p in parts]
    size = sum(map(len, texts))
    if size > MAX_SIZE:
        raise TemplateLimit(_too_big("a ~ concatenation", size))
    return "".join(texts)


def _bounded_range(*args: int) -> range:
    """``range()`` of at most :data:`MAX_SIZE` numbers."""
    numbers = range(*args)
    if len(numbers) > MAX_SIZE:
        raise TemplateLimit(f"range() of {len(numbers):,} numbers; the limit is {MAX_SIZE:,}")
    return numbers
