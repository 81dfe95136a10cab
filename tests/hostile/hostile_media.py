"""The files the hostile check cases point at, made on the fly (nothing large committed).

:func:`build_assets` writes, under a case folder: good reference images (copied from
examples/), a 48 KB PNG that claims 20000x20000 pixels (a decompression bomb), a truncated
PNG, a PNG renamed to .mov, a text file named .mp4 and .mp3, a PNG as music and as font.
"""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

from PIL import Image

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def png_bomb(path: Path, side: int = 20_000) -> Path:
    """A valid 1-bit PNG of ``side`` x ``side`` black pixels: tiny on disk, huge decoded."""
    row = b"\x00" + bytes((side + 7) // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )
    return path


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def truncated_png(path: Path) -> Path:
    """A 320x320 noisy PNG cut off halfway through its pixel data."""
    full = path.with_suffix(".full.png")
    Image.effect_noise((320, 320), 60).convert("RGB").save(full)
    data = full.read_bytes()
    full.unlink()
    path.write_bytes(data[: len(data) // 2])
    return path


def build_assets(folder: Path) -> None:
    """Every file the cases in tests/hostile/checks/ name, under ``folder``."""
    refs, audio, fonts = (folder / name for name in ("refs", "audio", "fonts"))
    shutil.copytree(EXAMPLES / "refs", refs)
    shutil.copytree(EXAMPLES / "audio", audio)
    fonts.mkdir()
    png_bomb(refs / "bomb.png")
    truncated_png(refs / "truncated.png")
    shutil.copy(refs / "room.png", refs / "still.mov")
    (refs / "notes.mp4").write_text("this is not a video\n" * 50, encoding="utf-8")
    (audio / "notes.mp3").write_text("these are not sounds\n" * 50, encoding="utf-8")
    shutil.copy(refs / "room.png", audio / "cover.png")
    shutil.copy(refs / "room.png", fonts / "logo.ttf")
