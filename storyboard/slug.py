"""Readable, file-safe names from user text (the ``{title}`` of the default output path).

Letters and digits of every script are kept (``"夏の終わり"`` stays readable), everything
else becomes ``-``; a short hash of the text is added when nothing readable is left or
the name had to be shortened, so different titles never share a default file name.
"""

from __future__ import annotations

import hashlib
import unicodedata

__all__ = ["MAX_SLUG_BYTES", "slug"]

MAX_SLUG_BYTES = 80
"""Longest slug in UTF-8 bytes: far inside every file system's 255-byte name limit."""


def slug(text: str, *, fallback: str = "edit") -> str:
    """``"Hello, World!"`` -> ``"hello-world"``; ``"Ελλάδα"`` -> ``"ελλάδα"``; ``"!!!"`` ->
    ``"edit-<hash>"``."""
    readable = _readable(unicodedata.normalize("NFKC", text).casefold())
    short = _shorten(readable, MAX_SLUG_BYTES)
    if short and short == readable:
        return short
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return f"{short or fallback}-{digest}"


def _readable(text: str) -> str:
    kept = "".join(c if unicodedata.category(c)[0] in "LMN" else "-" for c in text)
    return "-".join(part for part in kept.split("-") if part)


def _shorten(text: str, limit: int) -> str:
    while len(text.encode("utf-8")) > limit - 9:  # room for "-" and the 8-character hash
        text = text[:-1]
    return text.strip("-")
