"""Render one piece of the edit with moviepy, encoded like the pieces around it.

moviepy composes the frames (:func:`storyboard.edit.moviepy_clip.compose_range`); they are
piped as raw RGB into one ffmpeg encoder run with exactly the encoder settings the other
pieces use (the clips' own settings for a smart-render bridge, the output settings on the
full path), video only. So the piece joins its stream-copied neighbours by the concat
demuxer like any ffmpeg-rendered bridge, and the sound track is still built once for the
whole edit. The piece's readers are opened when it starts and closed when it ends.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from storyboard.media.encoding import VideoEncoding
from storyboard.media.ffmpeg import ffmpeg_exe

from .clips import ClipInfo, EditClip
from .compose import TitleImage
from .errors import AssemblyError
from .moviepy_clip import close_clip, compose_range
from .timeline import Timeline

__all__ = ["ENCODER_THREADS", "encode_frames_args", "picture_filter", "render_moviepy_piece"]

ENCODER_THREADS = 1
"""x264 threads for a moviepy piece. moviepy's frames come from another process at a few
to a few dozen 1080p frames/s, so more encoder threads buy little and cost memory:
measured at 1080p, 377 MB RSS with x264's default threads, 309 MB with one; the SPS/PPS
are identical (the bridge check verifies them anyway). Re-measured with the benchmark's
effect scene (bench_compositing.py, assemble case, one run each at load ~13 on 2 cores):
two threads 30.5 s and a 540 MB peak for the whole tree, one thread 25.2 s and 489 MB;
the decoder and Python keep the other core busy, and the budget is 600 MB."""


def picture_filter(like: ClipInfo | None, sar: str | None) -> str:
    """RGB -> YUV the way the clips were written: their colour matrix, range and tags.

    The stream's SAR and colour tags are part of its SPS (VUI): a piece encoded without
    them would not join the clips by stream copy.
    """
    filters = [f"setsar={sar.replace(':', '/')}"] if sar else []
    tags = like.params.colour if like is not None else ()
    if len(tags) >= 2 and tags[0] in ("tv", "pc"):
        matrix, _, rest = tags[1].partition("/")
        primaries, _, trc = rest.partition("/")
        filters.append(f"scale=out_color_matrix={matrix}:out_range={tags[0]}")
        filters.append("format=yuv420p")
        filters.append(
            f"setparams=range={tags[0]}:colorspace={matrix}"
            f":color_primaries={primaries or matrix}:color_trc={trc or matrix}"
        )
    return ",".join(filters) or "null"


def encode_frames_args(
    size: tuple[int, int],
    fps: int,
    frames: int,
    encoding: VideoEncoding,
    out: Path,
    *,
    time_scale: str | None = None,
    picture: str = "null",
) -> list[str]:
    """ffmpeg arguments encoding ``frames`` raw RGB24 frames from stdin to video-only MP4."""
    args = [
        "-v",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{size[0]}x{size[1]}",
        "-r",
        str(fps),
        "-i",
        "-",
        "-vf",
        picture,
        "-frames:v",
        str(frames),
        *encoding.video_args(),
        "-threads",
        str(ENCODER_THREADS),
        "-an",
    ]
    if time_scale and time_scale.isdigit():
        args += ["-video_track_timescale", time_scale]
    return [*args, "-f", "mp4", "-y", str(out)]


def render_moviepy_piece(
    timeline: Timeline,
    clips: Sequence[EditClip],
    infos: Sequence[ClipInfo],
    titles: Mapping[int, TitleImage],
    span: tuple[int, int],
    encoding: VideoEncoding,
    out: Path,
    *,
    base_dir: Path,
    bridge_for: ClipInfo | None = None,
    like: ClipInfo | None = None,
    on_frames: Callable[[int], None] | None = None,
) -> None:
    """Render output frames ``span`` with moviepy into ``out`` (video only).

    ``bridge_for``: a smart-render bridge between clips like this one (its SAR and MP4
    time scale are kept); ``like``: the clip whose colour tags the piece copies (on the
    full path the ffmpeg pieces carry their sources' tags and SAR 1:1).
    """
    start, end = span
    frames = end - start
    size = (timeline.width, timeline.height)
    time_scale = bridge_for.params.time_base if bridge_for else None
    sar = bridge_for.params.sar if bridge_for else "1:1"
    picture = picture_filter(bridge_for or like, sar)
    args = encode_frames_args(
        size, timeline.fps, frames, encoding, out, time_scale=time_scale, picture=picture
    )
    clip = compose_range(timeline, clips, infos, titles, start, end, base_dir=base_dir)
    try:
        _pipe_frames(clip, frames, timeline.fps, args, on_frames)
    finally:
        close_clip(clip)


def _pipe_frames(
    clip: object, frames: int, fps: int, args: list[str], on_frames: Callable[[int], None] | None
) -> None:
    proc = subprocess.Popen([ffmpeg_exe(), *args], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    try:
        for k in range(frames):
            frame = clip.get_frame(k / fps)  # type: ignore[attr-defined]
            rgb = np.ascontiguousarray(frame[..., :3], dtype=np.uint8)
            proc.stdin.write(rgb.data.cast("B"))  # the array's own buffer: no copy
            if on_frames is not None and (k % fps == 0 or k == frames - 1):
                on_frames(k + 1)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    stderr = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.wait() != 0:
        raise AssemblyError("render", f"moviepy piece: ffmpeg failed: {stderr.strip()[-800:]}")
