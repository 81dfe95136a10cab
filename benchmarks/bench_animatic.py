"""Benchmark the animatic renderer: wall seconds per clip, median of 3 runs.

Run: ``/work/venv/bin/python benchmarks/bench_animatic.py [--runs N]``

Cases:
- a 15 s 1080p (pro, 16:9) multi-shot clip with 3 shots, an element image and sound;
- a 5 s 720p (std, 16:9) single-shot clip without sound.

Each run is split into "encode" (the single ffmpeg invocation) and "draw" (everything
else: parsing the body, decoding assets, drawing the stills with Pillow, writing the PNGs).
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image

from storyboard.media.ffmpeg import probe, run_ffmpeg
from storyboard.providers.animatic import render, render_animatic


def _png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


ASSETS = {"https://bench.test/fox.png": _png((600, 600), (230, 120, 40))}

MULTI_SHOT: dict[str, Any] = {
    "model": "kling-3.0/video",
    "input": {
        "multi_shots": True,
        "duration": "15",
        "aspect_ratio": "16:9",
        "mode": "pro",
        "sound": True,
        "multi_prompt": [
            {
                "prompt": "Dawn over a misty pine forest; a red fox @fox trots along a "
                "frosted trail, breath visible, low tracking shot",
                "duration": 5,
            },
            {
                "prompt": "The fox stops at a frozen stream and listens; shallow depth of "
                "field, golden backlight through the trees",
                "duration": 5,
            },
            {
                "prompt": "Wide aerial pull-back revealing the valley as the sun breaks "
                "through the clouds",
                "duration": 5,
            },
        ],
        "kling_elements": [
            {
                "name": "fox",
                "description": "a red fox",
                "element_input_urls": ["https://bench.test/fox.png"],
            },
        ],
    },
}

SINGLE_SHOT: dict[str, Any] = {
    "model": "kling-3.0/video",
    "input": {
        "prompt": "A paper boat drifts down a rain-soaked street at night, neon reflections",
        "duration": "5",
        "aspect_ratio": "16:9",
        "mode": "std",
        "sound": False,
        "multi_shots": False,
    },
}


class _EncodeTimer:
    """Wraps the renderer's ffmpeg call to time it separately."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self, args: list[str], **kwargs: Any) -> str:
        start = time.perf_counter()
        try:
            return run_ffmpeg(args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


def bench(name: str, body: dict[str, Any], runs: int, folder: Path) -> None:
    """Render ``body`` ``runs`` times and print the median wall, draw and encode seconds."""
    walls, encodes = [], []
    for i in range(runs):
        timer = _EncodeTimer()
        setattr(render, "run_ffmpeg", timer)  # noqa: B010  (time the ffmpeg call alone)
        try:
            start = time.perf_counter()
            out = render_animatic(body, folder / f"{name}-{i}.mp4", fetch_asset=ASSETS.get)
            walls.append(time.perf_counter() - start)
            encodes.append(timer.seconds)
        finally:
            setattr(render, "run_ffmpeg", run_ffmpeg)  # noqa: B010
    info = probe(out)
    wall, encode = statistics.median(walls), statistics.median(encodes)
    print(
        f"{name:<26} {info.width}x{info.height} {info.duration:5.2f} s  "
        f"wall median {wall:5.2f} s (min {min(walls):.2f}, max {max(walls):.2f})  "
        f"draw {wall - encode:4.2f} s  encode {encode:4.2f} s  "
        f"{out.stat().st_size / 1e6:.2f} MB"
    )


def main() -> None:
    """Run both cases and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="bench-animatic-") as scratch:
        folder = Path(scratch)
        render_animatic(SINGLE_SHOT, folder / "warm-up.mp4")  # imports, font loading
        bench("15s 1080p multi-shot (3)", MULTI_SHOT, runs, folder)
        bench("5s 720p single-shot", SINGLE_SHOT, runs, folder)


if __name__ == "__main__":
    main()
