"""Single frames taken from clips: the last frame a continuity scene starts from."""

from __future__ import annotations

from pathlib import Path

from storyboard.atomic import atomic_path

from .ffmpeg import run_ffmpeg

__all__ = ["extract_last_frame"]


def extract_last_frame(clip: Path, out: Path) -> Path:
    """Write the last decoded frame of ``clip`` as a PNG (temp name, then rename).

    Decodes the last second and reverses it, so only the final frame is encoded as a PNG
    (encoding each of the second's frames took most of the time, on the critical path of
    every continuity chain).
    """
    with atomic_path(out) as tmp:
        run_ffmpeg(
            [
                "-y",
                "-v",
                "error",
                "-sseof",
                "-1",
                "-i",
                str(clip),
                "-an",
                "-vf",
                "reverse",
                "-frames:v",
                "1",
                str(tmp),
            ]
        )
    return out
