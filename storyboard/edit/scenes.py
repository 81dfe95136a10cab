"""What the edit knows about every scene's source: generated clips, footage and stills.

Generated clips and footage are probed (:mod:`storyboard.edit.probe`); a still becomes a
synthetic :class:`ClipInfo` at the output frame rate, with no keyframes (it is never
stream-copied) and no sound. Footage in/out points become trims, effects that change
the speed become the scene's speed, and every scene with a still, footage or effects is
marked *composite* (rendered by moviepy). :func:`resolve_scenes` then lays everything out
with the one timeline model the ffmpeg paths use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from PIL import Image, UnidentifiedImageError

from .clips import ClipInfo, EditClip, VideoParams
from .effects import effects_speed
from .errors import AssemblyError, EditError
from .model import Edit, Output, Trim
from .probe import probe_clips
from .timeline import Timeline, resolve_timeline

__all__ = ["SceneSetup", "probe_sources", "resolve_scenes", "still_info"]

STILL_CODEC = "still"
"""``VideoParams.codec`` of a still image's synthetic clip info."""


def still_info(clip: EditClip, fps: int) -> ClipInfo:
    """A still image as a clip: ``duration`` seconds at ``fps``, no keyframes, no sound."""
    assert clip.still is not None
    try:
        with Image.open(clip.path) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError) as exc:
        raise AssemblyError("probe", f"{clip.path} is not an image: {exc}") from exc
    params = VideoParams(STILL_CODEC, None, "rgb24", width, height, float(fps), None)
    frames = max(1, round(clip.still.duration * fps))
    return ClipInfo(clip.path, params, frames, (), 0.0, has_audio=False)


def probe_sources(clips: Sequence[EditClip], fps: int) -> list[ClipInfo]:
    """One :class:`ClipInfo` per clip (videos probed, stills read with Pillow)."""
    videos = [c.path for c in clips if c.still is None]
    probed = iter(probe_clips(videos))
    infos: list[ClipInfo] = []
    for clip in clips:
        if clip.still is not None:
            infos.append(still_info(clip, fps))
            continue
        info = next(probed)
        if clip.footage is not None:
            if info.frames < 2:
                raise EditError([f"footage {clip.path} of scene {clip.scene_id!r} is not a video"])
            info = replace(info, has_audio=info.has_audio and clip.footage.audio)
        infos.append(info)
    return infos


@dataclass(frozen=True)
class SceneSetup:
    """The clips' infos and the edit as the timeline sees it (footage in/out as trims)."""

    infos: tuple[ClipInfo, ...]
    edit: Edit
    timeline: Timeline


def _trims(clips: Sequence[EditClip], edit: Edit) -> dict[str, Trim]:
    trims = dict(edit.trims)
    for clip in clips:
        if clip.footage is not None and clip.scene_id not in trims:
            trims[clip.scene_id] = Trim(start=clip.footage.start, end=clip.footage.end)
    return trims


def resolve_scenes(
    clips: Sequence[EditClip], edit: Edit, output: Output, infos: Sequence[ClipInfo] | None = None
) -> SceneSetup:
    """Probe (unless ``infos`` are given) and lay the clips out on the output timeline."""
    infos = list(infos) if infos is not None else probe_sources(clips, output.fps)
    edit = edit.model_copy(update={"trims": _trims(clips, edit)})
    speeds = {c.scene_id: effects_speed(c.effects) for c in clips if c.effects}
    composite = frozenset(c.scene_id for c in clips if c.composite)
    timeline = resolve_timeline(
        [c.scene_id for c in clips], infos, edit, output, speeds=speeds, composite=composite
    )
    _check_pip(clips, infos, timeline)
    return SceneSetup(tuple(infos), edit, timeline)


def _check_pip(clips: Sequence[EditClip], infos: Sequence[ClipInfo], timeline: Timeline) -> None:
    """Picture-in-picture of a still or footage: inside the frame (known only from its file)."""
    sizes = {c.scene_id: infos[i].size for i, c in enumerate(clips)}
    problems = []
    for span in timeline.overlays:
        overlay = span.overlay
        if overlay.scene is None:
            continue
        if overlay.scene not in sizes:
            problems.append(f"edit.overlays[{span.index}].scene: no clip for {overlay.scene!r}")
            continue
        w, h = sizes[overlay.scene]
        height = overlay.width * timeline.width * h / w / timeline.height
        x, y = overlay.position
        if (
            min(x - overlay.width / 2, y - height / 2) < -1e-3
            or max(x + overlay.width / 2, y + height / 2) > 1 + 1e-3
        ):
            problems.append(
                f"edit.overlays[{span.index}].position: the picture-in-picture of "
                f"{overlay.scene!r} reaches outside the frame"
            )
    if problems:
        raise EditError(problems)
