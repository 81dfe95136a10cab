"""The clips an edit is assembled from, what probing tells about them (plain data), and
how ffmpeg should open them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .sources import Effect, Footage, Still

__all__ = ["ClipInfo", "EditClip", "SpokenLine", "VideoParams", "header_input_args"]


def header_input_args(path: Path, complete_header: bool) -> list[str]:
    """``-i path``, told to trust the container header when it describes every stream.

    ffmpeg otherwise decodes the first frames of every stream on opening (about 14 ms a
    1080p clip: most of what opening one costs). The demuxed packets are the same.
    """
    return ["-nofind_stream_info", "-i", str(path)] if complete_header else ["-i", str(path)]


@dataclass(frozen=True)
class SpokenLine:
    """A line of dialogue and when it is spoken, in seconds of its clip."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class EditClip:
    """One generated clip handed to :func:`storyboard.edit.assemble`."""

    scene_id: str
    path: Path
    """The downloaded clip (mp4, usually H.264 + AAC)."""
    prompt: str = ""
    """The scene's prompt(s), carried into the OTIO metadata."""
    task_id: str | None = None
    take: int = 1
    cost: float | None = None
    dialogue: tuple[SpokenLine, ...] = ()
    """The shots' spoken lines, timed in the clip (see :mod:`storyboard.edit.subtitles`)."""
    still: Still | None = None
    """Set when the scene is a still image (``path`` is the image)."""
    footage: Footage | None = None
    """Set when the scene is the user's own video (``path`` is the video)."""
    effects: tuple[Effect, ...] = ()
    """moviepy effects applied to the scene."""

    @property
    def kind(self) -> str:
        """generated, still or footage."""
        return "still" if self.still else "footage" if self.footage else "generated"

    @property
    def composite(self) -> bool:
        """True when moviepy renders the scene (a still, footage, or effects)."""
        return self.kind != "generated" or bool(self.effects)


@dataclass(frozen=True)
class VideoParams:
    """The codec parameters that decide whether clips can be joined by stream copy."""

    codec: str
    profile: str | None
    pix_fmt: str | None
    width: int
    height: int
    fps: float
    time_base: str | None
    """The stream time base, e.g. ``1/12288``."""
    extradata: str | None = None
    """Size and CRC of the codec extradata (avcC: SPS + PPS), e.g. ``45:0x21c80e80``."""
    sar: str | None = None
    """Sample aspect ratio when the stream states one, e.g. ``1:1``."""
    colour: tuple[str, ...] = ()
    """Colour tags as ffmpeg prints them after the pixel format: ``(tv, bt709)``."""

    def copy_key(self) -> tuple[object, ...]:
        """What must be equal for two clips' video to be concatenated without re-encoding."""
        return (
            self.codec,
            self.profile,
            self.pix_fmt,
            self.width,
            self.height,
            round(self.fps, 3),
            self.time_base,
        )


@dataclass(frozen=True)
class ClipInfo:
    """What the edit needs to know about one clip (from :func:`storyboard.edit.probe`)."""

    path: Path
    params: VideoParams
    frames: int
    """Number of video frames."""
    keyframes: tuple[int, ...]
    """Indices (display order) of the frames a stream copy may start at."""
    video_start: float
    """Presentation time (s) of the first video frame."""
    has_audio: bool
    cut_points: tuple[int, ...] = ()
    """Frame counts where a stream copy from the clip's start may end mid-GOP: the first
    ``n`` packets in decode order are the first ``n`` frames (empty: only before a
    keyframe or at the end)."""

    decode_delay: int = 0
    """Frames by which the first packet is decoded before it is shown (B-frame delay)."""
    complete_header: bool = False
    """The file is mp4/mov: its header describes every stream, so readers may open it
    without probing its first frames (``-nofind_stream_info``)."""

    def input_args(self) -> list[str]:
        """ffmpeg's ``-i`` for this clip, trusting the header when it is complete."""
        return header_input_args(self.path, self.complete_header)

    def copy_starts(self) -> tuple[int, ...]:
        """Keyframes a copied run may start at: with the decode order known, only those
        that close everything before them (no open-GOP leading B-frames)."""
        if not self.cut_points:
            return self.keyframes
        clean = {0, *self.cut_points}
        return tuple(k for k in self.keyframes if k in clean)

    def copy_ends(self) -> tuple[int, ...]:
        """Every frame index a copied run may end before, sorted (the end included)."""
        return tuple(sorted({*self.keyframes, *self.cut_points, self.frames}))

    @property
    def fps(self) -> float:
        return self.params.fps

    @property
    def duration(self) -> float:
        """Video duration in seconds."""
        return self.frames / self.params.fps

    @property
    def size(self) -> tuple[int, int]:
        return (self.params.width, self.params.height)
