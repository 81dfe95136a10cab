"""Stream-copied pieces, the concat list, the one AAC encode, and the final mux.

Every copied piece is remuxed **video only** first (``-an -c copy``, ~35 ms): the concat
demuxer advances each file by its longest stream, so a clip whose AAC outlasts its video
would leave a gap, and copied AAC would drift by its encoder priming at every join. A piece
that starts mid-clip starts on a keyframe (``-ss`` just past it, stream copy seeks back to
it) and ends before a keyframe or at the clip's end (``-frames:v``): with closed GOPs the
first N packets in decode order are then exactly the first N frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from storyboard.media.encoding import AUDIO_RATE
from storyboard.media.ffmpeg import run_ffmpeg

from .clips import ClipInfo
from .paths import CopyPiece
from .timeline import Timeline

__all__ = [
    "aac_encode",
    "concat_list",
    "copy_piece_args",
    "copy_pieces_args",
    "encode_audio_args",
    "mux_args",
    "mux_encode_args",
    "retime_args",
    "run_all",
]


def aac_encode(audio_filter: str, bitrate: str) -> list[str]:
    """Output arguments: the sound through ``audio_filter``, encoded to stereo AAC."""
    return ["-af", audio_filter, "-c:a", "aac", "-b:a", bitrate, "-ar", str(AUDIO_RATE), "-ac", "2"]


def copy_piece_args(piece: CopyPiece, info: ClipInfo, out: Path) -> list[str]:
    """ffmpeg arguments that stream-copy source frames ``[src_in, src_out)`` video-only."""
    return [*_copy_input(piece, info), *_copy_output(piece, info, 0, out)]


def copy_pieces_args(jobs: Sequence[tuple[CopyPiece, ClipInfo, Path]]) -> list[str]:
    """:func:`copy_piece_args` for several pieces in one ffmpeg run (one input each).

    The remuxes are mostly process start-up: one process for all of them costs a tenth.
    """
    inputs = [a for piece, info, _ in jobs for a in _copy_input(piece, info)]
    outputs = [
        a for k, (piece, info, out) in enumerate(jobs) for a in _copy_output(piece, info, k, out)
    ]
    return [*inputs, *outputs]


def _copy_input(piece: CopyPiece, info: ClipInfo) -> list[str]:
    args: list[str] = []
    if piece.src_in:
        # Just past the keyframe's own timestamp: the copy seek goes back to it exactly.
        t = info.video_start + piece.src_in / info.fps + 0.25 / info.fps
        args += ["-seek_timestamp", "1", "-ss", f"{t:.6f}"]
    return [*args, *info.input_args()]


def _copy_output(piece: CopyPiece, info: ClipInfo, k: int, out: Path) -> list[str]:
    args = ["-map", f"{k}:v:0", "-c", "copy", "-an", "-sn", "-dn"]
    if piece.src_in or piece.src_out < info.frames:
        args += ["-frames:v", str(piece.frames), "-avoid_negative_ts", "make_zero"]
    return [*args, "-map_metadata", "-1", "-f", "mp4", "-y", str(out)]


def concat_list(paths: Sequence[Path]) -> str:
    """The concat demuxer's list file for ``paths`` (absolute, quoted)."""
    lines = []
    for p in paths:
        quoted = str(p.resolve()).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
    return "\n".join(lines) + "\n"


def encode_audio_args(
    raw_input: list[str], audio_filter: str, bitrate: str, out: Path
) -> list[str]:
    """Encode the finished sound track to AAC once (``out`` is an .m4a)."""
    return [
        *raw_input,
        *aac_encode(audio_filter, bitrate),
        "-f",
        "mp4",
        "-y",
        str(out),
    ]


def _mux_output(timeline: Timeline, out: Path) -> list[str]:
    """The muxed edit's output arguments: its frame count, no metadata, fast start."""
    container = "mov" if out.suffix.lower() == ".mov" else "mp4"
    frames = str(timeline.total_frames)
    return [
        "-frames:v",
        frames,
        "-map_metadata",
        "-1",
        "-movflags",
        "+faststart",
        "-f",
        container,
        "-y",
        str(out),
    ]


def _concat_input(list_file: Path) -> list[str]:
    """The pieces, joined by the concat demuxer from their list file (absolute paths)."""
    return ["-f", "concat", "-safe", "0", "-i", str(list_file)]


def mux_args(list_file: Path, audio: Path, timeline: Timeline, out: Path) -> list[str]:
    """Join the video pieces and the encoded sound track, both by stream copy.

    The AAC comes from one encode of the whole track (:func:`encode_audio_args`); its
    priming is carried by the .m4a's edit list and stays aligned when remuxed.
    """
    return [
        *_concat_input(list_file),
        "-i",
        str(audio),
        "-map",
        "0:v:0",
        "-map",
        "1:a:0",
        "-c",
        "copy",
        *_mux_output(timeline, out),
    ]


def mux_encode_args(
    list_file: Path,
    raw_input: list[str],
    audio_filter: str,
    bitrate: str,
    timeline: Timeline,
    out: Path,
    measure_filter: str | None = None,
) -> list[str]:
    """Join the video pieces by stream copy and encode the sound track, in one run.

    Used when the video is ready long before the sound (stream copy): the one AAC encode
    then writes straight into the output instead of into an .m4a that is copied again.
    With ``measure_filter`` the encoded sound is also decoded again as it is written (a
    loopback decoder, ``-dec``) and measured by that filter on its own thread: the
    loudness of exactly the packets in the file, without reading the file again.
    """
    args = [
        *_concat_input(list_file),
        *raw_input,
        "-map",
        "0:v:0",
        "-map",
        "1:a:0",
        "-c:v",
        "copy",
        *aac_encode(audio_filter, bitrate),
        *_mux_output(timeline, out),
    ]
    if measure_filter:
        args += [
            "-dec",
            "0:1",
            "-filter_complex",
            f"[dec:0]{measure_filter}[loudness]",
            "-map",
            "[loudness]",
            "-f",
            "null",
            "-",
        ]
    return args


def retime_args(piece: Path, frames: int) -> list[str]:
    """Remux ``piece`` with its decode times ``frames`` frames earlier (shown times kept),
    to ``retimed-<name>`` next to it."""
    out = piece.with_name(f"retimed-{piece.name}")
    return [
        "-i",
        str(piece),
        "-map",
        "0:v:0",
        "-c",
        "copy",
        "-bsf:v",
        f"setts=dts=DTS-{frames}*DURATION",
        "-f",
        "mp4",
        "-y",
        str(out),
    ]


def run_all(commands: Sequence[list[str]], workers: int = 2) -> None:
    """Run short ffmpeg commands a few at a time (they are mostly process start-up)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(lambda args: run_ffmpeg(["-v", "error", *args]), commands):
            pass
