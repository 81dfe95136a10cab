"""Parameter values: parse text or JSON values into the declared types and check them.

Values come in layers, later ones winning: the recipe's defaults, ``--param k=v`` from
the command line, and a row of a rows file. Each layer says where relative file paths
resolve and where its problems are reported (``recipe.yaml:12`` or ``rows.csv:7``).
Every problem names the parameter and the fix; nothing stops at the first one.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyboard.diagnostics import Diagnostic, FieldPath
from storyboard.errors import InputError
from storyboard.recipes.model import (
    BooleanParam,
    ChoiceParam,
    FileParam,
    ImagesParam,
    IntegerParam,
    NumberParam,
    Parameter,
    Recipe,
    StringParam,
    StringsParam,
)

__all__ = [
    "IMAGE_SUFFIXES",
    "FixedLayers",
    "Layer",
    "ParamError",
    "check_layer",
    "coerce",
    "parse_assignment",
    "resolve_values",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}


class ParamError(ValueError, InputError):
    """A value does not fit its parameter: ``message`` says why, ``hint`` how to fix it."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


@dataclass(frozen=True)
class Layer:
    """Values from one place, and how to report a problem with them."""

    values: Mapping[str, Any]
    base_dir: Path
    """Relative file paths given in this layer resolve here."""
    label: str
    """How the user gave them: "default", "--param", "row 6"."""
    file: str
    line: int = 1
    lines: Mapping[str, int] = field(default_factory=dict)
    """Line per parameter name, when known (a recipe's declarations)."""
    prefix: FieldPath = ()
    """Field path before the parameter name (``("parameters",)`` in a recipe)."""

    def diagnostic(self, name: str, message: str, hint: str | None = None) -> Diagnostic:
        line = self.lines.get(name, self.line)
        return Diagnostic(self.file, line, 1, (*self.prefix, name), message, hint=hint)


def parse_assignment(text: str) -> tuple[str, str]:
    """``"k=v"`` -> ``("k", "v")``; ValueError when there is no ``=``."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"--param {text!r}: write it as NAME=VALUE")
    return name.strip(), value


class FixedLayers:
    """Layers that are the same for every row of a batch (the defaults, ``--param``), with
    their values coerced once: a batch of 10,000 rows resolves the default files once,
    not 10,000 times."""

    def __init__(self, layers: Sequence[Layer]) -> None:
        self.layers = tuple(layers)
        self._coerced: dict[tuple[int, str], Any] = {}
        self._unknown: dict[int, list[Diagnostic]] = {}

    def _index(self, layer: Layer) -> int | None:
        return next((i for i, fixed in enumerate(self.layers) if fixed is layer), None)

    def coerce(self, param: Parameter, layer: Layer, name: str) -> Any:
        """:func:`coerce` of ``layer``'s value of ``name`` (once, when ``layer`` is fixed)."""
        index = self._index(layer)
        if index is None:
            return coerce(param, layer.values[name], layer.base_dir)
        key = (index, name)
        if key not in self._coerced:
            try:
                self._coerced[key] = coerce(param, layer.values[name], layer.base_dir)
            except ParamError as exc:
                self._coerced[key] = (exc.message, exc.hint)
                raise
        found = self._coerced[key]
        if isinstance(found, tuple):
            raise ParamError(*found)
        return list(found) if isinstance(found, list) else found

    def unknown_names(self, recipe: Recipe, layer: Layer) -> list[Diagnostic]:
        """:func:`_unknown_names` (once, when ``layer`` is fixed)."""
        index = self._index(layer)
        if index is None:
            return _unknown_names(recipe, layer)
        if index not in self._unknown:
            self._unknown[index] = _unknown_names(recipe, layer)
        return list(self._unknown[index])


