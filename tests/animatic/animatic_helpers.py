"""Helpers for the animatic tests: createTask bodies, tiny images, frame grabs, levels."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

from PIL import Image

from storyboard.media.ffmpeg import ffmpeg_exe

Body = dict[str, Any]
RGB = tuple[int, int, int]


def kling_body(**input_fields: Any) -> Body:
    """A valid single-shot createTask body; keyword arguments override ``input`` fields."""
    fields: dict[str, Any] = {
        "prompt": "A paper boat drifts down a rain-soaked street",
        "duration": "3",
        "aspect_ratio": "16:9",
        "mode": "std",
        "sound": False,
        "multi_shots": False,
    }
    fields.update(input_fields)
    return {"model": "kling-3.0/video", "input": fields}


def png_bytes(size: tuple[int, int], left: RGB, right: RGB | None = None) -> bytes:
    """A PNG of ``size``: ``left`` colour, with the right half ``right`` when given."""
    image = Image.new("RGB", size, left)
    if right is not None:
        image.paste(right, (size[0] // 2, 0, size[0], size[1]))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def grab_frame(video: Path, seconds: float) -> Image.Image:
    """The decoded frame of ``video`` at ``seconds``, as RGB."""
    cmd = [
        ffmpeg_exe(),
        "-v",
        "error",
        "-ss",
        f"{seconds:.3f}",
        "-i",
        str(video),
        "-frames:v",
        "1",
        "-f",
        "image2pipe",
        "-c:v",
        "png",
        "-",
    ]
    png = subprocess.run(cmd, capture_output=True, check=True).stdout
    return Image.open(io.BytesIO(png)).convert("RGB")


def mean_volume_db(video: Path) -> float:
    """Mean audio level of ``video`` in dBFS (ffmpeg volumedetect)."""
    cmd = [ffmpeg_exe(), "-i", str(video), "-map", "0:a", "-af", "volumedetect", "-f", "null", "-"]
    text = subprocess.run(cmd, capture_output=True, check=True).stderr.decode()
    line = next(ln for ln in text.splitlines() if "mean_volume" in ln)
    return float(line.split("mean_volume:")[1].split("dB")[0])


def close(actual: tuple[int, ...], expected: RGB, tolerance: int = 14) -> bool:
    """Whether two colours match within ``tolerance`` per channel (codec round trip)."""
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=False))


ASSETS = {
    "https://cdn.test/first.png": png_bytes((320, 240), (220, 40, 40), (40, 60, 220)),
    "https://cdn.test/last.png": png_bytes((240, 240), (30, 200, 60)),
    "https://cdn.test/dog.png": png_bytes((300, 300), (240, 170, 30)),
    "https://cdn.test/broken.png": b"not an image at all",
}
"""URL -> bytes of the images tests reference; every other URL is unreachable."""


def fetch_asset(url: str) -> bytes | None:
    """A fetcher serving :data:`ASSETS`."""
    return ASSETS.get(url)
