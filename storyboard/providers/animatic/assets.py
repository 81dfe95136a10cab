"""Fetching and decoding the images a body references (first/last frame, element images).

An unreachable or undecodable asset is never an error: it is reported as ``None`` (and
logged) and the renderer draws a card or a placeholder tile instead.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlparse

from PIL import Image, ImageOps

__all__ = ["AssetCache", "Fetch", "decode_image", "read_local_asset"]

log = logging.getLogger(__name__)

Fetch = Callable[[str], bytes | None]
"""URL or path -> the file's bytes, or None when it cannot be reached."""

_BACKDROP = (24, 24, 28)
"""What transparent parts of an image are composited over."""


def read_local_asset(url: str) -> bytes | None:
    """The default fetcher: reads local paths and ``file://`` URLs; None for anything else.

    The animatic is an offline renderer, so it never touches the network by itself; pass a
    ``fetch_asset`` that downloads (or reads a cache) to show remote images.
    """
    parsed = urlparse(url)
    if parsed.scheme == "file":
        path = Path(unquote(parsed.path))
    elif parsed.scheme == "" or (len(parsed.scheme) == 1 and url[1:2] == ":"):
        path = Path(url)  # a plain path (or a Windows drive path)
    else:
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def decode_image(data: bytes, max_side: int | None = None) -> Image.Image | None:
    """Decode image bytes into an upright RGB image, or None if they are not an image.

    EXIF rotation is applied and transparency is flattened onto a dark backdrop. With
    ``max_side``, the image is shrunk (cheaply, via JPEG draft mode) to about that size.
    """
    try:
        image = Image.open(io.BytesIO(data))
        if max_side is not None:
            image.draft("RGB", (max_side, max_side))
        image.load()
        upright = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        log.warning("animatic: cannot decode image (%s)", exc)
        return None
    if max_side is not None:
        upright.thumbnail((max_side, max_side), Image.Resampling.BICUBIC)
    return _flatten(upright)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB version of ``image``, transparent areas composited over :data:`_BACKDROP`."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        backdrop = Image.new("RGBA", rgba.size, (*_BACKDROP, 255))
        return Image.alpha_composite(backdrop, rgba).convert("RGB")
    return image.convert("RGB")


class AssetCache:
    """Fetches each URL once per render and decodes images from it.

    A fetcher that raises is treated like one that returns None (unreachable).
    """

    def __init__(self, fetch: Fetch | None = None) -> None:
        self._fetch: Fetch = fetch or read_local_asset
        self._bytes: dict[str, bytes | None] = {}

    def data(self, url: str) -> bytes | None:
        """The bytes behind ``url``, or None when unreachable."""
        if url not in self._bytes:
            self._bytes[url] = self._fetch_safely(url)
        return self._bytes[url]

    def image(self, url: str | None, max_side: int | None = None) -> Image.Image | None:
        """The decoded image behind ``url``, or None when unreachable or not an image."""
        if not url:
            return None
        data = self.data(url)
        return decode_image(data, max_side) if data else None

    def first_image(self, urls: tuple[str, ...], max_side: int) -> Image.Image | None:
        """The first of ``urls`` that yields an image, or None."""
        for url in urls:
            if (image := self.image(url, max_side)) is not None:
                return image
        return None

    def _fetch_safely(self, url: str) -> bytes | None:
        try:
            data = self._fetch(url)
        except Exception as exc:  # any fetcher failure just means "unreachable"
            log.warning("animatic: cannot fetch %s (%s: %s)", url, type(exc).__name__, exc)
            return None
        if data is None:
            log.info("animatic: %s is unreachable; drawing a card instead", url)
        return data
