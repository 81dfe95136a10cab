"""Smart render: find bridge encoder settings that match the clips, encode the bridges.

A bridge joins stream-copied pieces in one H.264 stream, so its parameter sets (SPS/PPS)
must be byte-identical to the clips' (the MP4's ``avcC`` holds only the first piece's).
We do not guess from metadata: each candidate setting encodes two frames of the first
clip, and its extradata checksum must equal the clip's. Clips made by our animatic match
:data:`~storyboard.media.encoding.ANIMATIC_ENCODING`; files written by x264 with default
settings match :data:`X264_DEFAULTS`; anything else falls back to a full render.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from storyboard.media.encoding import ANIMATIC_ENCODING, VideoEncoding
from storyboard.media.ffmpeg import FFmpegError, run_ffmpeg

from .clips import ClipInfo
from .probe import stream_extradata

__all__ = [
    "BRIDGE_CANDIDATES",
    "FAST_ANALYSIS",
    "X264_DEFAULTS",
    "X264_DEFAULTS_FAST",
    "BridgeEncoder",
    "find_bridge_encoder",
]

X264_DEFAULTS = VideoEncoding(preset="medium", crf=23, gop=250)
"""libx264's defaults (preset medium, crf 23, keyint 250), as most tools write them."""

FAST_ANALYSIS = (
    "me=dia:subme=1:chroma-qp-offset=-2:trellis=0:rc-lookahead=0:b-adapt=0:mbtree=0"
    ":partitions=none:weightp=1:mixed-refs=0:aq-mode=0"
)
"""x264 analysis settings that are ~3x faster than preset medium's and leave the
parameter sets alone: refs, B-frames, 8x8 transform and weighted prediction stay as the
preset has them (they are in the SPS/PPS), and ``chroma-qp-offset=-2`` stands in for the
-2 that medium's psy-rd adds (psy-rd needs subme >= 6). The trial encode checks that the
result really is byte-identical."""

X264_DEFAULTS_FAST = replace(X264_DEFAULTS, x264_params=FAST_ANALYSIS)
"""Bridges for x264-default clips, encoded with :data:`FAST_ANALYSIS`."""


@dataclass(frozen=True)
class BridgeEncoder:
    """Encoder settings verified to reproduce the clips' SPS/PPS."""

    name: str
    encoding: VideoEncoding


BRIDGE_CANDIDATES: tuple[BridgeEncoder, ...] = (
    BridgeEncoder("ANIMATIC_ENCODING (x264 veryfast, crf 23, 1 s GOP)", ANIMATIC_ENCODING),
    BridgeEncoder("x264 defaults (medium, crf 23) with fast analysis", X264_DEFAULTS_FAST),
    BridgeEncoder("x264 defaults (medium, crf 23)", X264_DEFAULTS),
)

_verified: dict[tuple[object, ...], BridgeEncoder | None] = {}


def _trial_args(info: ClipInfo, encoding: VideoEncoding, out: Path) -> list[str]:
    return [
        "-v",
        "error",
        "-i",
        str(info.path),
        "-map",
        "0:v:0",
        "-frames:v",
        "2",
        "-an",
        *encoding.video_args(),
        "-f",
        "mp4",
        "-y",
        str(out),
    ]


def find_bridge_encoder(
    infos: Sequence[ClipInfo],
    work: Path,
    candidates: Sequence[BridgeEncoder] = BRIDGE_CANDIDATES,
) -> BridgeEncoder | None:
    """The first candidate whose trial encode has the clips' exact SPS/PPS, or None."""
    extradata = {i.params.extradata for i in infos}
    if len(extradata) != 1 or None in extradata:
        return None
    info = infos[0]
    key = (info.params.copy_key(), info.params.extradata, tuple(candidates))
    if key not in _verified:
        _verified[key] = _first_match(info, work, candidates)
    return _verified[key]


def _first_match(
    info: ClipInfo, work: Path, candidates: Sequence[BridgeEncoder]
) -> BridgeEncoder | None:
    for n, candidate in enumerate(candidates):
        trial = work / f"bridge-trial-{n}.mp4"
        try:
            run_ffmpeg(_trial_args(info, candidate.encoding, trial))
        except FFmpegError:
            continue
        if stream_extradata(trial) == info.params.extradata:
            return candidate
    return None
