"""The last frame of a clip (what a continuity scene starts from), and a file's content
hash (what keys and uploads know a file by)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image

from storyboard.filehash import file_sha256
from storyboard.media.ffmpeg import run_ffmpeg
from storyboard.media.frames import extract_last_frame


def _red_then_blue(path: Path) -> Path:
    """A 2 s clip at 24 fps: red for 1.5 s, then blue."""
    run_ffmpeg(
        [
            "-y",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=red:s=64x36:r=24:d=1.5",
            "-f",
            "lavfi",
            "-i",
            "color=blue:s=64x36:r=24:d=0.5",
            "-filter_complex",
            "[0:v][1:v]concat=n=2:v=1[v]",
            "-map",
            "[v]",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ]
    )
    return path


def test_the_last_frame_is_the_clips_final_picture(tmp_path: Path) -> None:
    clip = _red_then_blue(tmp_path / "clip.mp4")
    out = extract_last_frame(clip, tmp_path / "frames" / "last.png")
    assert out == tmp_path / "frames" / "last.png"
    with Image.open(out) as image:
        assert image.size == (64, 36)
        pixel = image.convert("RGB").getpixel((32, 18))
    assert isinstance(pixel, tuple) and pixel[2] > 200 and max(pixel[:2]) < 40  # blue
    assert [p.name for p in out.parent.iterdir()] == ["last.png"]  # no temp file left


def test_a_file_hash_is_the_sha256_of_its_bytes(tmp_path: Path) -> None:
    data = bytes(range(256)) * 9_000 + b"tail"  # over 2 MiB, not a multiple of a chunk
    file = tmp_path / "asset.bin"
    file.write_bytes(data)
    assert file_sha256(file) == hashlib.sha256(data).hexdigest()
