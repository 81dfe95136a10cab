"""The content hash of a local file: what content keys, upload reuse, the assembly key,
the lock file and a recipe's staged assets know a file by (never its path or mtime)."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["file_sha256"]


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes, in hex (streamed by :func:`hashlib.file_digest`)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
