"""The edit's rules, checked before anything is generated, on nominal clips.

The assembly knows every rule of an edit (:func:`storyboard.edit.timeline.resolve_timeline`):
scenes named in ``order``, trims and titles inside their scenes, transitions that fit,
an even frame size. Validation runs that same code on the clips the scenes will make —
each as long as its shots, at 24 fps, in the size of its mode and aspect ratio — so an
edit that cannot be assembled is refused before any clip is paid for. Pure.
"""

from __future__ import annotations

from pathlib import Path

from storyboard.diagnostics import Diagnostic
from storyboard.edit.clips import ClipInfo, VideoParams
from storyboard.edit.errors import EditError, EditProblem
from storyboard.edit.timeline import resolve_timeline
from storyboard.media.encoding import FPS
from storyboard.providers.animatic.layout import frame_size
from storyboard.source import SourceMap
from storyboard.spec import Scene, Storyboard

__all__ = ["check_edit", "nominal_clip"]


def nominal_clip(board: Storyboard, scene: Scene) -> ClipInfo:
    """The clip a scene is expected to make: its shots' length, 24 fps, its mode's size."""
    mode = scene.mode or board.defaults.mode
    width, height = frame_size(mode, scene.aspect_ratio or board.defaults.aspect_ratio)
    params = VideoParams("h264", None, "yuv420p", width, height, float(FPS), None)
    frames = sum(shot.duration for shot in scene.shots) * FPS
    return ClipInfo(Path(f"<{scene.id}>"), params, frames, (0,), 0.0, has_audio=True)


def check_edit(board: Storyboard, source: SourceMap) -> list[Diagnostic]:
    """Every problem the assembly would find in ``edit:`` and ``output:``, at its line.

    Stills, footage and effects change a scene's length in ways only the assembly knows
    (probed sources, speed changes): such storyboards are left to the assembly's check.
    """
    if any(_not_nominal(scene) for scene in board.scenes):
        return []
    clips = [nominal_clip(board, scene) for scene in board.scenes]
    try:
        resolve_timeline([s.id for s in board.scenes], clips, board.edit, board.output)
    except EditError as exc:
        return [_diagnostic(problem, source) for problem in exc.problems]
    return []


def _diagnostic(problem: str, source: SourceMap) -> Diagnostic:
    if isinstance(problem, EditProblem):
        path = problem.path or ("edit",)
        return source.diagnostic(path, problem.message, hint=problem.hint)
    return source.diagnostic(("edit",), problem)


def _not_nominal(scene: Scene) -> bool:
    kinds = ("still", "footage", "effects")
    return any(getattr(scene, kind, None) for kind in kinds)
