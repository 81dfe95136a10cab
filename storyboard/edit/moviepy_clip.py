"""The edit (or a range of it) as a moviepy clip, laid out by the one timeline model.

:func:`compose_range` builds a ``CompositeVideoClip`` for output frames ``[start, end)``
from the resolved :class:`~storyboard.edit.timeline.Timeline`: each visible scene (a
generated clip or footage read with ``VideoFileClip``, or a still with its camera move),
trimmed, conformed to the output size (pad or crop, as ffmpeg's compositor does), with its
effects; fades through black (``FadeIn``/``FadeOut``), crossfades (``CrossFadeIn`` over the
outgoing scene), slides (``SlideIn``); then overlays (images, picture-in-picture) and
the Pillow-rendered titles with their alpha fades. Only the scenes visible in the range
are opened: the assembly renders a moviepy piece, then closes its readers
(:func:`close_clip`), so memory stays bounded however long the edit is.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from storyboard.media.encoding import AUDIO_RATE
from storyboard.media.ffmpeg import run_ffmpeg_capture

from .clips import ClipInfo, EditClip
from .compose import TitleImage
from .effects import build_effects
from .model import Edit, Output
from .sources import Move
from .timeline import OverlaySpan, Scene, Timeline, TitleSpan

__all__ = [
    "MOVE_ZOOM",
    "close_clip",
    "compose_range",
    "conform_frame",
    "edit_clip",
    "still_frame_function",
]

Frame = npt.NDArray[np.uint8]
MOVE_ZOOM = 1.15
"""How far a still's zoom or pan moves: the picture is enlarged up to this factor."""
_SLIDE_FROM = {"left": "right", "right": "left", "up": "bottom", "down": "top"}


# --- pure picture helpers ----------------------------------------------------------------------


def conform_frame(frame: Frame, size: tuple[int, int], mode: str) -> Frame:
    """Fit an RGB frame into ``size``: pad (letterbox/pillarbox, black) or crop (fill)."""
    h, w = frame.shape[:2]
    dw, dh = size
    if (w, h) == (dw, dh):
        return frame
    scale = max(dw / w, dh / h) if mode == "crop" else min(dw / w, dh / h)
    sw, sh = max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2)
    resized = np.asarray(Image.fromarray(frame[..., :3]).resize((sw, sh), Image.Resampling.BICUBIC))
    if mode == "crop":
        x0, y0 = (sw - dw) // 2, (sh - dh) // 2
        return np.ascontiguousarray(resized[y0 : y0 + dh, x0 : x0 + dw])
    out = np.zeros((dh, dw, 3), np.uint8)
    x0, y0 = (dw - min(sw, dw)) // 2, (dh - min(sh, dh)) // 2
    out[y0 : y0 + min(sh, dh), x0 : x0 + min(sw, dw)] = resized[:dh, :dw]
    return out


def _still_window(
    image: tuple[int, int], size: tuple[int, int], move: Move, p: float
) -> tuple[float, float, float, float]:
    """The part of the image shown at progress ``p`` (0..1) of the move, as a box."""
    iw, ih = image
    w, h = size
    cover = max(w / iw, h / ih)
    zoom = {"zoom-in": 1 + (MOVE_ZOOM - 1) * p, "zoom-out": MOVE_ZOOM - (MOVE_ZOOM - 1) * p}
    z = zoom.get(move, MOVE_ZOOM if move.startswith("pan") else 1.0)
    ww, wh = w / (cover * z), h / (cover * z)
    cx, cy = iw / 2, ih / 2
    if move == "pan-left":  # the view travels left across the picture
        cx = iw - ww / 2 - (iw - ww) * p
    elif move == "pan-right":
        cx = ww / 2 + (iw - ww) * p
    return (cx - ww / 2, cy - wh / 2, cx + ww / 2, cy + wh / 2)


def still_frame_function(
    image: Image.Image, size: tuple[int, int], move: Move, duration: float, conform: str
) -> Callable[[float], Frame]:
    """``t -> frame`` of a still: conformed as the output asks, or moving (cover + zoom/pan)."""
    rgb = _flatten(image)
    if move == "none":
        frame = conform_frame(np.asarray(rgb), size, conform)
        return lambda t: frame

    def at(t: float) -> Frame:
        p = min(1.0, max(0.0, t / duration)) if duration > 0 else 0.0
        box = _still_window(rgb.size, size, move, p)
        return np.asarray(rgb.resize(size, Image.Resampling.BICUBIC, box=box))

    return at


def _flatten(image: Image.Image) -> Image.Image:
    """RGB over black (an image's alpha is dropped the way a video would show it)."""
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(black, rgba).convert("RGB")
    return image.convert("RGB")


# --- one scene ------------------------------------------------------------------------------------


