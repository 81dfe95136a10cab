"""Read a user's text file safely: a regular file, at most so many bytes, strict UTF-8.

Storyboards, recipes, rows files and templates all come through :func:`read_text_file`,
so ``/dev/zero``, a FIFO or a 10 GB file is refused before it is read into memory, and a
byte that is not UTF-8 is reported at its line and column rather than as a byte offset.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from storyboard.errors import InputError

__all__ = ["MAX_DOCUMENT_BYTES", "MAX_ROWS_BYTES", "UnreadableFile", "read_text_file"]

MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
"""Largest storyboard, recipe or template file (2 MiB; a 1,000-scene storyboard is ~200 KB)."""
MAX_ROWS_BYTES = 16 * 1024 * 1024
"""Largest rows file (16 MiB; 10,000 rows of a few hundred characters are ~3 MB)."""


class UnreadableFile(InputError):
    """The file can't be used as text; ``line``/``column`` point at the problem (1-based)."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def read_text_file(path: Path, *, limit: int, encoding: str = "utf-8") -> str:
    """The text of ``path``: a regular file of at most ``limit`` bytes, strictly decoded.

    Raises :class:`UnreadableFile` for a missing or special file (device, FIFO, folder),
    a file over the limit, or bytes that are not valid ``encoding``.
    """
    data = _read_capped(path, limit)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line, column = _position(data, exc.start)
        raise UnreadableFile(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line}, column {column} "
            "(save the file as UTF-8)",
            line,
            column,
        ) from exc


def _read_capped(path: Path, limit: int) -> bytes:
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise UnreadableFile(exc.strerror or str(exc)) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile("not a regular file (a device, pipe or folder can't be read)")
        if info.st_size > limit:
            raise UnreadableFile(_too_big(info.st_size, limit))
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:  # grew while we looked
        raise UnreadableFile(_too_big(len(data), limit))
    return data


def _too_big(size: int, limit: int) -> str:
    return f"the file is {size:,} bytes; the limit is {limit:,} bytes"


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of byte ``offset``."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    line = data.count(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return line, column
