"""What :func:`storyboard.edit.assemble` reports about the edit it wrote."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from .paths import AssemblyPath

__all__ = ["AssemblyReport", "LoudnessReport", "ScenePlacement"]


@dataclass(frozen=True)
class ScenePlacement:
    """Where one scene sits on the output timeline, and which part of its clip it uses."""

    scene_id: str
    start: float
    """Output time (s) where the scene starts (a crossfade into it starts here)."""
    end: float
    source_in: float
    """Clip time (s) of the first frame used."""
    source_out: float
    clip: Path

    def to_json(self) -> dict[str, object]:
        return {
            "scene_id": self.scene_id,
            "start": round(self.start, 6),
            "end": round(self.end, 6),
            "duration": round(self.end - self.start, 6),
            "source_in": round(self.source_in, 6),
            "source_out": round(self.source_out, 6),
            "clip": str(self.clip),
        }


@dataclass(frozen=True)
class LoudnessReport:
    """Loudness of the written file, measured after writing (EBU R128, ffmpeg loudnorm)."""

    integrated: float | None
    """Integrated loudness of the output in LUFS (None: silent)."""
    true_peak: float | None
    """True peak of the output in dBTP (None: silent)."""
    target: float
    ceiling: float
    normalisation: str
    """linear (one gain), limited (gain + true-peak limiter) or none."""
    before: float | None = None
    """Integrated loudness of the mix before normalisation (LUFS)."""

    def to_json(self) -> dict[str, object]:
        return {
            "integrated_lufs": _finite(self.integrated),
            "true_peak_dbtp": _finite(self.true_peak),
            "target_lufs": self.target,
            "true_peak_ceiling_dbtp": self.ceiling,
            "normalisation": self.normalisation,
            "mix_before_lufs": _finite(self.before),
        }


def _finite(value: float | None) -> float | None:
    return round(value, 2) if value is not None and math.isfinite(value) else None


@dataclass(frozen=True)
class AssemblyReport:
    """The result of an assembly: the file, the path taken and why, and measurements."""

    path: Path
    assembly_path: AssemblyPath
    """stream-copy, smart or full."""
    reason: str
    """Why that path was taken."""
    duration: float
    """Output duration (s) from the frame count."""
    frames: int
    fps: int
    size: tuple[int, int]
    scenes: tuple[ScenePlacement, ...]
    loudness: LoudnessReport
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent per step (probe, plan, titles, video, audio, mux, measure, handoffs)."""
    handoffs: dict[str, Path] = field(default_factory=dict)
    """Hand-off files written: otio, contact_sheet, report; srt and vtt with dialogue;
    export_<format> for each of ``edit.exports``."""
    reencoded_frames: int = 0
    """Frames decoded and encoded (0 on the stream-copy path)."""
    frames_by_renderer: dict[str, int] = field(default_factory=dict)
    """Output frames each renderer produced: stream-copy, ffmpeg, moviepy."""
    pieces: tuple[tuple[int, int, str], ...] = ()
    """The video pieces: (first output frame, one past the last, renderer)."""
    cost: float | None = None
    """Sum of the clips' generation costs, when known."""
    warnings: tuple[str, ...] = ()
    """Things the viewer would notice, e.g. a title's glyphs no installed font has."""

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict (paths as strings, times rounded)."""
        return {
            "path": str(self.path),
            "assembly_path": self.assembly_path,
            "reason": self.reason,
            "duration": round(self.duration, 6),
            "frames": self.frames,
            "fps": self.fps,
            "size": list(self.size),
            "reencoded_frames": self.reencoded_frames,
            "frames_by_renderer": dict(self.frames_by_renderer),
            "pieces": [{"start": a, "end": b, "renderer": r} for a, b, r in self.pieces],
            "scenes": [s.to_json() for s in self.scenes],
            "loudness": self.loudness.to_json(),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "handoffs": {k: str(v) for k, v in self.handoffs.items()},
            "cost": self.cost,
            "warnings": list(self.warnings),
        }
