"""The whole check of a storyboard file: schema, references, Kling rules, local files.

:func:`validate` is what ``storyboard validate`` runs and what every other command runs
first; it never raises for bad input, it returns a :class:`Report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from storyboard._callable import make_callable
from storyboard.assets import FileChecks, check_assets
from storyboard.checks import check_references
from storyboard.compile import Compiled, Generation, compile_storyboard
from storyboard.compositing_checks import check_compositing
from storyboard.diagnostics import Diagnostic, sort_diagnostics
from storyboard.edit_checks import check_edit
from storyboard.errors import InputError
from storyboard.gcpause import gc_paused
from storyboard.kling import DEFAULT_LIMITS, KlingLimits
from storyboard.load import LoadedStoryboard, load_file
from storyboard.spec import Storyboard
from storyboard.templating import Environments, template_folders

__all__ = [
    "Report",
    "Shared",
    "StoryboardInvalid",
    "compile_file",
    "validate",
    "validate_loaded",
]


@dataclass
class Report:
    """The outcome of validating one storyboard."""

    loaded: LoadedStoryboard
    compiled: Compiled | None
    diagnostics: list[Diagnostic]
    strict: bool = False

    @property
    def errors(self) -> list[Diagnostic]:
        """Errors, including warnings when strict."""
        return [d for d in self.diagnostics if d.severity == "error" or self.strict]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def ok(self) -> bool:
        return self.compiled is not None and not self.errors

    @property
    def storyboard(self) -> Storyboard:
        """The validated storyboard (only when :attr:`ok`)."""
        assert self.loaded.storyboard is not None
        return self.loaded.storyboard

    @property
    def generations(self) -> list[Generation]:
        """The compiled generations (only when :attr:`ok`)."""
        assert self.compiled is not None
        return self.compiled.generations

    def shown(self) -> list[Diagnostic]:
        """Diagnostics as the user sees them (warnings promoted when strict)."""
        return [d.as_error() if self.strict else d for d in self.diagnostics]


@dataclass
class Shared:
    """What storyboards validated one after another may share (a recipe batch's rows):
    sandboxes by template folders, and what checking each file found. Only for a run in
    which the storyboards' files and templates do not change."""

    environments: Environments = field(default_factory=Environments)
    files: FileChecks = field(default_factory=FileChecks)


class StoryboardInvalid(InputError):
    """A storyboard has errors; ``diagnostics`` lists them all."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(str(d) for d in diagnostics))
        self.diagnostics = diagnostics


@gc_paused()
def validate(
    path: str | Path,
    *,
    strict: bool = False,
    check_files: bool = True,
    allow_outside: bool = False,
    limits: KlingLimits = DEFAULT_LIMITS,
) -> Report:
    """Load, cross-check, compile and (optionally) check the local files of a storyboard."""
    loaded = load_file(path)
    return validate_loaded(
        loaded,
        strict=strict,
        check_files=check_files,
        allow_outside=allow_outside,
        limits=limits,
    )


@gc_paused()
def validate_loaded(
    loaded: LoadedStoryboard,
    *,
    strict: bool = False,
    check_files: bool = True,
    allow_outside: bool = False,
    limits: KlingLimits = DEFAULT_LIMITS,
    shared: Shared | None = None,
) -> Report:
    """:func:`validate` for an already loaded storyboard (text from memory, recipes);
    ``shared``: sandboxes and file checks kept from the storyboards validated before."""
    board = loaded.storyboard
    if board is None:
        return Report(loaded, None, loaded.diagnostics, strict)
    found = [*loaded.diagnostics, *check_references(board, loaded.source)]
    found += check_compositing(
        board,
        loaded.source,
        loaded.base_dir,
        check_files=check_files,
        allow_outside=allow_outside,
    )
    found += check_edit(board, loaded.source)
    env = None
    if shared is not None:
        folders, _ = template_folders(loaded.base_dir, board.templates, allow_outside=allow_outside)
        root = None if allow_outside else loaded.base_dir
        env = shared.environments.get(folders, root)
    compiled = compile_storyboard(loaded, limits=limits, allow_outside=allow_outside, env=env)
    found += compiled.diagnostics
    if check_files:
        found += check_assets(
            board,
            compiled.generations,
            loaded.base_dir,
            loaded.source,
            allow_outside=allow_outside,
            limits=limits,
            memo=shared.files if shared is not None else None,
        )
    return Report(loaded, compiled, sort_diagnostics(found), strict)


def compile_file(path: str | Path, *, strict: bool = False) -> list[Generation]:
    """Validate and compile; raise :class:`StoryboardInvalid` listing every error."""
    report = validate(path, strict=strict)
    if not report.ok:
        raise StoryboardInvalid(report.errors)
    return report.generations


make_callable(__name__, lambda: validate)
