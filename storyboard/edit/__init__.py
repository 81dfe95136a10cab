"""Assembling generated clips into the finished edit (ffmpeg; see docs/edit.md).

Public API::

    from storyboard.edit import EditClip, AssemblyReport, assemble
"""

from .assemble import ProgressCallback, assemble
from .clips import EditClip
from .errors import AssemblyError, EditError
from .report import AssemblyReport, LoudnessReport, ScenePlacement

__all__ = [
    "AssemblyError",
    "AssemblyReport",
    "EditClip",
    "EditError",
    "LoudnessReport",
    "ProgressCallback",
    "ScenePlacement",
    "assemble",
]