def _source_clip(clip: EditClip, info: ClipInfo, timeline: Timeline, scene: Scene) -> Any:
    """The scene's picture, trimmed and conformed, before effects (no sound)."""
    from moviepy import VideoClip, VideoFileClip

    size = (timeline.width, timeline.height)
    seconds = (scene.src_out - scene.src_in) / scene.src_fps
    if clip.still is not None:
        with Image.open(info.path) as image:
            image.load()
            function = still_frame_function(image, size, clip.still.move, seconds, timeline.conform)
        return VideoClip(function, duration=seconds).with_fps(timeline.fps)
    video = VideoFileClip(str(info.path), audio=False)
    t0 = scene.src_in / scene.src_fps
    video = video.subclipped(t0, min(video.duration, t0 + seconds))
    return _conformed(video, size, timeline.conform)


def _conformed(clip: Any, size: tuple[int, int], mode: str) -> Any:
    if tuple(clip.size) == size:
        return clip
    return clip.image_transform(lambda frame: conform_frame(frame, size, mode), apply_to=[])


def scene_clip(clip: EditClip, info: ClipInfo, timeline: Timeline, scene: Scene) -> Any:
    """The scene as it appears in the edit: effects, fades, crossfade-in or slide-in."""
    from moviepy import vfx

    fps = timeline.fps
    picture = _source_clip(clip, info, timeline, scene)
    if clip.effects:
        picture = picture.with_effects(build_effects(clip.effects))
        picture = _conformed(picture, (timeline.width, timeline.height), "pad")
    picture = picture.with_duration(scene.frames / fps)
    fades = []
    if scene.head.fade_in:
        fades.append(vfx.FadeIn(scene.head.fade_in / fps))
    if scene.tail.fade_out:
        fades.append(vfx.FadeOut(scene.tail.fade_out / fps))
    if scene.head.kind == "crossfade":
        fades.append(vfx.CrossFadeIn(scene.head.frames / fps))
    if scene.head.kind == "slide":
        fades.append(vfx.SlideIn(scene.head.frames / fps, _SLIDE_FROM[scene.head.direction]))
    return picture.with_effects(fades) if fades else picture


# --- overlays and titles -----------------------------------------------------------------------


def _overlay_clip(
    span: OverlaySpan,
    timeline: Timeline,
    base_dir: Path,
    sources: Mapping[str, tuple[EditClip, ClipInfo, Scene | None]],
) -> Any:
    from moviepy import ImageClip, vfx

    fps = timeline.fps
    overlay = span.overlay
    width = max(2, round(overlay.width * timeline.width))
    if overlay.image is not None:
        path = Path(overlay.image)
        with Image.open(path if path.is_absolute() else base_dir / path) as image:
            rgba = image.convert("RGBA")
        height = max(2, round(width * rgba.height / rgba.width))
        rgba = rgba.resize((width, height), Image.Resampling.LANCZOS)
        picture: Any = ImageClip(np.asarray(rgba), transparent=True)
    else:
        assert overlay.scene is not None
        picture = _pip_clip(overlay.scene, width, span.frames / fps, timeline, sources)
    picture = picture.with_duration(span.frames / fps)
    effects: list[Any] = []
    if overlay.opacity < 1:
        picture = picture.with_opacity(overlay.opacity)
    if span.fade_in:
        effects.append(vfx.CrossFadeIn(span.fade_in / fps))
    if span.fade_out:
        effects.append(vfx.CrossFadeOut(span.fade_out / fps))
    if effects:
        picture = picture.with_effects(effects)
    w, h = picture.size
    x = round(overlay.position[0] * timeline.width - w / 2)
    y = round(overlay.position[1] * timeline.height - h / 2)
    return picture.with_position((x, y))


def _pip_clip(
    scene_id: str,
    width: int,
    seconds: float,
    timeline: Timeline,
    sources: Mapping[str, tuple[EditClip, ClipInfo, Scene | None]],
) -> Any:
    """Another scene, scaled to ``width``, from its first used frame, as long as it lasts."""
    clip, info, placed = sources[scene_id]
    scene = placed or Scene(scene_id, 0, 0, info.frames, info.fps, 0, info.frames)
    aspect = info.size[1] / info.size[0]
    height = max(2, round(width * aspect / 2) * 2)
    own = Timeline(timeline.fps, width, height, "pad", (scene,))
    picture = _source_clip(clip, info, own, scene)
    if clip.effects:
        picture = _conformed(
            picture.with_effects(build_effects(clip.effects)), (width, height), "pad"
        )
    return picture


def _title_clip(span: TitleSpan, image: TitleImage, fps: int) -> Any:
    from moviepy import ImageClip, vfx

    with Image.open(image.path) as png:
        rgba = np.asarray(png.convert("RGBA"))
    picture = ImageClip(rgba, transparent=True).with_duration(span.frames / fps)
    if span.fade:
        picture = picture.with_effects(
            [vfx.CrossFadeIn(span.fade / fps), vfx.CrossFadeOut(span.fade / fps)]
        )
    return picture.with_position((image.x, image.y))


