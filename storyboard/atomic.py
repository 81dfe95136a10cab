"""Writing a file all at once or not at all: a temp file beside it, then a rename.

Every output storyboard writes (the edit, its hand-offs, extracted frames, journal
sidecars) goes through :func:`atomic_path`: the writer fills a hidden temp file in the
destination's folder (same file system, so the rename is atomic) and the destination
appears only when the writer returned. On any failure — an exception, Ctrl-C, SIGTERM
(turned into an interrupt by the CLI) — the temp file is removed. A ``kill -9`` cannot
be caught: the next write of the same destination removes what it left
(:func:`remove_stale_temps`).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "remove_stale_temps", "write_text_atomic"]

_MARK = ".sb-tmp"


def _temp_for(dest: Path) -> Path:
    """``.<stem>.<random>.sb-tmp<suffix>``: hidden, and the suffix keeps the format
    (ffmpeg, Pillow and OTIO choose the container from it)."""
    return dest.with_name(f".{dest.stem}.{secrets.token_hex(4)}{_MARK}{dest.suffix}")


def remove_stale_temps(dest: Path) -> None:
    """Delete temp files an earlier, killed write of ``dest`` left behind."""
    for stale in dest.parent.glob(f".{dest.stem}.*{_MARK}{dest.suffix}"):
        stale.unlink(missing_ok=True)


@contextmanager
def atomic_path(dest: Path) -> Iterator[Path]:
    """A temp path to write ``dest``'s content to; renamed onto ``dest`` on success,
    removed on every failure. The folder is created when missing."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(dest)
    temp = _temp_for(dest)
    try:
        yield temp
        if not temp.is_file():
            raise FileNotFoundError(f"nothing was written to {dest}")
        temp.replace(dest)
    finally:
        temp.unlink(missing_ok=True)


def write_text_atomic(dest: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``dest`` atomically, flushed to disk before the rename."""
    with atomic_path(dest) as temp, temp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
