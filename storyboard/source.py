"""Read YAML or JSON into plain data while remembering where every value came from.

:func:`parse_document` returns the data and a :class:`SourceMap` from field paths
(``("scenes", 2, "shots", 0)``) to 1-based line and column, so any later problem can be
reported as ``FILE:LINE:COL``. Pure: it takes text, not a file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from storyboard.diagnostics import Diagnostic, FieldPath

__all__ = ["DocumentError", "SourceMap", "parse_document"]


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


class DocumentError(Exception):
    """The text is not well-formed YAML/JSON; ``diagnostics`` say where."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("; ".join(str(d) for d in diagnostics))
        self.diagnostics = diagnostics


def parse_document(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse YAML (or JSON, by file suffix) into data plus its :class:`SourceMap`."""
    source = SourceMap(file)
    if file.lower().endswith(".json"):
        _check_json(text, file)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise DocumentError([_yaml_diagnostic(exc, file)]) from exc
    except yaml.YAMLError as exc:
        raise DocumentError([Diagnostic(file, 1, 1, (), f"not valid YAML: {exc}")]) from exc
    if node is None:
        return None, source
    builder = _Builder(source)
    try:
        data = builder.build(node, ())
    except yaml.MarkedYAMLError as exc:  # e.g. a bare "=" (the YAML value tag) in a scalar
        raise DocumentError([_yaml_diagnostic(exc, file)]) from exc
    if builder.problems:
        raise DocumentError(builder.problems)
    return data, source


def _check_json(text: str, file: str) -> None:
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentError(
            [Diagnostic(file, exc.lineno, exc.colno, (), f"not valid JSON: {exc.msg}")]
        ) from exc


def _yaml_diagnostic(exc: yaml.MarkedYAMLError, file: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or "syntax error"
    context = f" ({exc.context})" if exc.context else ""
    return Diagnostic(
        file, line, column, (), f"YAML syntax error: {problem}{context}",
        hint="check indentation, colons and quotes on this line or the one above",
    )  # fmt: skip


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
        return self.constructor.construct_object(node, deep=True)

    def _mapping(self, node: MappingNode, path: FieldPath) -> dict[Any, Any]:
        self.constructor.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.constructor.construct_object(key_node, deep=True)
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
