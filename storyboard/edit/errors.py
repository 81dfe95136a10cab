"""Errors raised while assembling an edit.

::

    EditError (ValueError)       the edit does not fit the clips; lists every problem at once
    AssemblyError (RuntimeError) an assembly step failed (ffmpeg error, unreadable clip);
                                 names the step and, where known, the scene
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["AssemblyError", "EditError"]


class EditError(ValueError):
    """The edit section does not fit the clips; ``problems`` holds every problem found."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"the edit has {len(self.problems)} problem(s):\n{lines}")


class AssemblyError(RuntimeError):
    """An assembly step failed; ``step`` names it and ``scene`` the scene, when known."""

    def __init__(self, step: str, message: str, *, scene: str | None = None) -> None:
        where = f"{step} (scene {scene})" if scene else step
        super().__init__(f"assembly step {where} failed: {message}")
        self.step = step
        self.scene = scene
