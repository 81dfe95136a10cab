"""Render a Kling 3.0 createTask body as an animatic MP4.

Each distinct still (a shot card, the first-frame or last-frame picture) is drawn once
with Pillow and written as a PNG; one ffmpeg run converts each still to YUV once, repeats
it with the ``loop`` filter for its exact number of frames, concatenates the stills, adds
the audio bed, and encodes with :data:`~storyboard.media.encoding.ANIMATIC_ENCODING`.
"""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from storyboard.media.encoding import ANIMATIC_ENCODING, AUDIO_RATE, FPS
from storyboard.media.ffmpeg import run_ffmpeg

from .assets import AssetCache, Fetch
from .cards import CardContent, Tile, draw_card, draw_picture
from .layout import frame_size, reported_size, size_from_image, tile_side
from .review import (
    CameraMove,
    camera_filter,
    camera_move,
    draw_panel,
    draw_plain,
    moving_card_area,
)
from .spec import AnimaticSpec, ElementSpec, parse_body
from .text import mentioned_names
from .timing import ShotTiming, Still, StillKind, format_timing, plan_stills, shot_timings

__all__ = ["audio_filter", "encode_args", "render_animatic", "video_filter"]

ENCODER_THREADS = 2
"""Fixed x264 thread count: the same input then always gives the same bytes."""

BED_SEED = 20_251_125
"""Seed of the audio bed's noise (so the bed is identical on every render)."""

BED_GAIN_DB = -6.0
"""Gain that puts the audio bed at about -30 dBFS RMS."""

TO_YUV = (
    "setsar=1,scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
    "setparams=range=tv:color_primaries=bt709:color_trc=bt709:colorspace=bt709"
)
"""Filters turning an RGB still into BT.709 limited-range yuv420p, tagged as such."""


def render_animatic(
    body: Mapping[str, Any],
    out_path: str | Path,
    *,
    fetch_asset: Fetch | None = None,
    label: str | None = None,
    take: int | None = None,
) -> Path:
    """Render the animatic of a Kling 3.0 createTask body to ``out_path`` (an MP4).

    The clip lasts exactly ``input.duration`` seconds at 24 fps, is 720p (std) or 1080p
    (pro) in ``input.aspect_ratio`` (or the first-frame image's own shape), and has a
    48 kHz stereo AAC track: a quiet bed when ``input.sound`` is true, silence otherwise.
    The file appears atomically: it is written next to ``out_path`` and renamed into place.

    Args:
        body: ``{"model": "kling-3.0/video", "input": {...}}``.
        out_path: where to write the MP4; parent folders are created.
        fetch_asset: URL/path -> bytes, or None when unreachable. Defaults to reading local
            paths and ``file://`` URLs only (no network).
        label: shown on every card, e.g. the scene id.
        take: the take number, for review renders (see :mod:`.review`): the first-frame
            image is held exactly for half a second, then a large panel shows the label,
            shot and prompt over it, and stills move slowly (seeded by the take).

    Returns:
        ``out_path`` as a :class:`~pathlib.Path`.

    Raises:
        ValueError: the body is not a valid createTask body (every problem is listed).
        storyboard.media.ffmpeg.FFmpegError: ffmpeg failed (no output file is left).
    """
    spec = parse_body(body)
    assets = AssetCache(fetch_asset)
    first, last = assets.image(spec.first_frame_url), assets.image(spec.last_frame_url)
    size = _frame_size(spec, first)
    review = take is not None
    stills = plan_stills(
        spec, has_first_frame=first is not None, has_last_frame=last is not None, review=review
    )
    painter = _Painter(spec, size, assets, label, review=review)
    pictures = {
        StillKind.FIRST_FRAME: first,
        StillKind.LAST_FRAME: last,
        StillKind.PANEL: first,
        StillKind.CLEAN_END: first,
    }
    images = [painter.still(still, pictures.get(still.kind)) for still in stills]
    moves = [_move(spec, s, take or 1, size) for s in stills]
    out = Path(out_path)
    _encode(images, [still.frames for still in stills], spec.sound, out, moves)
    return out


