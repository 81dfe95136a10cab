"""Read YAML or JSON into plain data while remembering where every value came from.

:func:`parse_document` returns the data and a :class:`SourceMap` from field paths
(``("scenes", 2, "shots", 0)``) to 1-based line and column, so any later problem can be
reported as ``FILE:LINE:COL``. Pure: it takes text, not a file.

The work is bounded whatever the text: values nested more than :data:`MAX_DEPTH` deep,
aliases that expand the document past :data:`MAX_VALUES` values (an "alias bomb") and
aliases that loop are reported as problems at their line, before any value is built.
The limits are checked on the composed node graph, so they hold for any composer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from storyboard.diagnostics import Diagnostic, FieldPath
from storyboard.errors import InputError

__all__ = [
    "MAX_DEPTH",
    "MAX_VALUES",
    "DocumentError",
    "SourceMap",
    "parse_document",
    "parse_tree",
]

MAX_DEPTH = 100
"""Deepest nesting of lists and mappings (a storyboard needs fewer than 10 levels)."""
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML was built with it (about 10x faster), else pure Python.
Both compose the same node tree with the same marks, so the line map is the same; the
limits are checked on that tree (and the depth, before libyaml composes, on its events)."""
MAX_VALUES = 200_000
"""Most values a document may hold once its aliases are expanded (a 1,000-scene
storyboard holds about 20,000)."""


@dataclass
class SourceMap:
    """Field path -> (line, column), both 1-based."""

    file: str
    positions: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: FieldPath) -> tuple[int, int]:
        """Position of the deepest existing prefix of ``path`` (1:1 when none)."""
        for end in range(len(path), -1, -1):
            if (found := self.positions.get(tuple(path[:end]))) is not None:
                return found
        return (1, 1)

    def has(self, path: FieldPath) -> bool:
        """True when ``path`` was written in the document."""
        return tuple(path) in self.positions

    def diagnostic(self, path: FieldPath, message: str, **kw: Any) -> Diagnostic:
        """A :class:`Diagnostic` at ``path``."""
        line, column = self.locate(path)
        return Diagnostic(self.file, line, column, tuple(path), message, **kw)


class DocumentError(InputError):
    """The text is not well-formed YAML/JSON; ``diagnostics`` say where."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("; ".join(str(d) for d in diagnostics))
        self.diagnostics = diagnostics


def parse_document(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse YAML (or JSON, by file suffix) into data plus its :class:`SourceMap`."""
    data, source, _ = parse_tree(text, file)
    return data, source


def parse_tree(text: str, file: str) -> tuple[Any, SourceMap, Node | None]:
    """:func:`parse_document`, and the node tree the data was built from (mappings with
    merge keys flattened)."""
    source = SourceMap(file)
    if file.lower().endswith(".json"):
        _check_json(text, file)
    node = _compose(text, file)
    if node is None:
        return None, source, None
    if "*" in text and (problem := check_graph(node, file)):  # no "*": no alias, a tree
        raise DocumentError([problem])
    builder = _Builder(source)
    try:
        data = builder.build(node, ())
    except yaml.MarkedYAMLError as exc:  # e.g. a bare "=" (the YAML value tag) in a scalar
        raise DocumentError([_yaml_diagnostic(exc, file)]) from exc
    if builder.problems:
        raise DocumentError(builder.problems)
    return data, source, node


def _compose(text: str, file: str) -> Node | None:
    """Compose with libyaml when it is there and the text is shallow enough, else (and on
    any syntax error, for the exact message) with the depth-limited Python composer."""
    if _LOADER is not yaml.SafeLoader and _shallow(text):
        try:
            return yaml.compose(text, Loader=_LOADER)
        except yaml.YAMLError:
            pass
    return _compose_python(text, file)


