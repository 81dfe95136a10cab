"""Checks of the compositing features, run by ``validate`` before anything is generated.

Effects (name and every parameter against the moviepy effect's signature), transitions
longer than their scenes, overlays (source, inside the frame), continuity from scenes
that are not generated; with ``check_files``, the still images, footage videos and
overlay images on disk (a still must be an image, footage a video).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from storyboard.diagnostics import Diagnostic, FieldPath
from storyboard.edit.effects import check_effect, effects_speed
from storyboard.edit.errors import AssemblyError
from storyboard.edit.probe import probe_clip
from storyboard.kling.limits import aspect_shape
from storyboard.source import SourceMap
from storyboard.spec import Scene, Storyboard
from storyboard.workspace import OutsideFolder, confine

__all__ = ["check_compositing"]

_EDGE = 1e-3  # fractions of the frame an overlay may stick out (rounding)


def check_compositing(
    board: Storyboard,
    source: SourceMap,
    base_dir: Path,
    *,
    check_files: bool = True,
    allow_outside: bool = False,
) -> list[Diagnostic]:
    """Every problem with stills, footage, effects, slides and overlays."""
    files = _Files(base_dir, source, allow_outside) if check_files else None
    lengths = {s.id: _length(s, files, i) for i, s in enumerate(board.scenes)}
    found = [*_effects(board, source), *_continuity(board, source)]
    found += _transitions(board, source, lengths)
    found += _overlays(board, source, files)
    if files is not None:
        found += files.problems
    return found


# --- files ---------------------------------------------------------------------------------------


class _Files:
    """Reads the media files (once each) and collects the problems found."""

    def __init__(self, base_dir: Path, source: SourceMap, allow_outside: bool) -> None:
        self.base_dir, self.source, self.allow_outside = base_dir, source, allow_outside
        self.problems: list[Diagnostic] = []

    def error(self, path: FieldPath, message: str, hint: str | None = None) -> None:
        self.problems.append(self.source.diagnostic(path, message, hint=hint))

    def existing(self, name: str, path: FieldPath) -> Path | None:
        try:
            file = confine(self.base_dir, name, allow_outside=self.allow_outside)
        except OutsideFolder:
            self.error(
                path,
                f"{name} is outside the storyboard's folder",
                "move the file next to the storyboard, or pass --allow-outside",
            )
            return None
        if not file.is_file():
            self.error(
                path,
                f"file not found: {name} (looked in {file.parent})",
                "check the path; it is relative to the storyboard file",
            )
            return None
        return file

    def image_size(self, name: str, path: FieldPath) -> tuple[int, int] | None:
        file = self.existing(name, path)
        if file is None:
            return None
        try:
            with Image.open(file) as image:
                image.verify()
                width, height = image.size
                return int(width), int(height)
        except (UnidentifiedImageError, OSError, SyntaxError):
            self.error(path, f"{name} is not an image", "use a PNG or JPG file")
            return None

    def video(self, name: str, path: FieldPath) -> tuple[float, tuple[int, int]] | None:
        """(duration s, size) of a video file, or None (problem recorded)."""
        file = self.existing(name, path)
        if file is None:
            return None
        try:
            info = probe_clip(file)
        except AssemblyError:
            info = None
        if info is None or info.frames < 2 or info.params.codec in {"png", "mjpeg", "bmp"}:
            self.error(path, f"{name} is not a video", "footage must be a video file (MP4, MOV)")
            return None
        return info.duration, info.size


def _length(scene: Scene, files: _Files | None, index: int) -> float | None:
    """The scene's length in the edit (s), when it can be known before generating."""
    seconds: float | None = scene.seconds
    if scene.footage is not None:
        here: FieldPath = ("scenes", index, "footage")
        video = files.video(scene.footage.path, (*here, "path")) if files else None
        if video is not None:
            seconds = _footage_length(scene, video[0], files, here)
        elif scene.footage.end is None:
            seconds = None
    if scene.still is not None and files is not None:
        files.image_size(scene.still.path, ("scenes", index, "still", "path"))
    if seconds and scene.effects:
        seconds /= effects_speed(scene.effects)
    return seconds