def _move(spec: AnimaticSpec, still: Still, take: int, size: tuple[int, int]) -> str | None:
    """The camera-move filters of a moving still (a clean end holds where the move ended)."""
    if not still.moving:
        return None
    move = camera_move(spec.shots[still.shot.index].prompt, take)
    if still.kind is StillKind.CLEAN_END:
        move = CameraMove(move.kind, move.z1, move.z1, move.a1, move.a1)
    return camera_filter(move, size, still.frames, TO_YUV)


def _frame_size(spec: AnimaticSpec, first_frame: Image.Image | None) -> tuple[int, int]:
    """The first-frame image's shape when there is one, else the body's aspect ratio."""
    if first_frame is not None:
        return size_from_image(spec.mode, first_frame.size)
    return frame_size(spec.mode, spec.aspect_ratio)


class _Painter:
    """Draws the stills of one spec; fetches and shrinks each element image once."""

    def __init__(
        self,
        spec: AnimaticSpec,
        size: tuple[int, int],
        assets: AssetCache,
        label: str | None,
        *,
        review: bool = False,
    ) -> None:
        self.spec, self.size, self.assets, self.label = spec, size, assets, label
        self.review = review
        self.frames = [timing.frames for timing in shot_timings(spec)]
        self.elements = {element.name: element for element in spec.elements}
        self._tiles: dict[str, Tile] = {}

    def still(self, still: Still, picture: Image.Image | None) -> Image.Image:
        """The image of ``still`` (``picture`` is the first/last frame it shows, if any)."""
        if still.kind is StillKind.PANEL:
            shot = still.shot
            meta = f"shot {shot.index + 1}/{shot.count} · {format_timing(shot.start, shot.end)}"
            prompt = self.spec.shots[shot.index].prompt
            return draw_panel(self.size, picture, self.label or "", meta, prompt)
        if still.kind is StillKind.CARD or picture is None:
            area = moving_card_area(self.size) if still.moving else None
            return draw_card(self.size, self.card(still.shot), area)
        if self.review and still.kind in {StillKind.FIRST_FRAME, StillKind.CLEAN_END}:
            return draw_plain(self.size, picture)  # exact: continuity starts here
        which = "first frame" if still.kind is StillKind.FIRST_FRAME else "last frame"
        return draw_picture(self.size, picture, self.caption(still.shot, which))

    def card(self, shot: ShotTiming) -> CardContent:
        """What the card of ``shot`` says and shows."""
        prompt = self.spec.shots[shot.index].prompt
        names = mentioned_names(prompt, self.elements)
        sound = "sound on" if self.spec.sound else "no sound"
        return CardContent(
            prompt=prompt,
            shot=shot,
            shot_frames=self.frames,
            label=self.label,
            subtitle=f"animatic preview · {self.spec.mode} {self._size_label} · {sound}",
            tiles=[self._tile(self.elements[name]) for name in names],
            element_names=frozenset(self.elements),
        )

    @property
    def _size_label(self) -> str:
        width, height = reported_size(self.spec.mode, self.size)
        stand_in = " (1080p stand-in)" if (width, height) != self.size else ""
        return f"{width}x{height}{stand_in}"

    def caption(self, shot: ShotTiming, which: str) -> str:
        """One-line caption of a first/last-frame picture."""
        parts = [
            self.label or "",
            f"shot {shot.index + 1}/{shot.count}",
            format_timing(shot.start, shot.end),
            which,
            self.spec.shots[shot.index].prompt.strip(),
        ]
        return "  ·  ".join(part for part in parts if part)

    def _tile(self, element: ElementSpec) -> Tile:
        if element.name not in self._tiles:
            side = tile_side(self.size)
            image = self.assets.first_image(element.image_urls, max_side=2 * side)
            self._tiles[element.name] = Tile(element.name, image, element.is_video)
        return self._tiles[element.name]


# -- encoding ------------------------------------------------------------------------------


