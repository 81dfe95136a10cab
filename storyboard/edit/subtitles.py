"""Subtitles from the shots' dialogue: cues timed to the edit, written as .srt and .vtt.

Each shot's ``dialogue`` is spoken over that shot's part of its scene's clip
(:func:`shot_lines`). :func:`subtitle_cues` places those spans on the output timeline
through the scene's trim, and clips them to the part of the edit where the scene is the
one on screen: a crossfade hands over at its middle (the same cut point as the OTIO
hand-off), so cues never overlap. A fade through black keeps each cue to its own scene.
Everything here is pure except :func:`write_sidecars`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from storyboard.atomic import write_text_atomic

from .clips import EditClip, SpokenLine
from .timeline import Scene, Timeline

__all__ = [
    "LINE_CHARS",
    "Cue",
    "cut_span",
    "shot_lines",
    "srt_text",
    "subtitle_cues",
    "vtt_text",
    "wrap_line",
    "write_sidecars",
]

LINE_CHARS = 42
"""Characters per subtitle line before wrapping (the common broadcast limit)."""


@dataclass(frozen=True)
class Cue:
    """One subtitle on the output timeline, in frames ``[start, end)``."""

    start: int
    end: int
    text: str
    scene_id: str

    @property
    def frames(self) -> int:
        return self.end - self.start


def shot_lines(shots: Sequence[tuple[float, str | None]]) -> tuple[SpokenLine, ...]:
    """Spoken lines of a scene's shots, given as (duration s, dialogue or None) in order."""
    lines: list[SpokenLine] = []
    start = 0.0
    for duration, dialogue in shots:
        if dialogue and dialogue.strip():
            lines.append(SpokenLine(start, start + duration, dialogue.strip()))
        start += duration
    return tuple(lines)


def cut_span(scene: Scene) -> tuple[int, int]:
    """Output frames ``[start, end)`` where ``scene`` is the scene on screen.

    A crossfade of ``n`` frames hands over after ``n // 2`` of them, as in the OTIO
    hand-off, so consecutive spans meet exactly.
    """
    head = scene.head.overlap // 2
    tail = scene.tail.overlap - scene.tail.overlap // 2
    return scene.start + head, scene.end - tail


def subtitle_cues(timeline: Timeline, clips: Sequence[EditClip]) -> tuple[Cue, ...]:
    """Every spoken line of the edit's scenes as a cue on the output timeline."""
    fps = timeline.fps
    cues: list[Cue] = []
    for scene in timeline.scenes:
        lo, hi = cut_span(scene)
        source_in = scene.src_in / scene.src_fps
        for line in clips[scene.clip].dialogue:
            start = max(lo, scene.start + round((line.start - source_in) * fps))
            end = min(hi, scene.start + round((line.end - source_in) * fps))
            if end > start:
                cues.append(Cue(start, end, line.text, scene.scene_id))
    return tuple(cues)


def wrap_line(text: str, width: int = LINE_CHARS) -> list[str]:
    """The text as subtitle lines: the author's line breaks kept, long lines wrapped."""
    lines: list[str] = []
    for part in text.splitlines():
        part = " ".join(part.split())
        if part:
            lines += textwrap.wrap(part, width, break_long_words=False) or [part]
    return lines


def _clock(frame: int, fps: int, separator: str) -> str:
    ms = round(frame * 1000 / fps)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    seconds, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{ms:03d}"


def srt_text(cues: Sequence[Cue], fps: int) -> str:
    """SubRip: numbered cues, ``HH:MM:SS,mmm`` times."""
    blocks = []
    for n, cue in enumerate(cues, 1):
        lines = [line.replace("-->", "->") for line in wrap_line(cue.text)]
        times = f"{_clock(cue.start, fps, ',')} --> {_clock(cue.end, fps, ',')}"
        blocks.append("\n".join([str(n), times, *lines]))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _vtt_escape(line: str) -> str:
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def vtt_text(cues: Sequence[Cue], fps: int) -> str:
    """WebVTT: a header, then cues with ``HH:MM:SS.mmm`` times (text escaped)."""
    blocks = ["WEBVTT"]
    for cue in cues:
        times = f"{_clock(cue.start, fps, '.')} --> {_clock(cue.end, fps, '.')}"
        blocks.append("\n".join([times, *(_vtt_escape(x) for x in wrap_line(cue.text))]))
    return "\n\n".join(blocks) + "\n"


def write_sidecars(cues: Sequence[Cue], fps: int, srt: Path, vtt: Path) -> None:
    """Write the .srt and .vtt files (UTF-8)."""
    write_text_atomic(srt, srt_text(cues, fps))
    write_text_atomic(vtt, vtt_text(cues, fps))
