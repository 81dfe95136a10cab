"""Fill a recipe's storyboard template: values in, storyboard text and output name out.

Pure: files are referred to by the names they get inside the work folder
(``assets/<content hash>-<name>``), which :mod:`storyboard.recipes.workdir` computes and
copies; the instantiated storyboard lives in that folder, so its relative paths resolve
without reaching outside it. Values are data: they reach the template as variables, and
the prompts of the storyboard it produces are final text (:mod:`~storyboard.recipes.literal`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from storyboard.diagnostics import Diagnostic
from storyboard.errors import InputError
from storyboard.recipes.literal import literal_prompts
from storyboard.recipes.load import LoadedRecipe
from storyboard.recipes.templates import render_recipe
from storyboard.templating import TemplateProblem

__all__ = [
    "OUTPUT_SUFFIXES",
    "Instance",
    "InstanceInvalid",
    "file_values",
    "instantiate",
    "storyboard_text",
]

OUTPUT_SUFFIXES = (".mp4", ".mov", ".m4v")


class InstanceInvalid(InputError):
    """The template or the output name could not be rendered for these values."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(str(d) for d in diagnostics))
        self.diagnostics = diagnostics


@dataclass(frozen=True)
class Instance:
    """One storyboard made from a recipe, ready to be written and validated."""

    row_number: int
    variant: str | None
    text: str
    output: str
    """Output file relative to the batch's output folder."""
    assets: dict[str, Path] = field(default_factory=dict)
    """Name inside the work folder -> the file to copy there."""
    context: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The variables the template was rendered with."""

    @property
    def file_name(self) -> str:
        """``row-0007.yaml`` or ``row-0007-vertical.yaml``."""
        suffix = f"-{self.variant}" if self.variant else ""
        return f"row-{self.row_number:04d}{suffix}.yaml"

    @property
    def label(self) -> str:
        """``row 7`` or ``row 7 (vertical)``."""
        return f"row {self.row_number}" + (f" ({self.variant})" if self.variant else "")


def file_values(values: Mapping[str, Any]) -> list[Path]:
    """Every file among parameter values (file and images parameters)."""
    found: list[Path] = []
    for value in values.values():
        if isinstance(value, Path):
            found.append(value)
        elif isinstance(value, list):
            found += [v for v in value if isinstance(v, Path)]
    return found


def instantiate(
    loaded: LoadedRecipe,
    values: Mapping[str, Any],
    staged: Mapping[Path, str],
    *,
    row_number: int,
    variant: str | None = None,
    row: Mapping[str, Any] | None = None,
    known_text: Callable[[dict[str, Any]], str | None] | None = None,
) -> Instance:
    """The storyboard text and output name for these values (files by ``staged`` name).
    ``known_text``: the text for a context when it is known without rendering (a batch's
    skeleton), else None."""
    context = _context(loaded, values, staged, row_number, variant, row or {})
    try:
        text = known_text(context) if known_text else None
        if text is None:
            text = storyboard_text(loaded, context)
    except TemplateProblem as exc:
        raise InstanceInvalid([loaded.template_diagnostic(str(exc))]) from exc
    output = _output_name(loaded, context)
    assets = {staged[p]: p for p in file_values(values)}
    return Instance(row_number, variant, text, output, assets, context)


def storyboard_text(loaded: LoadedRecipe, context: dict[str, Any]) -> str:
    """The storyboard template filled in with ``context`` (prompts as final text, one
    final newline); :class:`TemplateProblem` when it cannot be rendered."""
    text = literal_prompts(render_recipe(loaded.recipe.storyboard, context))
    return text if text.endswith("\n") else text + "\n"


def _context(
    loaded: LoadedRecipe,
    values: Mapping[str, Any],
    staged: Mapping[Path, str],
    row_number: int,
    variant: str | None,
    row: Mapping[str, Any],
) -> dict[str, Any]:
    context: dict[str, Any] = {k: _staged(v, staged) for k, v in values.items()}
    if variant is not None:
        context.update(loaded.recipe.variants[variant])
    context.update(row_number=row_number, variant=variant or "", recipe=loaded.name, row=dict(row))
    return context


def _staged(value: Any, staged: Mapping[Path, str]) -> Any:
    if isinstance(value, Path):
        return staged[value]
    if isinstance(value, list):
        return [_staged(v, staged) for v in value]
    return value


def _output_name(loaded: LoadedRecipe, context: dict[str, Any]) -> str:
    where = ("run", "output")
    try:
        name = render_recipe(loaded.recipe.run.output, context).strip()
    except TemplateProblem as exc:
        raise InstanceInvalid([loaded.source.diagnostic(where, f"output name: {exc}")]) from exc
    path = PurePosixPath(name)
    problem = None
    if not name or path.is_absolute() or ".." in path.parts:
        problem = f"output name {name!r} must be a relative path inside --out"
    elif path.suffix.lower() not in OUTPUT_SUFFIXES:
        problem = f"output name {name!r} must end in .mp4, .mov or .m4v"
    if problem:
        hint = "fix run.output in the recipe"
        raise InstanceInvalid([loaded.source.diagnostic(where, problem, hint=hint)])
    return name
