"""Assembling generated clips into the finished edit (ffmpeg + moviepy; see docs/edit.md).

Public API::

    from storyboard.edit import EditClip, AssemblyReport, assemble, to_moviepy

The names are imported on first use, so ``storyboard.edit.model`` (which the storyboard
spec needs) does not pull in the assembler, numpy or OpenTimelineIO.

``to_moviepy(path)`` starts from a storyboard file, so it is defined above this package,
in :mod:`storyboard.run.clips` (it needs the run's planning and journal). This table
re-exports it by name when it is first used, as the package facade does; no module of
``edit/`` imports ``run/``, so the assembler and the clip-building part it calls
(:func:`storyboard.edit.moviepy_clip.edit_clip`) load without the runner.
"""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from .assemble import ProgressCallback, assemble
    from .clips import EditClip
    from .errors import AssemblyError, EditError
    from .report import AssemblyReport, LoudnessReport, ScenePlacement

ASSEMBLER_VERSION = 1
"""The version of the assembler's output. Bump it whenever a change under ``edit/`` (or
the burn-ins) changes the edit written from the same clips and settings: it is part of
the assembly key, so the next render assembles again instead of keeping the old edit."""

_LAZY = {
    "AssemblyError": "errors",
    "AssemblyReport": "report",
    "EditClip": "clips",
    "EditError": "errors",
    "LoudnessReport": "report",
    "ProgressCallback": "assemble",
    "ScenePlacement": "report",
    "assemble": "assemble",
    "to_moviepy": "storyboard.run.clips",
}
"""Public name -> its module (relative to this package unless dotted from the root)."""

__all__ = [
    "ASSEMBLER_VERSION",
    "AssemblyError",
    "AssemblyReport",
    "EditClip",
    "EditError",
    "LoudnessReport",
    "ProgressCallback",
    "ScenePlacement",
    "assemble",
    "to_moviepy",
]


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'storyboard.edit' has no attribute {name!r}")
    dotted = module if module.startswith("storyboard.") else f"{__name__}.{module}"
    value = getattr(_importlib.import_module(dotted), name)
    globals()[name] = value
    return value