def resolve_values(
    recipe: Recipe, layers: Sequence[Layer], fixed: FixedLayers | None = None
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """Each parameter's value from the last layer that gives one, checked; and problems.
    ``fixed``: the layers among ``layers`` that every row shares (coerced once)."""
    fixed = fixed or FixedLayers(())
    problems = [p for layer in layers for p in fixed.unknown_names(recipe, layer)]
    values: dict[str, Any] = {}
    for name, param in recipe.parameters.items():
        layer = next((lay for lay in reversed(layers) if _given(lay.values.get(name))), None)
        if layer is None:
            last = layers[-1] if layers else Layer({}, Path(), "", recipe.name)
            problems.append(
                last.diagnostic(
                    name,
                    f"required parameter {name!r} is missing",
                    f"give it with --param {name}=VALUE or a `{name}` column in the rows file",
                )
            )
            continue
        try:
            values[name] = fixed.coerce(param, layer, name)
        except ParamError as exc:
            message = f"{layer.label}: {exc.message}"
            problems.append(layer.diagnostic(name, message, exc.hint))
    return values, problems


def check_layer(recipe: Recipe, layer: Layer) -> list[Diagnostic]:
    """Problems with the values one layer gives (unknown names, bad values), on their own."""
    problems = _unknown_names(recipe, layer)
    for name, raw in layer.values.items():
        if name in recipe.parameters and _given(raw):
            try:
                coerce(recipe.parameters[name], raw, layer.base_dir)
            except ParamError as exc:
                message = f"{layer.label}: {exc.message}"
                problems.append(layer.diagnostic(name, message, exc.hint))
    return problems


def _given(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and value.strip() == "")


def _unknown_names(recipe: Recipe, layer: Layer) -> list[Diagnostic]:
    known = list(recipe.parameters)
    problems = []
    for name in layer.values:
        if name in recipe.parameters or name.startswith("_"):
            continue
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known) or 'none'}"
        problems.append(
            layer.diagnostic(
                name, f"{layer.label}: recipe {recipe.name!r} has no parameter {name!r}", hint
            )
        )
    return problems


# -- one value ---------------------------------------------------------------------------


def coerce(param: Parameter, raw: Any, base_dir: Path) -> Any:
    """``raw`` (text from a command line or CSV, or a JSON value) as the parameter's type;
    files become absolute paths. Raises :class:`ParamError`."""
    if isinstance(param, StringParam):
        return _string(param, raw)
    if isinstance(param, IntegerParam):
        return _integer(param, raw)
    if isinstance(param, NumberParam):
        return _number(param, raw)
    if isinstance(param, BooleanParam):
        return _boolean(raw)
    if isinstance(param, ChoiceParam):
        return _choice(param, raw)
    if isinstance(param, FileParam):
        return _file(param, raw, base_dir)
    if isinstance(param, ImagesParam):
        return _images(param, raw, base_dir)
    return _strings(param, raw)


def _string(param: StringParam, raw: Any) -> str:
    if isinstance(raw, list | dict | bool):
        raise ParamError(f"expected text, got {_show(raw)}", "write plain text")
    text = str(raw)
    if len(text) < param.min_length:
        raise ParamError(
            f"{_show(text)} is {len(text)} characters; at least {param.min_length} are needed",
            f"write at least {param.min_length} characters",
        )
    if param.max_length is not None and len(text) > param.max_length:
        raise ParamError(
            f"{_show(text)} is {len(text)} characters; at most {param.max_length} are allowed",
            f"shorten it to {param.max_length} characters or fewer",
        )
    if param.pattern is not None and not re.fullmatch(param.pattern, text):
        raise ParamError(
            f"{_show(text)} does not match {param.pattern}",
            param.description or f"write a value matching {param.pattern}",
        )
    return text


def _integer(param: IntegerParam, raw: Any) -> int:
    hint = f"use a whole number{_range_hint(param.min, param.max)}"
    value: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif (isinstance(raw, float) and raw.is_integer()) or (
        isinstance(raw, str) and re.fullmatch(r"\s*[-+]?\d+\s*", raw)
    ):
        value = int(raw)
    if value is None:
        raise ParamError(f"{_show(raw)} is not a whole number", hint)
    _check_range(value, param.min, param.max, hint)
    return value


