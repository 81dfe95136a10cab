"""Load the storyboards of a batch's rows from one parsed text: the recipe's skeleton.

The rows of a batch differ in their values, and a text value reaches a row's storyboard
as the inside of a double-quoted YAML string (``{{ product | tojson }}``). A
:class:`Skeleton` is the storyboard template rendered once with a stand-in for each text
value (``Qsb0vQ``, ``Qsb1vQ`` ...) and parsed once. A row whose text is *exactly* that
text with its values, JSON-escaped, in place of the stand-ins parses to the skeleton's
data with its values in place of the stand-ins, with every field on the same line (and,
after a longer or shorter value on the same line, a column further or nearer): so it is
loaded from the skeleton instead of being parsed again. Any other row — a value that
changed the template's course, a value used unquoted, a value YAML would read otherwise
(characters outside the Basic Multilingual Plane) — is parsed in full, as always.

Why the shortcut is exact: a stand-in is accepted only where it lies whole inside a
one-line double-quoted scalar that is a value (not a key), written there as it reads
(:func:`_analyse`); there, the JSON escape of a text is ASCII, holds no quote, line break
or lone backslash, and reads back (YAML's double-quoted escapes include JSON's) as the
text itself. Nothing else in the row's text differs from the skeleton's: the row's text
is compared with the skeleton's before it is used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from jinja2 import meta, nodes
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from storyboard.diagnostics import FieldPath
from storyboard.load import LoadedStoryboard, load_parsed, load_text
from storyboard.recipes.instantiate import storyboard_text
from storyboard.recipes.literal import JINJA_MARKS
from storyboard.recipes.load import LoadedRecipe
from storyboard.recipes.templates import recipe_environment, yaml_json_dumps
from storyboard.sandbox import MAX_SIZE
from storyboard.source import DocumentError, SourceMap, parse_tree
from storyboard.templating import TemplateProblem

__all__ = ["Skeleton", "Skeletons"]

_STR_TAG = "tag:yaml.org,2002:str"
MAX_SKELETONS = 32
"""Skeletons per batch (one per combination of the values not replaced by stand-ins);
rows past that many combinations are parsed in full."""

Name = tuple[str, int | None]
"""A text value of the template's variables: ``(name, None)`` or ``(name, index)`` for
an item of a list of texts."""


_STAND_IN = re.compile(r"Qsb(\d+)vQ")
"""Any stand-in; a skeleton is made only when every match in its text is one of its own."""


def _stand_in(index: int) -> str:
    """Letters and digits only (JSON and YAML write it as it is); it starts with ``Q``,
    which is not a YAML escape, so no ``\\`` before it can change its meaning."""
    return f"Qsb{index}vQ"


_PLAIN = re.compile(r"[ !#-%(-;=?-\[\]-~]*")
"""Printable ASCII but for the characters ``tojson`` escapes (``"`` ``\\`` ``<`` ``>``
``&`` ``'``)."""
_SURROGATE = re.compile("[\ud800-\udfff]")


def escape(value: str) -> str:
    """The inside of ``value | tojson``: JSON-escaped (a character beyond U+FFFF as one
    YAML ``\\U`` escape, :func:`~storyboard.recipes.templates.yaml_json_dumps`), ASCII,
    HTML-safe."""
    dumped = yaml_json_dumps(value)[1:-1]
    return (
        dumped.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("'", "\\u0027")
    )


def _readable(value: str) -> str | None:
    """The inside of ``value | tojson`` when YAML reads it inside double quotes back as
    ``value``, else None: printable ASCII (as JSON escapes it), from a text with no lone
    surrogate."""
    if _PLAIN.fullmatch(value):
        return value
    if _SURROGATE.search(value):
        return None
    escaped = escape(value)
    return escaped if escaped.isascii() and escaped.isprintable() else None


@dataclass(frozen=True)
class _Scalar:
    """A double-quoted value holding stand-ins: its line, where it ends, and how many of
    each stand-in it holds (each changes the columns after it by its length change)."""

    line: int
    end: int
    counts: tuple[tuple[int, int], ...]


class Skeleton:
    """The storyboard text rendered with stand-ins, parsed; see the module docstring."""

    def __init__(
        self,
        names: list[Name],
        text: str,
        data: dict[str, Any],
        source: SourceMap,
        slots: list[tuple[FieldPath, str]],
        scalars: list[_Scalar],
    ) -> None:
        self.names = names
        self.pieces, self.order = _split(text)
        self.written = False
        """The template writes every value with a stand-in here only as JSON: the text of
        a row is :meth:`text` of its values' escapes, without rendering."""
        self.data = data
        self.positions = source.positions
        self.slots = [(field, *_split(held)) for field, held in slots]
        """Field, and its text split at its stand-ins: pieces, and which value between."""
        self.scalars = scalars
        self.moved = [
            (
                field,
                line,
                column,
                [i for i, s in enumerate(scalars) if s.line == line and s.end <= column],
            )
            for field, (line, column) in source.positions.items()
            if any(s.line == line and s.end <= column for s in scalars)
        ]
        """Positions after a value holding stand-ins on their line, and those values:
        their columns move by those values' change in length."""

    def text(self, escaped: list[str]) -> str:
        """The skeleton's text with these escaped values in place of the stand-ins."""
        return _join(self.pieces, self.order, escaped)

    def load(self, values: list[str], escaped: list[str], path: Path) -> LoadedStoryboard:
        """The storyboard whose text is ``self.text(escaped)``, loaded without parsing it."""
        data = _copy(self.data)
        for field, pieces, order in self.slots:
            parent = data
            for part in field[:-1]:
                parent = parent[part]
            parent[field[-1]] = _join(pieces, order, values)
        positions = dict(self.positions)
        if self.moved:
            growth = [len(e) - len(_stand_in(i)) for i, e in enumerate(escaped)]
            delta = [sum(n * growth[i] for i, n in s.counts) for s in self.scalars]
            for field, line, column, before in self.moved:
                positions[field] = (line, column + sum(delta[i] for i in before))
        return load_parsed(data, path, SourceMap(str(path), positions))


def _split(text: str) -> tuple[list[str], list[int]]:
    """``text`` split at its stand-ins: the pieces, and the stand-in between each two."""
    split = _STAND_IN.split(text)
    return split[0::2], [int(number) for number in split[1::2]]


def _join(pieces: list[str], order: list[int], values: list[str]) -> str:
    parts = [pieces[0]]
    for at, piece in zip(order, pieces[1:], strict=True):
        parts += [values[at], piece]
    return "".join(parts)


def _copy(value: Any) -> Any:
    """A copy of parsed data: new mappings and lists, the same scalars."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


class Skeletons:
    """The skeletons of one recipe's storyboard template, by the values they keep."""

    def __init__(self, loaded: LoadedRecipe) -> None:
        self.loaded = loaded
        self.used = _variables(loaded.recipe.storyboard)
        """The variables the template reads (None: any, it includes other templates)."""
        self.uses = _uses(loaded.recipe.storyboard)
        """How the template writes each variable (see :func:`_uses`)."""
        self.kept: set[str] = set()
        """Variables found unfit for stand-ins (used unquoted, in a key, not written
        out): their values are part of a skeleton's key."""
        self.made: dict[Key, Skeleton | None] = {}
        self.parsed = self.reused = self.written = 0
        """Rows parsed in full, rows loaded from a skeleton, rows written from one."""

    def text(self, context: Mapping[str, Any]) -> str | None:
        """The row's storyboard text from a skeleton, when the template writes each of the
        row's text values only as JSON (:func:`_uses`), so that its text is the
        skeleton's with the values JSON-escaped in place; else None (render it)."""
        found = self._skeleton(context)
        if found is None or not found.written:
            return None
        text = found.text([escape(_value(context, name)) for name in found.names])
        if len(text) > MAX_SIZE or any(mark in text for mark in JINJA_MARKS):
            return None  # rendering reports the size; a prompt with Jinja is escaped
        self.written += 1
        return text

    def load(self, text: str, context: Mapping[str, Any], path: Path) -> LoadedStoryboard:
        """The row storyboard ``text`` (made from ``context``), from a skeleton when its
        text is the skeleton's with the row's values in place, else parsed in full."""
        found = self._skeleton(context)
        if found is not None:
            values = [_value(context, name) for name in found.names]
            readable = [_readable(v) for v in values]
            escaped = [e for e in readable if e is not None]
            if len(escaped) == len(values) and found.text(escaped) == text:
                self.reused += 1
                return found.load(values, escaped, path)
        self.parsed += 1
        return load_text(text, path)

    def _names(self, context: Mapping[str, Any]) -> tuple[list[Name], Key] | None:
        """The text values to replace by stand-ins, and the key of the others."""
        names: list[Name] = []
        kept: dict[str, Any] = {}
        for name in sorted(context if self.used is None else self.used & set(context)):
            value = context[name]
            if name in self.kept:
                kept[name] = value
            elif isinstance(value, str):
                names.append((name, None))
            elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                names += [(name, i) for i in range(len(value))]
                kept[name] = len(value)
            else:
                kept[name] = value
        frozen = _frozen(kept)
        if frozen is None:
            return None
        return names, (tuple(names), frozen)

    def _skeleton(self, context: Mapping[str, Any]) -> Skeleton | None:
        while (found := self._names(context)) is not None:
            names, key = found
            if key in self.made:
                return self.made[key]
            if len(self.made) >= MAX_SKELETONS:
                return None
            unfit = self._make(names, key, context)
            if not unfit:
                return self.made[key]
            self.kept |= unfit
        return None

    def _make(self, names: list[Name], key: Key, context: Mapping[str, Any]) -> set[str]:
        """Make the skeleton of ``key`` (None when there is none); the variables unfit
        for stand-ins, when some are (then nothing is made)."""
        self.made[key] = None
        probe = dict(context)
        for index, (name, item) in enumerate(names):
            if item is None:
                probe[name] = _stand_in(index)
            else:
                probe[name] = [*probe[name]] if probe[name] is context[name] else probe[name]
                probe[name][item] = _stand_in(index)
        try:
            text = storyboard_text(self.loaded, probe)
            data, source, root = parse_tree(text, "skeleton.yaml")
        except (TemplateProblem, DocumentError):
            return set()
        if not isinstance(data, dict) or root is None or not _own(text, len(names)):
            return set()
        found = _analyse(text, root, data, len(names))
        if found is None:
            return set()
        slots, scalars, unfit = found
        if unfit:
            self.made.pop(key)
            return {names[i][0] for i in unfit}
        skeleton = self.made[key] = Skeleton(names, text, data, source, slots, scalars)
        skeleton.written = self._writes_json(names, context, text)
        return set()

    def _writes_json(self, names: list[Name], context: Mapping[str, Any], text: str) -> bool:
        """True when the template writes the values of ``names`` only as JSON (so the
        text of any values is the skeleton's with them JSON-escaped in place)."""
        env = recipe_environment()
        if (
            self.uses is None
            or any(mark in text for mark in JINJA_MARKS)
            or env.policies["json.dumps_function"] is not yaml_json_dumps
            or env.policies["json.dumps_kwargs"] != {"sort_keys": True}
        ):
            return False
        for name, _ in names:
            kinds = _AS_JSON[type(context[name]) is str]
            if not self.uses.get(name, set()) <= kinds:
                return False
        return True


Key = tuple[tuple[Name, ...], Any]
"""The stand-ins of a skeleton, and the exact values it keeps (:func:`_frozen`)."""


def _frozen(value: Any) -> Any:
    """``value`` as a key equal only to the same value of the same types (``1``, ``1.0``
    and ``True`` differ; so do ``0.0`` and ``-0.0``); None for a type it does not know."""
    if value is None or isinstance(value, str | bool | int):
        return (type(value).__name__, value)
    if isinstance(value, float):
        return ("float", repr(value))
    if isinstance(value, list | tuple | dict):
        items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        frozen = [(_frozen(k), _frozen(v)) for k, v in items]
        if any(k is None or v is None for k, v in frozen):
            return None
        return (type(value).__name__, tuple(frozen))
    return None


def _value(context: Mapping[str, Any], name: Name) -> str:
    value = context[name[0]]
    found: str = value if name[1] is None else value[name[1]]
    return found


def _own(text: str, count: int) -> bool:
    """True when every stand-in-like text in ``text`` is one of the ``count`` stand-ins."""
    return all(m[0] == _stand_in(int(m[1])) and int(m[1]) < count for m in _STAND_IN.finditer(text))


def _variables(template: str) -> set[str] | None:
    """Names the template reads; None when it includes, imports or extends another
    template (which may read any)."""
    try:
        tree = recipe_environment().parse(template)
    except Exception:  # a template that does not parse fails every row the same way
        return None
    if any(tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends))):
        return None
    return set(meta.find_undeclared_variables(tree))