def audio_filter(sound: bool, samples: int) -> str:
    """Filtergraph (ending in ``[a]``) for exactly ``samples`` stereo samples at 48 kHz.

    With ``sound``: a soft bed of low-passed brown noise, slowly swelling (like distant
    surf), seeded so it never changes, at about -30 dBFS, faded in and out. Otherwise
    digital silence.
    """
    trim = f"atrim=end_sample={samples}"
    if not sound:
        return f"anullsrc=r={AUDIO_RATE}:cl=stereo,{trim}[a]"
    seconds = samples / AUDIO_RATE
    fade = min(1.0, seconds / 4)
    noise = f"anoisesrc=r={AUDIO_RATE}:c=brown:a=0.5"
    return (
        f"{noise}:s={BED_SEED}[bed_l];{noise}:s={BED_SEED + 1}[bed_r];"
        f"[bed_l][bed_r]join=inputs=2:channel_layout=stereo,"
        f"highpass=f=45,lowpass=f=700,tremolo=f=0.15:d=0.4,volume={BED_GAIN_DB}dB,{trim},"
        f"afade=t=in:d={fade:.3f},afade=t=out:st={seconds - fade:.3f}:d={fade:.3f}[a]"
    )


def video_filter(frame_counts: Sequence[int], moves: Sequence[str | None] = ()) -> str:
    """Filtergraph (ending in ``[v]``): input ``i`` converted once and held for
    ``frame_counts[i]`` frames (or ``moves[i]``: filters making exactly that many frames
    of the still), all concatenated, timestamps exactly ``n / 24`` s."""
    parts, labels = [], []
    for i, frames in enumerate(frame_counts):
        if frames < 1:
            raise ValueError(f"still {i} needs at least one frame, got {frames}")
        move = moves[i] if i < len(moves) else None
        if move:
            parts.append(f"[{i}:v]{move}[s{i}]")
        else:
            parts.append(f"[{i}:v]{TO_YUV},loop=loop={frames - 1}:size=1:start=0[s{i}]")
        labels.append(f"[s{i}]")
    concat = f"{''.join(labels)}concat=n={len(labels)}:v=1:a=0,settb=1/{FPS},setpts=N[v]"
    return ";".join([*parts, concat])


def encode_args(
    still_paths: Sequence[Path],
    frame_counts: Sequence[int],
    sound: bool,
    out: Path,
    moves: Sequence[str | None] = (),
) -> list[str]:
    """The ffmpeg arguments that turn the stills into the animatic at ``out``."""
    total = sum(frame_counts)
    samples = total * AUDIO_RATE // FPS
    inputs = [arg for path in still_paths for arg in ("-framerate", str(FPS), "-i", str(path))]
    graph = f"{video_filter(frame_counts, moves)};{audio_filter(sound, samples)}"
    return [
        "-y",
        "-v",
        "error",
        *inputs,
        "-filter_complex",
        graph,
        "-filter_complex_threads",
        "1",
        "-map",
        "[v]",
        "-map",
        "[a]",
        "-frames:v",
        str(total),
        "-r",
        str(FPS),
        *ANIMATIC_ENCODING.video_args(),
        *ANIMATIC_ENCODING.audio_args(),
        "-threads",
        str(ENCODER_THREADS),
        "-map_metadata",
        "-1",
        "-map_chapters",
        "-1",
        "-fflags",
        "+bitexact",
        "-flags:v",
        "+bitexact",
        "-flags:a",
        "+bitexact",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        str(out),
    ]


def _encode(
    images: Sequence[Image.Image],
    frame_counts: Sequence[int],
    sound: bool,
    out: Path,
    moves: Sequence[str | None] = (),
) -> None:
    """Write the stills to a scratch folder, encode next to ``out``, rename into place."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        with tempfile.TemporaryDirectory(prefix="animatic-") as scratch:
            paths = _write_stills(images, Path(scratch))
            run_ffmpeg(encode_args(paths, frame_counts, sound, partial, moves))
        partial.replace(out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def _write_stills(images: Sequence[Image.Image], folder: Path) -> list[Path]:
    paths = []
    for i, image in enumerate(images):
        path = folder / f"still{i:03d}.png"
        image.save(path, format="PNG", compress_level=1)
        paths.append(path)
    return paths