def _number(param: NumberParam, raw: Any) -> float:
    hint = f"use a number{_range_hint(param.min, param.max)}"
    try:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise ValueError
        value = float(raw)
    except ValueError:
        raise ParamError(f"{_show(raw)} is not a number", hint) from None
    if not math.isfinite(value):
        raise ParamError(f"{_show(raw)} is not a finite number", hint)
    _check_range(value, param.min, param.max, hint)
    return value


def _range_hint(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f" from {low:g} to {high:g}"
    if low is not None:
        return f" of at least {low:g}"
    return f" of at most {high:g}" if high is not None else ""


def _check_range(value: float, low: float | None, high: float | None, hint: str) -> None:
    if low is not None and value < low:
        raise ParamError(f"{value:g} is below the minimum {low:g}", hint)
    if high is not None and value > high:
        raise ParamError(f"{value:g} is above the maximum {high:g}", hint)


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise ParamError(f"{_show(raw)} is not yes or no", "use true or false")


def _choice(param: ChoiceParam, raw: Any) -> str | int | float:
    for choice in param.choices:
        if choice == raw or str(choice) == str(raw).strip():
            return choice
    allowed = ", ".join(str(c) for c in param.choices)
    close = difflib.get_close_matches(str(raw), [str(c) for c in param.choices], n=1)
    hint = f"did you mean {close[0]}? (one of: {allowed})" if close else f"use one of: {allowed}"
    raise ParamError(f"{_show(raw)} is not one of {allowed}", hint)


def _file(param: FileParam, raw: Any, base_dir: Path) -> Path:
    if not isinstance(raw, str):
        raise ParamError(f"expected a file path, got {_show(raw)}", "write a path to a file")
    path = _existing(raw, base_dir)
    allowed = [s.lower() for s in param.extensions or []]
    if allowed and path.suffix.lower() not in allowed:
        raise ParamError(
            f"{raw} is a {path.suffix or 'suffix-less'} file, not {', '.join(allowed)}",
            f"give a {' or '.join(allowed)} file",
        )
    return path


def _existing(raw: str, base_dir: Path) -> Path:
    path = (base_dir / raw.strip()).resolve()
    if not path.is_file():
        raise ParamError(
            f"file not found: {raw.strip()} (looked in {path.parent})",
            f"check the path; relative paths start from {base_dir}",
        )
    return path


def _images(param: ImagesParam, raw: Any, base_dir: Path) -> list[Path]:
    items = _items(raw, r"[,;|]")
    _check_count(len(items), param.min_items, param.max_items, "image")
    paths = []
    for item in items:
        path = _existing(str(item), base_dir)
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise ParamError(f"{item} is not a PNG or JPG image", "give .png or .jpg files")
        paths.append(path)
    return paths


def _strings(param: StringsParam, raw: Any) -> list[str]:
    items = [str(item).strip() for item in _items(raw, r"\|")]
    _check_count(len(items), param.min_items, param.max_items, "item")
    for item in items:
        if param.max_length is not None and len(item) > param.max_length:
            raise ParamError(
                f"{_show(item)} is {len(item)} characters; at most {param.max_length} allowed",
                f"shorten each item to {param.max_length} characters or fewer",
            )
        if not item:
            raise ParamError("an item is empty", "remove the empty item or write some text")
    return items


def _items(raw: Any, separators: str) -> list[Any]:
    """A list value: a JSON list, a JSON array in text, or text split on separators."""
    if isinstance(raw, list):
        return raw
    if not isinstance(raw, str):
        raise ParamError(f"expected a list, got {_show(raw)}", "give a list")
    text = raw.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            raise ParamError(f"{_show(text)} is not a JSON list", 'write ["a", "b"]') from None
        if isinstance(parsed, list):
            return parsed
    return [part.strip() for part in re.split(separators, text) if part.strip()]


def _check_count(count: int, low: int, high: int | None, noun: str) -> None:
    wanted = f"{low}-{high}" if high is not None else f"at least {low}"
    if count < low or (high is not None and count > high):
        raise ParamError(f"{count} {noun}(s) given; {wanted} are needed", f"give {wanted} {noun}s")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
