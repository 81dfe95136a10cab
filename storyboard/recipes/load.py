"""Find and load recipe files: built-ins (shipped in the wheel) and the user's own.

A recipe is a folder holding ``recipe.yaml`` (and the example assets its defaults name),
or any ``*.yaml`` file given by path. Loading checks everything it can without a row:
the schema, that defaults are valid values (files exist), and the template's syntax.
Problems are :class:`~storyboard.diagnostics.Diagnostic` objects with file:line.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from storyboard.diagnostics import Diagnostic, FieldPath, sort_diagnostics
from storyboard.errors import InputError
from storyboard.recipes.model import PARAMETER_TYPES, Recipe
from storyboard.recipes.params import Layer, resolve_values
from storyboard.recipes.templates import recipe_environment
from storyboard.settings import Settings
from storyboard.source import DocumentError, SourceMap, parse_document
from storyboard.templating import builtin_dir
from storyboard.textfile import MAX_DOCUMENT_BYTES, UnreadableFile, read_text_file

__all__ = [
    "RECIPE_FILE",
    "LoadedRecipe",
    "RecipeInvalid",
    "RecipeNotFound",
    "available_recipes",
    "find_recipe",
    "load_recipe",
    "load_recipe_text",
    "recipe_dirs",
]

RECIPE_FILE = "recipe.yaml"


class RecipeInvalid(InputError):
    """A recipe file (or the values given to it) has problems; ``diagnostics`` lists all."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(str(d) for d in diagnostics))
        self.diagnostics = diagnostics


class RecipeNotFound(InputError):
    """No recipe by that name or path; the message lists what exists."""


@dataclass(frozen=True)
class LoadedRecipe:
    """A valid recipe and where it came from."""

    recipe: Recipe
    path: Path
    source: SourceMap
    template_line: int
    """File line of the template's first line (template line 1)."""
    builtin: bool = False

    @property
    def name(self) -> str:
        return self.recipe.name

    @property
    def folder(self) -> Path:
        """Defaults' relative file paths resolve here."""
        return self.path.parent

    def param_lines(self) -> dict[str, int]:
        return {n: self.source.locate(("parameters", n))[0] for n in self.recipe.parameters}

    def defaults_layer(self) -> Layer:
        """The recipe's default values, as the first layer of values."""
        defaults = {n: getattr(p, "default", None) for n, p in self.recipe.parameters.items()}
        return Layer(
            {n: v for n, v in defaults.items() if v is not None},
            self.folder,
            "default",
            str(self.path),
            lines=self.param_lines(),
            prefix=("parameters",),
        )

    def cli_layer(self, values: dict[str, Any], cwd: Path) -> Layer:
        """Values from ``--param``: files relative to ``cwd``, problems at the declaration."""
        line = self.source.locate(("parameters",))[0]
        return Layer(
            values,
            cwd,
            "--param",
            str(self.path),
            line=line,
            lines=self.param_lines(),
            prefix=("parameters",),
        )

    def template_diagnostic(self, message: str, line: int | None = None) -> Diagnostic:
        """A problem in the storyboard template (``line`` counted within the template)."""
        at = self.template_line + (line - 1 if line else 0)
        return Diagnostic(str(self.path), at, 1, ("storyboard",), message)


# -- loading -------------------------------------------------------------------------------


def load_recipe(path: str | Path, *, builtin: bool = False) -> LoadedRecipe:
    """Read and check a recipe file (or a folder holding ``recipe.yaml``)."""
    file = Path(path)
    if file.is_dir():
        file = file / RECIPE_FILE
    try:
        text = read_text_file(file, limit=MAX_DOCUMENT_BYTES)
    except UnreadableFile as exc:
        problem = Diagnostic(
            str(file), exc.line, exc.column, (), f"cannot read the recipe: {exc.message}"
        )
        raise RecipeInvalid([problem]) from exc
    return load_recipe_text(text, file, builtin=builtin)


def load_recipe_text(text: str, path: str | Path, *, builtin: bool = False) -> LoadedRecipe:
    """Check recipe text; ``path`` names it in messages and anchors default files."""
    file = Path(path)
    try:
        data, source = parse_document(text, str(file))
    except DocumentError as exc:
        raise RecipeInvalid(exc.diagnostics) from exc
    if not isinstance(data, dict):
        raise RecipeInvalid(
            [
                source.diagnostic(
                    (), "a recipe is a mapping of keys (recipe, name, parameters, storyboard, ...)"
                )
            ]
        )
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as exc:
        problems = [_schema_diagnostic(err, data, source) for err in exc.errors()]
        raise RecipeInvalid(sort_diagnostics(problems)) from exc
    loaded = LoadedRecipe(recipe, file, source, _template_line(text, source), builtin)
    problems = _check_defaults(loaded) + _check_templates(loaded)
    if problems:
        raise RecipeInvalid(sort_diagnostics(problems))
    return loaded