# --- a range of the edit -------------------------------------------------------------------


def _place(clip: Any, first: int, last: int, start: int, end: int, fps: int) -> Any | None:
    """Put a clip that spans output frames ``[first, last)`` into the range ``[start, end)``."""
    if first >= end or last <= start:
        return None
    skip = max(0, start - first)
    if skip:
        clip = clip.subclipped(skip / fps)
    visible = min(end, last) - max(start, first)
    return clip.with_duration(visible / fps).with_start((max(start, first) - start) / fps)


def compose_range(
    timeline: Timeline,
    clips: Sequence[EditClip],
    infos: Sequence[ClipInfo],
    titles: Mapping[int, TitleImage],
    start: int,
    end: int,
    *,
    base_dir: Path,
) -> Any:
    """A ``CompositeVideoClip`` of output frames ``[start, end)`` (no sound).

    Only the scenes (and picture-in-picture sources) visible in the range are opened.
    """
    from moviepy import CompositeVideoClip

    fps = timeline.fps
    layers: list[Any] = []
    for scene in timeline.scenes:
        if scene.start < end and scene.end > start:
            whole = scene_clip(clips[scene.clip], infos[scene.clip], timeline, scene)
            layers.append(_place(whole, scene.start, scene.end, start, end, fps))
    placed = {s.scene_id: s for s in timeline.scenes}
    sources = {c.scene_id: (c, infos[i], placed.get(c.scene_id)) for i, c in enumerate(clips)}
    for span in timeline.overlays:
        if span.start < end and span.end > start:
            picture = _overlay_clip(span, timeline, base_dir, sources)
            layers.append(_place(picture, span.start, span.end, start, end, fps))
    for title in timeline.titles:
        if title.start < end and title.end > start and title.index in titles:
            picture = _title_clip(title, titles[title.index], fps)
            layers.append(_place(picture, title.start, title.end, start, end, fps))
    size = (timeline.width, timeline.height)
    visible = [c for c in layers if c is not None]
    if len(visible) == 1 and tuple(visible[0].size) == size and len(layers) == 1:
        # one scene and nothing over it: no transition can be in progress, skip compositing
        return visible[0].with_duration((end - start) / fps).with_fps(fps)
    composite = CompositeVideoClip(
        [c for c in layers if c is not None], size=size, bg_color=(0, 0, 0)
    )
    return composite.with_duration((end - start) / fps).with_fps(fps)


def close_clip(clip: Any) -> None:
    """Close a composite and every reader under it (ffmpeg processes end here)."""
    for layer in getattr(clip, "clips", []):
        close_clip(layer)
    with contextlib.suppress(OSError, AttributeError):
        clip.close()


def edit_clip(
    clips: Sequence[EditClip],
    edit: Edit,
    output: Output,
    *,
    base_dir: Path,
) -> Any:
    """The whole edit as a moviepy ``CompositeVideoClip`` with its finished sound track.

    The pictures are laid out by the same timeline as :func:`storyboard.edit.assemble`;
    the sound is the same track the assembly muxes (generated sound, music, loudness),
    built once and held in memory as an ``AudioArrayClip`` (48 kHz stereo).
    """
    from moviepy.audio.AudioClip import AudioArrayClip

    from .assemble import build_sound_track
    from .scenes import resolve_scenes
    from .subtitles import subtitle_cues
    from .titles import burn_in, render_overlays, subtitles_from

    setup = resolve_scenes(clips, edit, output)
    plain = setup.timeline
    timeline = burn_in(plain, subtitle_cues(plain, clips), edit.subtitles)
    with tempfile.TemporaryDirectory(prefix="storyboard-moviepy-") as folder:
        work = Path(folder)
        titles = render_overlays(
            timeline, subtitles_from(plain), edit.subtitles, base_dir, work, setup.infos
        ).images
        sound = build_sound_track(timeline, setup.infos, edit, output, base_dir, work)
        samples = _decode_pcm(sound)
        video = compose_range(  # reads the title images now, before the folder goes
            timeline, clips, setup.infos, titles, 0, timeline.total_frames, base_dir=base_dir
        )
    audio = AudioArrayClip(samples, fps=AUDIO_RATE).with_duration(timeline.duration)
    return video.with_audio(audio)


def _decode_pcm(path: Path) -> npt.NDArray[np.float32]:
    """An audio file decoded to (n, 2) float32 at 48 kHz (priming removed by the decoder)."""
    out, _ = run_ffmpeg_capture(
        [
            "-v",
            "error",
            "-i",
            str(path),
            "-map",
            "0:a:0",
            "-ac",
            "2",
            "-ar",
            str(AUDIO_RATE),
            "-f",
            "f32le",
            "-",
        ]
    )
    return np.frombuffer(out, "<f4").reshape(-1, 2).copy()
