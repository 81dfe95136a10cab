"""Choose how to assemble a timeline: stream copy, smart render or full render (pure).

- **stream-copy**: cuts only, all clips share codec parameters, every scene starts and
  ends on a keyframe (or the clip's end). The video is remuxed, never decoded.
- **smart**: as above, but some output frames must be re-encoded (transitions, titles,
  trims between keyframes). Those frames, widened to the surrounding keyframes, become
  *bridges* encoded with settings verified to match the sources; the rest is copied.
- **full**: everything is re-encoded (mixed sizes/fps/codecs, unknown source encoder,
  or ``output.fast_path`` off).

Frames that carry a moviepy-only feature (a still, footage, effects, a slide, an
overlay: :func:`moviepy_ranges`) are never copied; the rendered piece that holds them is
rendered by moviepy (``RenderPiece.renderer``), every other rendered piece by ffmpeg.

The audio track is rebuilt once for the whole edit on every path.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .clips import ClipInfo
from .timeline import Scene, Timeline

__all__ = [
    "MAX_SCENES_PER_RENDER",
    "AssemblyPath",
    "CopyPiece",
    "PathChoice",
    "Piece",
    "RenderPiece",
    "busy_ranges",
    "choose_path",
    "copy_blockers",
    "copy_runs",
    "last_boundary_at_or_before",
    "moviepy_ranges",
    "needs_bridges",
    "next_keyframe",
    "plan_pieces",
    "reencode_reasons",
    "split_range",
]

AssemblyPath = Literal["stream-copy", "smart", "full"]
Renderer = Literal["ffmpeg", "moviepy"]

MAX_SCENES_PER_RENDER = 2
"""At most this many clips are decoded by one ffmpeg process (about 160 MB each at 1080p;
with 3 a 20-clip 1080p full render's process tree peaked at 508 MB, over our 500 MB)."""


@dataclass(frozen=True)
class CopyPiece:
    """Source frames ``[src_in, src_out)`` of scene ``scene``, stream-copied."""

    scene: int
    src_in: int
    src_out: int
    out_start: int

    @property
    def frames(self) -> int:
        return self.src_out - self.src_in

    @property
    def out_end(self) -> int:
        return self.out_start + self.frames


@dataclass(frozen=True)
class RenderPiece:
    """Output frames ``[out_start, out_end)``, decoded, composited and encoded."""

    out_start: int
    out_end: int
    renderer: Renderer = "ffmpeg"

    @property
    def frames(self) -> int:
        return self.out_end - self.out_start


Piece = CopyPiece | RenderPiece


@dataclass(frozen=True)
class PathChoice:
    """The assembly path, why it was chosen, and the video pieces it joins."""

    path: AssemblyPath
    reason: str
    pieces: tuple[Piece, ...]

    @property
    def rendered_frames(self) -> int:
        return sum(p.frames for p in self.pieces if isinstance(p, RenderPiece))

    @property
    def renderer_spans(self) -> tuple[tuple[int, int, str], ...]:
        """(first output frame, one past the last, renderer) of every piece, in order."""
        return tuple(
            (p.out_start, p.out_end, "stream-copy" if isinstance(p, CopyPiece) else p.renderer)
            for p in self.pieces
        )

    @property
    def frames_by_renderer(self) -> dict[str, int]:
        """Output frames each renderer produced: stream-copy, ffmpeg, moviepy."""
        counts = {"stream-copy": 0, "ffmpeg": 0, "moviepy": 0}
        for p in self.pieces:
            counts["stream-copy" if isinstance(p, CopyPiece) else p.renderer] += p.frames
        return counts


# --- keyframe choice -------------------------------------------------------------------


def next_keyframe(keyframes: Sequence[int], frame: int) -> int | None:
    """The first keyframe at or after ``frame`` (None if there is none)."""
    i = bisect.bisect_left(keyframes, frame)
    return keyframes[i] if i < len(keyframes) else None


def last_boundary_at_or_before(keyframes: Sequence[int], clip_frames: int, frame: int) -> int:
    """The last frame at or before ``frame`` where a copied run may end.

    A run may end just before a keyframe (the next GOP is not needed) or at the clip's end.
    """
    if frame >= clip_frames:
        return clip_frames
    i = bisect.bisect_right(keyframes, frame)
    return keyframes[i - 1] if i else 0


# --- what must be re-encoded --------------------------------------------------------------


def copy_blockers(timeline: Timeline, infos: Sequence[ClipInfo]) -> list[str]:
    """Why the clips' video cannot be joined by stream copy (empty list: it can).

    Composite scenes (stills, footage, effects) are always rendered: they do not count.
    """
    used = [infos[s.clip] for s in timeline.scenes if not s.composite]
    if not used:
        return ["every scene is composited by moviepy"]
    blockers: list[str] = []
    fields = ("codec", "profile", "pix_fmt", "width", "height", "fps", "time_base")
    columns = zip(*(i.params.copy_key() for i in used), strict=True)
    for field, values in zip(fields, columns, strict=True):
        distinct = sorted({str(v) for v in values})
        if len(distinct) > 1:
            blockers.append(f"clips differ in {field} ({', '.join(distinct)})")
    first = used[0].params
    if first.codec != "h264":
        blockers.append(f"clip codec is {first.codec}, the output is h264")
    if first.pix_fmt != "yuv420p":
        blockers.append(f"clip pixel format is {first.pix_fmt}, the output is yuv420p")
    if (first.width, first.height) != (timeline.width, timeline.height):
        blockers.append(
            f"clip size {first.width}x{first.height} is not the output size "
            f"{timeline.width}x{timeline.height}"
        )
    if abs(first.fps - timeline.fps) > 1e-3:
        blockers.append(f"clip frame rate {first.fps:g} is not the output's {timeline.fps}")
    return blockers


def busy_ranges(timeline: Timeline) -> list[tuple[int, int]]:
    """Output frame ranges that must be re-encoded: transitions and titles (merged)."""
    ranges: list[tuple[int, int]] = []
    for s in timeline.scenes:
        if s.head_busy:
            ranges.append((s.start, s.start + s.head_busy))
        if s.tail_busy:
            ranges.append((s.end - s.tail_busy, s.end))
    ranges.extend((t.start, t.end) for t in timeline.titles)
    return _merge(ranges + moviepy_ranges(timeline))


def moviepy_ranges(timeline: Timeline) -> list[tuple[int, int]]:
    """Output frame ranges only moviepy renders: composite scenes, slides, overlays."""
    ranges = [(s.start, s.end) for s in timeline.scenes if s.composite]
    ranges += [
        (s.start, s.start + s.head.overlap) for s in timeline.scenes if s.head.kind == "slide"
    ]
    ranges += [(o.start, o.end) for o in timeline.overlays]
    return _merge(ranges)


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _subtract(span: tuple[int, int], holes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    a, b = span
    free: list[tuple[int, int]] = []
    for h0, h1 in holes:
        if h1 <= a or h0 >= b:
            continue
        if h0 > a:
            free.append((a, h0))
        a = max(a, h1)
    if a < b:
        free.append((a, b))
    return free


def copy_runs(scene: Scene, info: ClipInfo, busy: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Source-frame runs of ``scene`` that can be stream-copied (keyframe-aligned)."""
    offset = scene.start - scene.src_in
    runs: list[tuple[int, int]] = []
    for c0, c1 in _subtract((scene.start, scene.end), busy):
        k1 = next_keyframe(info.copy_starts(), c0 - offset)
        # A run may end mid-GOP at a clean cut: only the partial GOP after it is rendered.
        k2 = last_boundary_at_or_before(info.copy_ends(), info.frames, c1 - offset)
        if k1 is not None and k1 < k2:
            runs.append((k1, k2))
    return runs


def plan_pieces(timeline: Timeline, infos: Sequence[ClipInfo]) -> tuple[Piece, ...]:
    """Copy what can be copied; everything in between becomes a render piece."""
    busy = busy_ranges(timeline)
    copies = [
        CopyPiece(i, k1, k2, k1 + s.start - s.src_in)
        for i, s in enumerate(timeline.scenes)
        for k1, k2 in copy_runs(s, infos[s.clip], busy)
    ]
    pieces: list[Piece] = []
    cursor = 0
    for c in sorted(copies, key=lambda c: c.out_start):
        if c.out_start > cursor:
            pieces.append(RenderPiece(cursor, c.out_start))
        pieces.append(c)
        cursor = c.out_end
    if cursor < timeline.total_frames:
        pieces.append(RenderPiece(cursor, timeline.total_frames))
    return tuple(pieces)


def reencode_reasons(timeline: Timeline, infos: Sequence[ClipInfo]) -> list[str]:
    """Human-readable reasons why some frames need re-encoding."""
    reasons: list[str] = []
    kinds = [j.kind for j in timeline.joins if j.kind != "cut"]
    for kind in ("crossfade", "fade"):
        if n := kinds.count(kind):
            reasons.append(f"{n} {kind}{'s' if n > 1 else ''}")
    if timeline.titles:
        reasons.append(f"{len(timeline.titles)} title(s)")
    if composite := [s.scene_id for s in timeline.scenes if s.composite]:
        reasons.append(f"composited scene(s) {', '.join(composite)}")
    if timeline.overlays:
        reasons.append(f"{len(timeline.overlays)} overlay(s)")
    off = [
        s.scene_id
        for s in timeline.scenes
        if not s.composite and not _trim_on_keyframes(s, infos[s.clip])
    ]
    if off:
        reasons.append(f"trims between keyframes in {', '.join(off)}")
    return reasons


def _trim_on_keyframes(scene: Scene, info: ClipInfo) -> bool:
    return scene.src_in in info.copy_starts() and scene.src_out in info.copy_ends()


# --- the decision ----------------------------------------------------------------------------


def needs_bridges(timeline: Timeline, infos: Sequence[ClipInfo], *, fast_path: bool) -> bool:
    """True when the smart path is possible and needs a bridge encoder to be matched."""
    if not fast_path or copy_blockers(timeline, infos):
        return False
    return any(isinstance(p, RenderPiece) for p in plan_pieces(timeline, infos))


def choose_path(
    timeline: Timeline,
    infos: Sequence[ClipInfo],
    *,
    fast_path: bool = True,
    bridge_encoder: str | None = None,
    max_scenes: int = MAX_SCENES_PER_RENDER,
) -> PathChoice:
    """Pick the assembly path; ``bridge_encoder`` names verified bridge settings, if any."""
    if not fast_path:
        return _full(timeline, "output.fast_path is off", max_scenes)
    blockers = copy_blockers(timeline, infos)
    if blockers:
        return _full(timeline, "; ".join(blockers), max_scenes)
    pieces = plan_pieces(timeline, infos)
    rendered = sum(p.frames for p in pieces if isinstance(p, RenderPiece))
    if not rendered:
        reason = "cuts only, clips share codec parameters, every cut on a keyframe"
        return PathChoice("stream-copy", reason, pieces)
    why = ", ".join(reencode_reasons(timeline, infos))
    if bridge_encoder is None:
        reason = f"{why} need re-encoding, and no bridge encoder matches the clips' SPS/PPS"
        return _full(timeline, reason, max_scenes)
    reason = (
        f"{why}: {rendered} of {timeline.total_frames} frames re-encoded with "
        f"{bridge_encoder} (SPS/PPS identical to the clips), the rest stream-copied"
    )
    return PathChoice("smart", reason, _split_renders(timeline, pieces, max_scenes))


def _full(timeline: Timeline, reason: str, max_scenes: int) -> PathChoice:
    whole = tuple(RenderPiece(a, b) for a, b in _renderer_runs(timeline))
    return PathChoice("full", reason, _split_renders(timeline, whole, max_scenes))


def _renderer_runs(timeline: Timeline) -> list[tuple[int, int]]:
    """``[0, total)`` cut where no transition is in progress and the renderer changes."""
    total = timeline.total_frames
    points = [0, *(s.start + s.head.overlap for s in timeline.scenes[1:]), total]
    moviepy = moviepy_ranges(timeline)
    runs: list[tuple[int, int, bool]] = []
    for a, b in itertools.pairwise(sorted(set(points))):
        needs = _touches(a, b, moviepy)
        if runs and runs[-1][2] == needs:
            runs[-1] = (runs[-1][0], b, needs)
        else:
            runs.append((a, b, needs))
    return [(a, b) for a, b, _ in runs]


def _touches(a: int, b: int, ranges: list[tuple[int, int]]) -> bool:
    return any(r0 < b and r1 > a for r0, r1 in ranges)


def _split_renders(
    timeline: Timeline, pieces: Sequence[Piece], max_scenes: int
) -> tuple[Piece, ...]:
    moviepy = moviepy_ranges(timeline)
    out: list[Piece] = []
    for p in pieces:
        if isinstance(p, RenderPiece):
            for a, b in split_range(timeline, p.out_start, p.out_end, max_scenes):
                renderer: Renderer = "moviepy" if _touches(a, b, moviepy) else "ffmpeg"
                out.append(RenderPiece(a, b, renderer))
        else:
            out.append(p)
    return tuple(out)


def _scene_count(timeline: Timeline, start: int, end: int) -> int:
    return sum(1 for s in timeline.scenes if s.start < end and s.end > start)


def split_range(timeline: Timeline, start: int, end: int, max_scenes: int) -> list[tuple[int, int]]:
    """Split ``[start, end)`` so each part decodes at most ``max_scenes`` clips.

    Parts are cut only where no transition is in progress: at the first frame where a
    scene is on its own (its start, or the end of the crossfade into it).
    """
    points = [p for s in timeline.scenes[1:] if start < (p := s.start + s.head.overlap) < end]
    parts: list[tuple[int, int]] = []
    a = start
    while True:
        later = [p for p in points if p > a]
        if _scene_count(timeline, a, end) <= max_scenes or not later:
            parts.append((a, end))
            return parts
        fitting = [p for p in later if _scene_count(timeline, a, p) <= max_scenes]
        b = fitting[-1] if fitting else later[0]
        parts.append((a, b))
        a = b
