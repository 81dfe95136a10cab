"""Load a storyboard file: parse, validate against the models, and collect every problem.

Nothing stops at the first error: syntax problems, schema errors and unknown keys are all
returned as :class:`~storyboard.diagnostics.Diagnostic` objects with file, line, column and
field path. The pure core is :func:`load_text`; :func:`load_file` only reads the file.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from storyboard._callable import make_callable
from storyboard.diagnostics import Diagnostic, FieldPath, sort_diagnostics
from storyboard.source import DocumentError, SourceMap, parse_document
from storyboard.spec import Storyboard
from storyboard.textfile import MAX_DOCUMENT_BYTES, UnreadableFile, read_text_file

__all__ = ["LoadedStoryboard", "load_file", "load_parsed", "load_text"]


@dataclass
class LoadedStoryboard:
    """A parsed storyboard (``None`` when invalid) and everything found on the way."""

    path: Path
    storyboard: Storyboard | None
    source: SourceMap
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def base_dir(self) -> Path:
        """The storyboard's folder: relative paths resolve against it."""
        return self.path.parent

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def ok(self) -> bool:
        return self.storyboard is not None and not self.errors


def load_file(path: str | Path) -> LoadedStoryboard:
    """Read and validate a storyboard file (YAML, or JSON by suffix)."""
    file = Path(path)
    try:
        text = read_text_file(file, limit=MAX_DOCUMENT_BYTES)
    except UnreadableFile as exc:
        problem = Diagnostic(
            str(file), exc.line, exc.column, (), f"cannot read the storyboard: {exc.message}"
        )
        return LoadedStoryboard(file, None, SourceMap(str(file)), [problem])
    return load_text(text, file)


def load_text(text: str, path: str | Path) -> LoadedStoryboard:
    """Validate storyboard text; ``path`` names it in messages and anchors relative paths."""
    file = Path(path)
    try:
        data, source = parse_document(text, str(file))
    except DocumentError as exc:
        return LoadedStoryboard(file, None, SourceMap(str(file)), exc.diagnostics)
    if not isinstance(data, dict):
        found = "an empty file" if data is None else f"a {type(data).__name__}"
        problem = source.diagnostic(
            (),
            f"a storyboard is a mapping of keys (storyboard, title, scenes, ...), not {found}",
            hint="start from an example in examples/ or run `storyboard init`",
        )
        return LoadedStoryboard(file, None, source, [problem])
    return load_parsed(data, file, source)


def load_parsed(data: dict[str, Any], path: str | Path, source: SourceMap) -> LoadedStoryboard:
    """:func:`load_text` for a mapping already parsed, with the source map of its text."""
    return _validate(data, Path(path), source)


def _validate(data: dict[str, Any], file: Path, source: SourceMap) -> LoadedStoryboard:
    try:
        board = Storyboard.model_validate(data)
    except ValidationError as exc:
        problems = [_schema_diagnostic(err, data, source) for err in exc.errors()]
        return LoadedStoryboard(file, None, source, sort_diagnostics(problems))
    warnings = list(_unknown_keys(board, data, (), source))
    return LoadedStoryboard(file, board, source, sort_diagnostics(warnings))


def _schema_diagnostic(error: ErrorDetails, data: Any, source: SourceMap) -> Diagnostic:
    path = _clean_loc(error["loc"])
    message = error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    message = _type_message(error) or message
    hint = _misspelt_hint(error, path, data) or _yaml_number_hint(error) or _hint(error, path)
    return source.diagnostic(path, message, hint=hint)


def _unquoted(error: ErrorDetails) -> str:
    return ", without quotes" if isinstance(error.get("input"), str) else ""


def _yaml_number_hint(error: ErrorDetails) -> str | None:
    """YAML reads ``1e3`` (no dot, no sign) as text; say how to write it as a number."""
    value = error.get("input")
    if error["type"] not in _EXPECTED or not isinstance(value, str) or "e" not in value.lower():
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return f"YAML reads {value} as text: write {number:.1e}" if number == number else None


_EXPECTED = {
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "finite_number": "a finite number",
}


