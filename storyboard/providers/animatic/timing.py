"""When each shot and each still is on screen, in whole frames. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from storyboard.media.encoding import FPS

from .spec import AnimaticSpec

__all__ = [
    "ShotTiming",
    "Still",
    "StillKind",
    "format_timing",
    "last_frame_frames",
    "plan_stills",
    "shot_frame_counts",
    "shot_timings",
]


class StillKind(Enum):
    """What a still shows."""

    CARD = "card"
    FIRST_FRAME = "first_frame"
    LAST_FRAME = "last_frame"
    PANEL = "panel"
    """Review mode: the first-frame picture under a large panel with the shot's prompt."""
    CLEAN_END = "clean_end"
    """Review mode: the picture again, without the panel, where the camera move ended (the
    clip's last frame, where the next scene's continuity starts)."""


@dataclass(frozen=True)
class ShotTiming:
    """Shot ``index`` (0-based) of ``count`` covers frames ``[start, end)``."""

    index: int
    count: int
    start: int
    end: int

    @property
    def frames(self) -> int:
        """Number of frames the shot lasts."""
        return self.end - self.start


@dataclass(frozen=True)
class Still:
    """One picture held on screen for ``frames`` frames, belonging to ``shot``."""

    kind: StillKind
    shot: ShotTiming
    frames: int
    moving: bool = False
    """Review mode: shown with a slow camera move instead of held still."""


def shot_frame_counts(seconds: Sequence[int], total_frames: int) -> list[int]:
    """Frames per shot so that they add up to exactly ``total_frames``.

    When the requested shot durations already add up to the total, each shot gets
    ``seconds × FPS`` frames. Otherwise every shot is scaled by the same factor and the
    rounding is settled by the largest-remainder method, so the shots keep their relative
    lengths and the file keeps its exact duration. Every shot keeps at least one frame
    when there are enough frames to go round.
    """
    if not seconds:
        raise ValueError("a clip needs at least one shot")
    weights = [max(s, 0) for s in seconds]
    wanted = sum(weights)
    if wanted == 0:
        weights, wanted = [1] * len(seconds), len(seconds)
    exact = [w * total_frames / wanted for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[: total_frames - sum(counts)]:
        counts[i] += 1
    return _at_least_one_each(counts)


def _at_least_one_each(counts: list[int]) -> list[int]:
    """Move single frames from the longest shots to any empty shot."""
    counts = list(counts)
    for i, count in enumerate(counts):
        if count == 0:
            donor = max(range(len(counts)), key=lambda j: (counts[j], -j))
            if counts[donor] > 1:
                counts[donor] -= 1
                counts[i] = 1
    return counts


def shot_timings(spec: AnimaticSpec) -> list[ShotTiming]:
    """Frame ranges of every shot of ``spec``, covering exactly ``spec.seconds``."""
    counts = shot_frame_counts([shot.seconds for shot in spec.shots], spec.seconds * FPS)
    timings, start = [], 0
    for i, frames in enumerate(counts):
        timings.append(ShotTiming(index=i, count=len(counts), start=start, end=start + frames))
        start += frames
    return timings


def last_frame_frames(shot_frames: int) -> int:
    """How long a single shot's last-frame image is held at its end (frames).

    A quarter of the shot, between one and two seconds, and never the whole shot.
    """
    held = min(2 * FPS, max(FPS, shot_frames // 4))
    return max(0, min(held, shot_frames - 1))


REVIEW_HOLD = FPS // 2
"""Review mode: frames the exact first-frame image is held before the panel comes in."""


def plan_stills(
    spec: AnimaticSpec, *, has_first_frame: bool, has_last_frame: bool, review: bool = False
) -> list[Still]:
    """The stills of the clip in order; their frames add up to the clip's length.

    The first shot opens on the first-frame image when one is available; every other
    shot is a card. A single shot with a last-frame image shows it at its end. In
    ``review`` mode the first-frame image is held only :data:`REVIEW_HOLD` frames, then
    a panel with the shot's prompt comes over it, and panels and cards move.
    """
    stills: list[Still] = []
    for timing in shot_timings(spec):
        opens = has_first_frame and timing.index == 0
        kind = StillKind.FIRST_FRAME if opens else StillKind.CARD
        tail = last_frame_frames(timing.frames) if has_last_frame and timing.count == 1 else 0
        body = timing.frames - tail
        if review and opens and body > 1:
            hold = min(REVIEW_HOLD, body // 4) or 1
            clean = hold if timing.count == 1 and not tail and body - 2 * hold > 0 else 0
            stills += [
                Still(kind, timing, hold),
                Still(StillKind.PANEL, timing, body - hold - clean, True),
            ]
            if clean:
                stills.append(Still(StillKind.CLEAN_END, timing, clean, True))
        else:
            stills.append(Still(kind, timing, body, review and kind is StillKind.CARD))
        if tail:
            stills.append(Still(StillKind.LAST_FRAME, timing, tail))
    return stills


def format_timing(start_frame: int, end_frame: int, fps: int = FPS) -> str:
    """``"0.0–3.0 s"``: a frame range as seconds with one decimal."""
    return f"{start_frame / fps:.1f}–{end_frame / fps:.1f} s"
