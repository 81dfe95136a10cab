"""Errors raised while assembling an edit.

::

    EditError (ValueError)       the edit does not fit the clips; lists every problem at once,
                                 each an EditProblem naming its storyboard field
    AssemblyError (RuntimeError) an assembly step failed (ffmpeg error, unreadable clip);
                                 names the step and, where known, the scene
"""

from __future__ import annotations

from collections.abc import Sequence

from storyboard.diagnostics import format_path
from storyboard.errors import StoryboardError

__all__ = ["AssemblyError", "EditError", "EditProblem"]


class EditProblem(str):
    """One problem of an edit: its text is ``field: message``; ``path`` is the field path
    in the storyboard (``("edit", "trims", "a", "out")``) so it can be shown at its line."""

    path: tuple[str | int, ...]
    message: str
    hint: str | None

    def __new__(
        cls, path: tuple[str | int, ...], message: str, hint: str | None = None
    ) -> EditProblem:
        self = super().__new__(cls, f"{format_path(path)}: {message}" if path else message)
        self.path, self.message, self.hint = path, message, hint
        return self


class EditError(ValueError, StoryboardError):
    """The edit section does not fit the clips; ``problems`` holds every problem found."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"the edit has {len(self.problems)} problem(s):\n{lines}")


class AssemblyError(RuntimeError, StoryboardError):
    """An assembly step failed; ``step`` names it and ``scene`` the scene, when known."""

    def __init__(self, step: str, message: str, *, scene: str | None = None) -> None:
        where = f"{step} (scene {scene})" if scene else step
        super().__init__(f"assembly step {where} failed: {message}")
        self.step = step
        self.scene = scene
