"""Where titles and subtitles go on the frame (pure): title-safe, clear of each other, and
over the quietest part of the picture.

Every element stays inside the title-safe area (the inner 90 %, SMPTE ST 2046-1).
Subtitles keep their conventional place, bottom centre. A title gets a few places its
style allows, in order of preference: a ``center`` title on the middle or the thirds, an
``end_card`` a little above the middle, a ``lower_third`` bottom left or bottom right at
three heights. When the picture under the title is known (:func:`detail_map` of a frame
at the title's midpoint), the place with the least detail under it wins (a small penalty
keeps the preferred place when the picture is even). An element that would cover
another one on screen at the same time moves to the next place, then steps away.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from storyboard.media.geometry import Box

__all__ = [
    "SAFE_MARGIN",
    "Box",
    "Overlay",
    "box_detail",
    "detail_map",
    "place_overlays",
    "safe_area",
]

SAFE_MARGIN = 0.05
"""Title-safe margin on each side, as a fraction of the frame (the inner 90 %)."""

PREFERENCE_PENALTY = 0.04
"""Detail a less preferred place must save to be chosen (detail runs 0 flat .. 1 busy)."""

DetailMap = NDArray[np.float32]


def safe_area(frame: tuple[int, int]) -> Box:
    """The title-safe area of a ``frame``-sized picture."""
    w, h = frame
    mx, my = math.ceil(w * SAFE_MARGIN), math.ceil(h * SAFE_MARGIN)
    return Box(mx, my, w - 2 * mx, h - 2 * my)


@dataclass(frozen=True)
class Overlay:
    """A rendered element to place: its key, style, size, and frames ``[start, end)``."""

    key: int
    style: str
    """center, end_card, lower_third or subtitle."""
    size: tuple[int, int]
    start: int
    end: int


# --- the picture ------------------------------------------------------------------------------


def detail_map(rgb: NDArray[np.uint8], width: int = 96) -> DetailMap:
    """How busy each part of a frame is: local contrast on a small grid, 0 flat .. 1 busy."""
    image = Image.fromarray(rgb).convert("L")
    small = image.resize((width, max(2, round(width * image.height / image.width))))
    a = np.asarray(small, np.float32) / 255.0
    edges = np.zeros_like(a)
    edges[:, 1:] += np.abs(np.diff(a, axis=1))
    edges[1:, :] += np.abs(np.diff(a, axis=0))
    return np.clip(edges * 4.0, 0.0, 1.0).astype(np.float32)


def box_detail(detail: DetailMap, box: Box, frame: tuple[int, int]) -> float:
    """Mean detail of the picture under ``box``."""
    gh, gw = detail.shape
    x0, x1 = box.x * gw // frame[0], max(box.x * gw // frame[0] + 1, box.right * gw // frame[0])
    y0, y1 = box.y * gh // frame[1], max(box.y * gh // frame[1] + 1, box.bottom * gh // frame[1])
    return float(detail[y0:y1, x0:x1].mean())


# --- places -------------------------------------------------------------------------------------


def _places(style: str, size: tuple[int, int], frame: tuple[int, int]) -> list[tuple[int, int]]:
    """Top-left corners the style allows, most preferred first."""
    (w, h), (fw, fh), safe = size, frame, safe_area(frame)
    centred = (fw - w) // 2
    if style == "subtitle":
        return [(centred, safe.bottom - h)]
    if style == "lower_third":
        bottoms = (0.82, 0.75, 0.68)
        return [(x, round(fh * b) - h) for x in (safe.x, safe.right - w) for b in bottoms]
    middles = (0.42, 0.34, 0.5) if style == "end_card" else (0.5, 0.36, 0.64, 0.28, 0.72)
    return [(centred, round(fh * m - h / 2)) for m in middles]


def _steps(style: str, y0: int, h: int, safe: Box) -> list[int]:
    """Tops to fall back on, nearest ``y0`` first: bottom elements rise, others alternate."""
    lo, hi = safe.y, safe.bottom - h
    step = max(1, safe.h // 100)
    first = min(max(y0, lo), hi)
    ups = list(range(first, lo - 1, -step))
    downs = list(range(first + step, hi + 1, step))
    if style in ("lower_third", "subtitle"):
        return ups + downs
    mixed = [first]
    for a, b in zip(ups[1:], downs, strict=False):
        mixed += [a, b]
    longer = ups[1:] if len(ups) - 1 > len(downs) else downs
    return mixed + longer[min(len(ups) - 1, len(downs)) :]


def _clamped(x: int, y: int, size: tuple[int, int], safe: Box) -> Box:
    x = min(max(x, safe.x), max(safe.x, safe.right - size[0]))
    y = min(max(y, safe.y), max(safe.y, safe.bottom - size[1]))
    return Box(x, y, *size)


def _ranked(item: Overlay, frame: tuple[int, int], detail: DetailMap | None) -> list[Box]:
    safe = safe_area(frame)
    boxes = list(
        dict.fromkeys(
            _clamped(x, y, item.size, safe) for x, y in _places(item.style, item.size, frame)
        )
    )
    if detail is not None:
        score = {
            b: box_detail(detail, b, frame) + PREFERENCE_PENALTY * i for i, b in enumerate(boxes)
        }
        boxes.sort(key=score.__getitem__)
    first = boxes[0]
    steps = [Box(first.x, y, *item.size) for y in _steps(item.style, first.y, item.size[1], safe)]
    return boxes + steps


def place_overlays(
    items: Sequence[Overlay],
    frame: tuple[int, int],
    details: Mapping[int, DetailMap] | None = None,
) -> tuple[dict[int, Box], list[int]]:
    """Boxes inside the title-safe area, none covering another shown at the same time.

    ``details``: the picture's :func:`detail_map` under each element, by key, where known.
    Subtitles are placed first (their place is fixed by convention), then titles in order.
    Returns the boxes by key and the keys that could not be kept clear of the others.
    """
    placed: list[tuple[Overlay, Box]] = []
    crowded: list[int] = []
    for item in sorted(items, key=lambda i: (i.style != "subtitle", i.start, i.key)):
        others = [b for o, b in placed if o.start < item.end and item.start < o.end]
        ranked = _ranked(item, frame, (details or {}).get(item.key))
        box = next((b for b in ranked if not any(b.overlaps(o) for o in others)), None)
        if box is None:
            crowded.append(item.key)
            box = ranked[0]
        placed.append((item, box))
    return {o.key: b for o, b in placed}, crowded
