"""Lower layers never import higher ones (docs/architecture.md, "Who may import whom").

Every module under ``storyboard/`` is parsed (``ast``, nothing is imported), with imports
inside functions and relative imports included; a module of a lower package that imports
a package it must not fails the test with the file and line.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "storyboard"

_CORE = ("spec", "load", "compile", "kling", "source", "templating", "checks", "validate")

FORBIDDEN: dict[str, frozenset[str]] = {
    "errors": frozenset({"run", "cli", "providers", "recipes", "edit", "media", "settings"}),
    **{core: frozenset({"run", "cli", "providers", "recipes"}) for core in _CORE},
    "diagnostics": frozenset({"run", "cli", "providers", "recipes"}),
    "settings": frozenset({"run", "cli", "providers", "recipes", "edit", "media"}),
    "edit": frozenset({"run", "cli", "providers", "recipes"}),
    "media": frozenset({"run", "cli", "providers", "recipes", "edit"}),
    "providers": frozenset({"run", "cli", "recipes"}),
    "plan": frozenset({"run", "cli", "providers", "recipes"}),
    "run": frozenset({"cli", "recipes"}),
    "recipes": frozenset({"cli"}),
}
"""Package (first part under ``storyboard``) -> the packages it must not import."""

KNOWN_EXCEPTIONS: frozenset[tuple[str, str]] = frozenset()
"""(module, imported module) pairs that break a rule today and are to be fixed. Add one
only with an issue number in a comment; the test still fails on every import not listed
here, and on a listed one that no longer happens."""


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the imported module, dotted
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[Import]:
    """Every ``storyboard`` import of one file, relative ones resolved."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            targets = [base]
            if not node.module:  # from . import x: x is a module of the anchor package
                targets = [f"{base}.{alias.name}" for alias in node.names]
        found += [Import(module, t, node.lineno) for t in targets if t.startswith("storyboard.")]
    return found


def layer(module: str) -> str:
    """``storyboard.providers.kie.client`` -> ``providers``."""
    return module.split(".")[1]


def all_imports() -> list[Import]:
    return [found for path in sorted(PACKAGE.rglob("*.py")) for found in imports_of(path)]


def broken_rules(imports: list[Import]) -> list[str]:
    broken = []
    for found in imports:
        if found.module == "storyboard":  # the public API facade sits above every layer
            continue
        forbidden = FORBIDDEN.get(layer(found.module), frozenset())
        known = (found.module, found.target) in KNOWN_EXCEPTIONS
        if layer(found.target) in forbidden and not known:
            broken.append(f"{found.module} (line {found.line}) imports {found.target}")
    return broken


def test_no_lower_package_imports_a_higher_one() -> None:
    assert broken_rules(all_imports()) == []


def test_known_exceptions_are_still_real() -> None:
    pairs = {(found.module, found.target) for found in all_imports()}
    assert pairs >= KNOWN_EXCEPTIONS, "drop the fixed exceptions from KNOWN_EXCEPTIONS"


def test_the_parser_sees_every_kind_of_import() -> None:
    imports = {(i.module, i.target) for i in all_imports()}
    assert ("storyboard.compile", "storyboard.kling") in imports  # from x import y
    assert ("storyboard.providers.animatic.layout", "storyboard.providers.animatic.spec") in (
        imports  # from .spec import ...
    )
    lazy = ("storyboard.run.backend", "storyboard.providers.emulator")  # inside a function
    assert lazy in imports


def test_a_forbidden_import_is_reported() -> None:
    imports = [
        Import("storyboard.kling.rules", "storyboard.run.steps", 3),
        Import("storyboard.edit.compose", "storyboard.cli.app", 4),
        Import("storyboard.run.steps", "storyboard.edit.compose", 5),
        Import("storyboard", "storyboard.run", 6),
    ]
    assert broken_rules(imports) == [
        "storyboard.kling.rules (line 3) imports storyboard.run.steps",
        "storyboard.edit.compose (line 4) imports storyboard.cli.app",
    ]
