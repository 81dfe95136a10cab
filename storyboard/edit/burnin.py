"""Burn-ins for review renders of the edit: scene id, shot, take and a running timecode.

A pass over the assembled file: the video is re-encoded with ffmpeg's ``drawtext`` (the
text of each shot shown while it is on screen, the timecode always), the audio copied.
The font is Pillow's bundled one, written beside the output for the pass, so the result
does not depend on the fonts installed. The same inputs give the same frames.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

from storyboard.media.encoding import VideoEncoding
from storyboard.media.ffmpeg import run_ffmpeg

from .report import ScenePlacement

__all__ = ["BurnInSpan", "burn_in", "burn_in_spans"]


@dataclass(frozen=True)
class BurnInSpan:
    """``text`` on screen from ``start`` to ``end`` (seconds of the edit)."""

    start: float
    end: float
    text: str


def burn_in_spans(
    placements: Sequence[ScenePlacement],
    shots: Mapping[str, Sequence[int]],
    takes: Mapping[str, int],
) -> list[BurnInSpan]:
    """One span per shot of each placed scene: ``scene · shot i/n · take k``.

    ``shots``: each scene's shot durations (seconds; they split the clip in proportion).
    """
    spans = []
    for place in placements:
        durations = list(shots.get(place.scene_id, [])) or [1]
        total, clip_start = sum(durations), 0.0
        clip_length = max(place.source_out, 1e-6)
        for index, seconds in enumerate(durations):
            clip_end = clip_start + clip_length * seconds / total
            start = max(place.start, place.start + clip_start - place.source_in)
            end = min(place.end, place.start + clip_end - place.source_in)
            if end > start:
                text = (
                    f"{place.scene_id} · shot {index + 1}/{len(durations)} · take "
                    f"{takes.get(place.scene_id, 1)}"
                )
                spans.append(BurnInSpan(round(start, 3), round(end, 3), text))
            clip_start = clip_end
    return spans


def burn_in(video: Path, spans: Sequence[BurnInSpan], *, fps: int, crf: int, preset: str) -> None:
    """Draw ``spans`` and a timecode onto ``video`` in place (temp file, then rename)."""
    with tempfile.TemporaryDirectory(prefix="burnin-", dir=video.parent) as scratch:
        font = Path(scratch) / "font.ttf"
        font.write_bytes(_font_bytes())
        partial = Path(scratch) / f"burned{video.suffix}"
        encoding = VideoEncoding(preset=preset, crf=crf, gop=fps)
        run_ffmpeg(
            [
                "-y",
                "-v",
                "error",
                "-i",
                str(video),
                "-vf",
                _filters(spans, font, fps),
                "-map",
                "0:v",
                "-map",
                "0:a?",
                *encoding.video_args(),
                "-c:a",
                "copy",
                "-threads",
                "2",
                "-map_metadata",
                "-1",
                "-fflags",
                "+bitexact",
                "-flags:v",
                "+bitexact",
                "-movflags",
                "+faststart",
                str(partial),
            ]
        )
        partial.replace(video)


def _filters(spans: Sequence[BurnInSpan], font: Path, fps: int) -> str:
    common = (
        f"fontfile='{_escape(str(font))}':fontcolor=white:fontsize=h/24:box=1:"
        "boxcolor=black@0.55:boxborderw=10"
    )
    parts = [
        f"drawtext={common}:text='{_escape(s.text)}':x=w/40:y=h/30:"
        f"enable='between(t,{s.start:.3f},{s.end - 0.0005:.4f})'"
        for s in spans
    ]
    parts.append(f"drawtext={common}:timecode='00\\:00\\:00\\:00':rate={fps}:x=w-tw-w/40:y=h/30")
    return ",".join(parts)


def _escape(text: str) -> str:
    """Escape for a quoted drawtext option value inside a filtergraph."""
    return text.replace("\\", "\\\\").replace("'", "\\'").replace(":", "\\:").replace(",", "\\,")


def _font_bytes() -> bytes:
    font = ImageFont.load_default(size=24)
    data = getattr(font, "font_bytes", b"")
    if not isinstance(data, bytes) or not data:  # pragma: no cover - Pillow < 10.1
        raise RuntimeError("Pillow's bundled font is not available for burn-ins")
    return data