def _template_line(text: str, source: SourceMap) -> int:
    """The first line of the template: the line after ``storyboard: |`` for a block."""
    line, column = source.locate(("storyboard",))  # where the key is
    lines = text.splitlines()
    rest = lines[line - 1][column - 1 :] if line - 1 < len(lines) else ""
    value = rest.partition(":")[2].strip()
    return line + 1 if not value or value.startswith(("|", ">")) else line


def _schema_diagnostic(error: ErrorDetails, data: Any, source: SourceMap) -> Diagnostic:
    path = _clean_loc(error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    hint = None
    kind = error["type"]
    if kind == "extra_forbidden":
        message = f"unknown key {path[-1]!r}"
        hint = _known_keys_hint(path)
    elif kind == "union_tag_not_found":
        message = "a parameter needs a `type`"
        hint = f"add `type:` with one of {', '.join(PARAMETER_TYPES)}"
    elif kind == "union_tag_invalid":
        path = (*path, "type")
        message = f"unknown parameter type {(error.get('ctx') or {}).get('tag')!r}"
        hint = f"use one of {', '.join(PARAMETER_TYPES)}"
    elif kind == "missing" and path:
        hint = _misspelt(path, data) or f"add `{path[-1]}:`"
    return source.diagnostic(path, message, hint=hint)


def _misspelt(path: FieldPath, data: Any) -> str | None:
    """For a missing key, a sibling key that looks like a typo of it."""
    parent = data
    for part in path[:-1]:
        parent = parent.get(part) if isinstance(parent, dict) else None
    if not isinstance(parent, dict):
        return None
    close = difflib.get_close_matches(str(path[-1]), [str(k) for k in parent], n=1, cutoff=0.7)
    return f"rename `{close[0]}` to `{path[-1]}`" if close else None


def _clean_loc(loc: tuple[int | str, ...]) -> FieldPath:
    """Drop the discriminator tag pydantic puts in parameter error locations."""
    parts = list(loc)
    if len(parts) > 2 and parts[0] == "parameters" and parts[2] in PARAMETER_TYPES:
        del parts[2]
    return tuple(parts)


def _known_keys_hint(path: FieldPath) -> str | None:
    from storyboard.recipes import model

    owner: Any = Recipe
    if path[:1] == ("run",):
        owner = model.RunSettings
    elif path[:1] == ("parameters",):
        return "parameter keys: type, description, default and the type's limits"
    known = list(owner.model_fields)
    close = difflib.get_close_matches(str(path[-1]), known, n=1)
    return f"did you mean `{close[0]}`?" if close else f"known keys: {', '.join(known)}"


def _check_defaults(loaded: LoadedRecipe) -> list[Diagnostic]:
    _, problems = resolve_values(loaded.recipe, [loaded.defaults_layer()])
    return [p for p in problems if "is missing" not in p.message]


def _check_templates(loaded: LoadedRecipe) -> list[Diagnostic]:
    env = recipe_environment()
    problems = []
    try:
        env.parse(loaded.recipe.storyboard)
    except jinja2.TemplateSyntaxError as exc:
        problems.append(
            loaded.template_diagnostic(f"template syntax error: {exc.message}", exc.lineno)
        )
    try:
        env.parse(loaded.recipe.run.output)
    except jinja2.TemplateSyntaxError as exc:
        problems.append(
            loaded.source.diagnostic(("run", "output"), f"template syntax error: {exc.message}")
        )
    return problems


# -- finding -------------------------------------------------------------------------------


def recipe_dirs(env: dict[str, str] | None = None) -> list[tuple[Path, bool]]:
    """Folders searched for recipes by name: built-ins first, then the folders of
    ``STORYBOARD_RECIPE_PATH`` (:attr:`storyboard.settings.Settings.recipe_path`; ``env``:
    the variables to read instead of the process environment)."""
    extra = Settings.from_env(env).recipe_path
    return [(builtin_dir("pipelines"), True), *((p, False) for p in extra)]


def available_recipes(env: dict[str, str] | None = None) -> dict[str, tuple[Path, bool]]:
    """Recipe name (its folder's name) -> (recipe file, built-in?); first folder wins."""
    found: dict[str, tuple[Path, bool]] = {}
    for folder, builtin in recipe_dirs(env):
        if not folder.is_dir():
            continue
        for file in sorted(folder.glob(f"*/{RECIPE_FILE}")):
            found.setdefault(file.parent.name, (file, builtin))
    return found


def find_recipe(name_or_path: str, env: dict[str, str] | None = None) -> LoadedRecipe:
    """A recipe by path (file or folder) or by name; :class:`RecipeNotFound` otherwise."""
    path = Path(name_or_path)
    if path.is_file() or (path.is_dir() and (path / RECIPE_FILE).is_file()):
        return load_recipe(path)
    known = available_recipes(env)
    if name_or_path in known:
        file, builtin = known[name_or_path]
        return load_recipe(file, builtin=builtin)
    close = difflib.get_close_matches(name_or_path, list(known), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise RecipeNotFound(
        f"no recipe named or at {name_or_path!r}; {hint}available: {', '.join(known) or 'none'}"
        " (`storyboard recipe list`), or give the path of a recipe.yaml"
    )