_AS_JSON = {True: frozenset({"json", "text"}), False: frozenset({"json", "item"})}
"""The uses of a text (True) or of a list of texts (False) that write it as JSON."""


def _uses(template: str) -> dict[str, set[str]] | None:
    """How the template reads each variable: ``json`` (``{{ x | tojson }}``), ``text``
    (in a ``~`` written as JSON: ``{{ ("a " ~ x) | tojson }}``), ``item`` (an item written
    as JSON: ``{{ x[0] | tojson }}``), ``other`` (anything else: a test, a loop, a filter,
    written plainly, or inside a block, a macro or an assignment). None when the template
    does not parse."""
    try:
        tree = recipe_environment().parse(template)
    except Exception:
        return None
    uses: dict[str, set[str]] = {}

    def other(node: nodes.Node) -> None:
        for found in _names_in(node):
            uses.setdefault(found.name, set()).add("other")

    def operand(node: nodes.Node, in_concat: bool) -> None:
        if isinstance(node, nodes.Name) and node.ctx == "load":
            uses.setdefault(node.name, set()).add("text" if in_concat else "json")
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.node, nodes.Name)
            and node.node.ctx == "load"
            and not isinstance(node.arg, nodes.Slice)
            and not _names_in(node.arg)
        ):
            uses.setdefault(node.node.name, set()).add("item")
        elif _filter(node, "_sb_concat") and isinstance(node.node, nodes.List):  # a ~ b
            for item in node.node.items:
                operand(item, True)
        elif not (in_concat and not _names_in(node)):  # not a constant piece
            other(node)

    def body(statements: list[nodes.Node]) -> None:
        for node in statements:
            if isinstance(node, nodes.Output):
                for child in node.nodes:
                    if _filter(child, "tojson") and child.node is not None:
                        operand(child.node, False)
                    else:
                        other(child)
            elif isinstance(node, nodes.If):
                other(node.test)
                body(node.body)
                for branch in node.elif_:
                    other(branch.test)
                    body(branch.body)
                body(node.else_)
            elif isinstance(node, nodes.For):
                for part in (node.target, node.iter, node.test):
                    if part is not None:
                        other(part)
                body(node.body)
                body(node.else_)
            else:
                other(node)

    body(tree.body)
    return uses


