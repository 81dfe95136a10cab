"""Assembling generated clips into the finished edit (ffmpeg + moviepy; see docs/edit.md).

Public API::

    from storyboard.edit import EditClip, AssemblyReport, assemble, to_moviepy

The names are imported on first use, so ``storyboard.edit.model`` (which the storyboard
spec needs) does not pull in the assembler, numpy or OpenTimelineIO.
"""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from .assemble import ProgressCallback, assemble
    from .clips import EditClip
    from .errors import AssemblyError, EditError
    from .report import AssemblyReport, LoudnessReport, ScenePlacement
    from .to_moviepy import to_moviepy

_LAZY = {
    "AssemblyError": "errors",
    "AssemblyReport": "report",
    "EditClip": "clips",
    "EditError": "errors",
    "LoudnessReport": "report",
    "ProgressCallback": "assemble",
    "ScenePlacement": "report",
    "assemble": "assemble",
    "to_moviepy": "to_moviepy",
}

__all__ = [
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
    value = getattr(_importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