def _footage_length(scene: Scene, duration: float, files: _Files | None, here: FieldPath) -> float:
    assert scene.footage is not None
    start, end = scene.footage.start, scene.footage.end
    if files is not None and end is not None and end > duration + 0.05:
        files.error((*here, "out"), f"out {end} s is past the footage's end ({duration:.2f} s)")
    if files is not None and start >= duration:
        files.error((*here, "in"), f"in {start} s is past the footage's end ({duration:.2f} s)")
    return min(end if end is not None else duration, duration) - start


# --- effects, continuity ----------------------------------------------------------------------


def _effects(board: Storyboard, source: SourceMap) -> Iterator[Diagnostic]:
    for i, scene in enumerate(board.scenes):
        seconds = scene.seconds or 5.0
        for j, effect in enumerate(scene.effects):
            here: FieldPath = ("scenes", i, "effects", j)
            for problem in check_effect(effect, seconds):
                path = (*here, problem.param) if problem.param else (*here, "name")
                yield source.diagnostic(path, problem.message, hint=problem.hint)


def _continuity(board: Storyboard, source: SourceMap) -> Iterator[Diagnostic]:
    kinds = {s.id: s for s in board.scenes}
    for i, scene in enumerate(board.scenes):
        frame = scene.first_frame
        if frame and frame.from_scene in kinds and not kinds[frame.from_scene].generated:
            yield source.diagnostic(
                ("scenes", i, "first_frame", "from"),
                f"scene {frame.from_scene!r} is a still or footage, not a generated clip",
                hint="give the still's image file as first_frame instead",
            )


# --- transitions and overlays -----------------------------------------------------------------


def _transitions(
    board: Storyboard, source: SourceMap, lengths: dict[str, float | None]
) -> Iterator[Diagnostic]:
    for i, transition in enumerate(board.edit.transitions):
        if transition.type == "cut":
            continue
        for scene_id in transition.between:
            length = lengths.get(scene_id)
            trim = board.edit.trims.get(scene_id)
            if length is not None and trim is not None:
                length = min(length, trim.end or length) - trim.start
            if length is not None and transition.duration > length + 1e-9:
                yield source.diagnostic(
                    ("edit", "transitions", i, "duration"),
                    f"the {transition.type} ({transition.duration} s) is longer than scene "
                    f"{scene_id!r} ({length:g} s)",
                    hint="shorten the transition",
                )


def _frame_ratio(board: Storyboard) -> float:
    if board.output.size is not None:
        return board.output.size[0] / board.output.size[1]
    first = board.scene(board.edit.order[0]) if board.edit.order else board.scenes[0]
    return _aspect(first.aspect_ratio or board.defaults.aspect_ratio)


def _overlays(board: Storyboard, source: SourceMap, files: _Files | None) -> Iterator[Diagnostic]:
    ids = {s.id: s for s in board.scenes}
    frame = _frame_ratio(board)
    for i, overlay in enumerate(board.edit.overlays):
        here: FieldPath = ("edit", "overlays", i)
        ratio: float | None = None
        if overlay.scene is not None:
            if overlay.scene not in ids:
                yield source.diagnostic(
                    (*here, "scene"),
                    f"no scene {overlay.scene!r}",
                    hint=f"scene ids: {', '.join(ids)}",
                )
                continue
            ratio = _scene_ratio(ids[overlay.scene], board)
        elif overlay.image is not None and files is not None:
            size = files.image_size(overlay.image, (*here, "image"))
            ratio = size[0] / size[1] if size else None
        yield from _inside(overlay.position, overlay.width, ratio, frame, source, here)


def _scene_ratio(scene: Scene, board: Storyboard) -> float | None:
    if scene.generated:
        return _aspect(scene.aspect_ratio or board.defaults.aspect_ratio)
    return None  # stills and footage: known from the file at assembly


def _aspect(ratio: str) -> float:
    width, height = aspect_shape(ratio)
    return width / height


def _inside(
    position: tuple[float, float],
    width: float,
    ratio: float | None,
    frame: float,
    source: SourceMap,
    here: FieldPath,
) -> Iterator[Diagnostic]:
    x, y = position
    height = width * frame / ratio if ratio else 0.0
    out_x = x - width / 2 < -_EDGE or x + width / 2 > 1 + _EDGE
    out_y = y - height / 2 < -_EDGE or y + height / 2 > 1 + _EDGE
    if out_x or out_y:
        yield source.diagnostic(
            (*here, "position"),
            f"the overlay (centre {list(position)}, width {width}) reaches outside the frame",
            hint="move its centre inwards or make it smaller: position is its centre, as "
            "fractions of the frame",
        )
