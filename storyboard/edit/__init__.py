"""Assembling generated clips into the finished edit (ffmpeg + moviepy; see docs/edit.md).

Public API::

    from storyboard.edit import EditClip, AssemblyReport, assemble, to_moviepy
"""

from .assemble import ProgressCallback, assemble
from .clips import EditClip
from .errors import AssemblyError, EditError
from .report import AssemblyReport, LoudnessReport, ScenePlacement
from .to_moviepy import to_moviepy

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