def _names_in(node: nodes.Node) -> list[nodes.Name]:
    """Every name in ``node``, itself included."""
    found = [node] if isinstance(node, nodes.Name) else []
    return found + list(node.find_all(nodes.Name))


def _filter(node: nodes.Node, name: str) -> TypeGuard[nodes.Filter]:
    """True for ``<expr> | name`` without arguments."""
    return (
        isinstance(node, nodes.Filter)
        and node.name == name
        and not node.args
        and not node.kwargs
        and node.dyn_args is None
        and node.dyn_kwargs is None
    )


_Found = tuple[list[tuple[FieldPath, str]], list[_Scalar], set[int]]


def _analyse(text: str, root: Node, data: dict[str, Any], count: int) -> _Found | None:
    """Where the stand-ins are: the data fields holding them, the scalars they are in,
    and the stand-ins not all of whose copies are whole inside one-line double-quoted
    values (None: the text has aliases, whose values the data would share)."""
    slots: list[tuple[FieldPath, str]] = []
    scalars: list[_Scalar] = []
    unfit: set[int] = set()
    placed = [0] * count
    seen: set[int] = set()

    def held(value: str) -> dict[int, int]:
        counts: dict[int, int] = {}
        for match in _STAND_IN.finditer(value):
            counts[int(match[1])] = counts.get(int(match[1]), 0) + 1
        return counts

    def walk(node: Node, value: Any, path: FieldPath, key: bool = False) -> bool:
        if id(node) in seen:
            return False
        seen.add(id(node))
        if isinstance(node, MappingNode):
            pairs = list(zip(node.value, value.items(), strict=True))
            return all(
                walk(kn, k, path, key=True) and walk(vn, v, (*path, k))
                for (kn, vn), (k, v) in pairs
            )
        if isinstance(node, SequenceNode):
            return all(
                walk(item, v, (*path, i))
                for i, (item, v) in enumerate(zip(node.value, value, strict=True))
            )
        assert isinstance(node, ScalarNode)
        written = held(text[node.start_mark.index : node.end_mark.index])
        read = held(node.value)
        if not written and not read:
            return True
        if (
            key
            or node.style != '"'
            or node.tag != _STR_TAG
            or written != read
            or node.start_mark.line != node.end_mark.line
        ):
            unfit.update(written, read)
            return True
        slots.append((path, node.value))
        scalars.append(
            _Scalar(node.start_mark.line + 1, node.end_mark.column + 1, tuple(sorted(read.items())))
        )
        for index, number in read.items():
            placed[index] += number
        return True

    if not walk(root, data, ()):
        return None
    total = held(text)
    unfit |= {i for i in range(count) if total.get(i, 0) != placed[i] or not total.get(i)}
    return slots, scalars, {i for i in unfit if i < count}  # others: not in the text