def _shallow(text: str) -> bool:
    """True when no list or mapping nests deeper than :data:`MAX_DEPTH` (libyaml's event
    parser, which does not recurse; its composer would, with no limit of its own)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return False
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return False
    return True


def _compose_python(text: str, file: str) -> Node | None:
    loader = None
    try:
        loader = _DepthLimitedLoader(text)
        return loader.get_single_node()
    except _TooDeep as exc:
        raise DocumentError([_limit_diagnostic(file, exc.problem_mark, str(exc.problem))]) from exc
    except yaml.MarkedYAMLError as exc:
        raise DocumentError([_yaml_diagnostic(exc, file)]) from exc
    except yaml.YAMLError as exc:
        raise DocumentError([Diagnostic(file, 1, 1, (), f"not valid YAML: {exc}")]) from exc
    finally:
        if loader is not None:
            loader.dispose()


class _TooDeep(yaml.MarkedYAMLError):
    """Nesting deeper than :data:`MAX_DEPTH` (raised before Python's stack runs out)."""


class _DepthLimitedLoader(yaml.SafeLoader):
    """The safe loader, refusing to compose nodes nested deeper than :data:`MAX_DEPTH`."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _TooDeep(problem=_too_deep(), problem_mark=mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _too_deep() -> str:
    return f"values are nested more than {MAX_DEPTH} levels deep"


def check_graph(root: Node, file: str) -> Diagnostic | None:
    """The first limit the composed graph breaks: nesting depth, an alias that loops, or
    more than :data:`MAX_VALUES` values once aliases are expanded (each shared node is
    visited once, so the check itself is linear in the text). Without aliases the graph
    is a tree no larger than the text, and the composer has limited its depth already;
    a composer that doesn't (libyaml's) must run this check on every document."""
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            height[key] = 1 + max((height[id(k)] for k in kids), default=0)
            if height[key] > MAX_DEPTH:
                return _limit_diagnostic(file, node.start_mark, _too_deep() + " (through aliases)")
            if size[key] > MAX_VALUES:
                return _limit_diagnostic(
                    file,
                    node.start_mark,
                    f"YAML aliases expand this value "
                    f"to more than {MAX_VALUES:,} values (an alias bomb?)",
                )
            continue
        if key in size:
            continue
        if key in open_nodes:
            return _limit_diagnostic(
                file, node.start_mark, "a YAML alias refers to the value that contains it (a loop)"
            )
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((kid, False) for kid in _children(node) if id(kid) not in size)
    return None


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _limit_diagnostic(file: str, mark: Any, message: str) -> Diagnostic:
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return Diagnostic(
        file,
        line,
        column,
        (),
        message,
        hint="write the values out plainly; storyboards need little nesting and few aliases",
    )


def _check_json(text: str, file: str) -> None:
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentError(
            [Diagnostic(file, exc.lineno, exc.colno, (), f"not valid JSON: {exc.msg}")]
        ) from exc
    except RecursionError as exc:
        raise DocumentError([Diagnostic(file, 1, 1, (), _too_deep())]) from exc
    except ValueError as exc:  # e.g. a number of more than 4,300 digits
        raise DocumentError([Diagnostic(file, 1, 1, (), f"not valid JSON: {exc}")]) from exc


def _yaml_diagnostic(exc: yaml.MarkedYAMLError, file: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or "syntax error"
    context = f" ({exc.context})" if exc.context else ""
    return Diagnostic(
        file,
        line,
        column,
        (),
        f"YAML syntax error: {problem}{context}",
        hint="check indentation, colons and quotes on this line or the one above",
    )


_STR_TAG = "tag:yaml.org,2002:str"


class _Builder:
    """Turns a composed YAML node tree into plain data, recording positions."""

    def __init__(self, source: SourceMap) -> None:
        self.source = source
        self.constructor = yaml.SafeLoader("")
        self.problems: list[Diagnostic] = []

    def build(self, node: Node, path: FieldPath) -> Any:
        self.source.positions.setdefault(path, _position(node))
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        if node.tag == _STR_TAG:  # what SafeConstructor returns for it, without the detour
            return node.value
        return self._scalar(node, path)

    def _scalar(self, node: Node, path: FieldPath) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError, TypeError) as exc:
            reason = getattr(exc, "problem", None) or str(exc)
            self._problem(node, path, f"cannot read this value: {reason}")
            return None

    def _mapping(self, node: MappingNode, path: FieldPath) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        try:
            self.constructor.flatten_mapping(node)
        except yaml.YAMLError as exc:
            self._problem(node, path, f"cannot merge here: {getattr(exc, 'problem', exc)}")
            return result
        for key_node, value_node in node.value:
            key = self._scalar(key_node, path) if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str | int | float | bool) or key is None:
                self._problem(key_node, path, "mapping keys must be plain text")
                continue
            key = str(key)
            if key in result:
                self._problem(key_node, (*path, key), f"duplicate key {key!r}")
            self.source.positions[(*path, key)] = _position(key_node)
            result[key] = self.build(value_node, (*path, key))
        return result

    def _problem(self, node: Node, path: FieldPath, message: str) -> None:
        line, column = _position(node)
        self.problems.append(Diagnostic(self.source.file, line, column, path, message))


def _position(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1