def _type_message(error: ErrorDetails) -> str | None:
    """``expected a whole number, got true`` for the strict number and boolean types."""
    expected = _EXPECTED.get(error["type"])
    if expected is None:
        return None
    value = error.get("input")
    if isinstance(value, bool):
        got = "true" if value else "false"
    elif isinstance(value, str):
        got = f"the text {value!r}"
    elif isinstance(value, float) and not value.is_integer() and value == value:
        got = (
            f"{value!r} (it has a fractional part)"
            if expected == _EXPECTED["int_type"]
            else repr(value)
        )
    else:
        got = repr(value)
    return f"expected {expected}, got {got}"


def _misspelt_hint(error: ErrorDetails, path: FieldPath, data: Any) -> str | None:
    """For a missing field, point at a sibling key that looks like a typo of it."""
    if error["type"] != "missing" or not path or not isinstance(path[-1], str):
        return None
    parent = data
    for part in path[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return None
    if not isinstance(parent, dict):
        return None
    close = difflib.get_close_matches(path[-1], [str(k) for k in parent], n=1, cutoff=0.7)
    return f"rename `{close[0]}` to `{path[-1]}`" if close else None


def _clean_loc(loc: tuple[int | str, ...]) -> FieldPath:
    """Drop pydantic's internal validator names from an error location."""
    return tuple(part for part in loc if isinstance(part, int) or not _internal(part))


def _internal(part: str) -> bool:
    return "[" in part or part in {"function-after", "function-before", "constrained-str"}


def _hint(error: ErrorDetails, path: FieldPath) -> str | None:
    kind = error["type"]
    name = path[-1] if path else "field"
    ctx = error.get("ctx") or {}
    hints = {
        "missing": f"add `{name}:`",
        "int_from_float": "use a whole number of seconds",
        "int_parsing": "use a whole number",
        "int_type": "write a whole number such as 5" + _unquoted(error),
        "float_type": "write a number such as 2.5" + _unquoted(error),
        "bool_type": "write true or false",
        "finite_number": "write a number such as 2.5 (.inf and .nan are not allowed)",
        "string_too_long": f"shorten it to at most {ctx.get('max_length')} characters",
        "literal_error": f"use one of {ctx.get('expected', 'the listed values')}",
        "string_pattern_mismatch": "use letters, digits, - and _ (no spaces)",
        "too_short": "add at least one item",
        "string_too_short": "write some text here",
        "greater_than_equal": f"use a value of at least {ctx.get('ge')}",
        "less_than_equal": f"use a value of at most {ctx.get('le')}",
        "dict_type": "write a mapping (key: value) here",
        "list_type": "write a list (- item) here",
        "model_type": "write a mapping (key: value) here",
    }
    return hints.get(kind)


def _unknown_keys(value: Any, raw: Any, path: FieldPath, source: SourceMap) -> list[Diagnostic]:
    """Warnings for keys the models ignore, with a did-you-mean suggestion."""
    found: list[Diagnostic] = []
    if isinstance(value, BaseModel) and isinstance(raw, dict):
        known = _field_names(type(value))
        for key, item in raw.items():
            if key in known:
                attr = known[key]
                found += _unknown_keys(getattr(value, attr), item, (*path, key), source)
            elif value.model_config.get("extra") != "allow":  # e.g. an effect's parameters
                found.append(_unknown(key, list(known), (*path, key), source))
    elif isinstance(value, list | tuple) and isinstance(raw, list):
        for index, (item, raw_item) in enumerate(zip(value, raw, strict=False)):
            found += _unknown_keys(item, raw_item, (*path, index), source)
    elif isinstance(value, dict) and isinstance(raw, dict):
        for key, item in value.items():
            found += _unknown_keys(item, raw.get(key), (*path, key), source)
    return found


@functools.lru_cache(maxsize=256)
def _field_names(model: type[BaseModel]) -> dict[str, str]:
    names: dict[str, str] = {}
    for attr, info in model.model_fields.items():
        names[attr] = attr
        if info.alias:
            names[info.alias] = attr
    return names


def _unknown(key: str, known: list[str], path: FieldPath, source: SourceMap) -> Diagnostic:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean `{close[0]}`?" if close else f"known keys: {', '.join(sorted(known))}"
    return source.diagnostic(path, f"unknown key {key!r} is ignored", severity="warning", hint=hint)


make_callable(__name__, lambda: load_file)
