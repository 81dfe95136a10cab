"""Frame sizes and card geometry. Pure: no I/O, no Pillow."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from storyboard.kling.limits import SHORT_SIDES as REPORTED_SHORT_SIDES
from storyboard.kling.limits import aspect_shape
from storyboard.media.geometry import Box

from .spec import parse_body

__all__ = [
    "MAX_IMAGE_ASPECT",
    "REPORTED_SHORT_SIDES",
    "SHORT_SIDES",
    "Box",
    "CardLayout",
    "TileSlot",
    "animatic_size",
    "card_layout",
    "cover_crop",
    "even",
    "frame_size",
    "letterbox",
    "size_from_image",
    "tile_caption_font",
    "tile_side",
    "timeline_boxes",
]

SHORT_SIDES = {mode: min(side, 1080) for mode, side in REPORTED_SHORT_SIDES.items()}
"""Short side of the frame (pixels) for each generation mode; 4K is rendered as a
1080p stand-in (a true 2160p animatic costs four times the time for nothing more).
``REPORTED_SHORT_SIDES`` (a real clip's short side, what the card reports) comes from
:mod:`storyboard.kling.limits`."""

MAX_IMAGE_ASPECT = 2.5
"""A first-frame image wider or taller than this is letterboxed into a frame of this shape."""


def even(value: float) -> int:
    """``value`` rounded to the nearest even integer, at least 2 (yuv420p needs even sizes)."""
    return max(2, 2 * round(value / 2))


def frame_size(mode: str, aspect_ratio: str) -> tuple[int, int]:
    """``(width, height)`` for a mode (std/pro) and an aspect ratio (16:9, 9:16, 1:1)."""
    short = SHORT_SIDES[mode]
    w, h = aspect_shape(aspect_ratio)
    if w >= h:
        return (even(short * w / h), short)
    return (short, even(short * h / w))


def reported_size(mode: str, size: tuple[int, int]) -> tuple[int, int]:
    """The size a real clip of ``mode`` would have, for a rendered ``size``."""
    scale = REPORTED_SHORT_SIDES[mode] / SHORT_SIDES[mode]
    return (even(size[0] * scale), even(size[1] * scale))


def size_from_image(mode: str, image_size: tuple[int, int]) -> tuple[int, int]:
    """Frame size following a first-frame image's own shape: short side 720/1080, even sides.

    Shapes more extreme than :data:`MAX_IMAGE_ASPECT` are clamped to it.
    """
    short = SHORT_SIDES[mode]
    iw, ih = (max(1, v) for v in image_size)
    ratio = min(max(iw / ih, 1 / MAX_IMAGE_ASPECT), MAX_IMAGE_ASPECT)
    if ratio >= 1:
        return (even(short * ratio), short)
    return (short, even(short / ratio))


def animatic_size(
    body: Mapping[str, Any], first_frame_size: tuple[int, int] | None = None
) -> tuple[int, int]:
    """``(width, height)`` of the animatic for a Kling 3.0 createTask body.

    ``first_frame_size`` is the size of the reachable first-frame image, if any; its
    shape then wins over ``input.aspect_ratio``.

    Raises:
        ValueError: the body is not a valid createTask body.
    """
    spec = parse_body(body)
    if first_frame_size is not None:
        return size_from_image(spec.mode, first_frame_size)
    return frame_size(spec.mode, spec.aspect_ratio)


def letterbox(src: tuple[int, int], dst: tuple[int, int]) -> Box:
    """Where ``src`` goes, scaled to fit inside ``dst`` keeping its shape, centred."""
    scale = min(dst[0] / max(1, src[0]), dst[1] / max(1, src[1]))
    w = max(1, min(dst[0], round(src[0] * scale)))
    h = max(1, min(dst[1], round(src[1] * scale)))
    return Box((dst[0] - w) // 2, (dst[1] - h) // 2, w, h)


def cover_crop(src: tuple[int, int], dst: tuple[int, int]) -> Box:
    """The centred part of ``src`` with ``dst``'s shape (to fill ``dst`` without bars)."""
    sw, sh = max(1, src[0]), max(1, src[1])
    scale = min(sw / max(1, dst[0]), sh / max(1, dst[1]))
    w, h = max(1, round(dst[0] * scale)), max(1, round(dst[1] * scale))
    return Box((sw - w) // 2, (sh - h) // 2, min(w, sw), min(h, sh))


@dataclass(frozen=True)
class TileSlot:
    """An element thumbnail (square ``tile``) and the width its ``@name`` caption may use."""

    tile: Box
    caption_width: int


@dataclass(frozen=True)
class CardLayout:
    """Where everything on a card goes, for one frame size.

    Sizes are in pixels; font sizes scale with the frame's short side so 720p and
    1080p cards look the same.
    """

    size: tuple[int, int]
    margin: int
    header: Box
    title_font: int
    meta_font: int
    prompt_panel: Box
    prompt: Box
    prompt_font_max: int
    prompt_font_min: int
    tiles: tuple[TileSlot, ...]
    tile_caption_font: int
    timeline: Box

    @property
    def unit(self) -> float:
        """One pixel of a 1080-pixel short side, in this layout's pixels."""
        return min(self.size) / 1080


def _unit(size: tuple[int, int]) -> float:
    return min(size) / 1080


def tile_side(size: tuple[int, int]) -> int:
    """Side (pixels) of an element thumbnail on a card of ``size``."""
    return round(150 * _unit(size))


def tile_caption_font(size: tuple[int, int]) -> int:
    """Font size of the ``@name`` captions under element thumbnails."""
    return round(30 * _unit(size))


def card_layout(
    size: tuple[int, int], caption_widths: Sequence[float] = (), area: Box | None = None
) -> CardLayout:
    """Geometry of a card of ``size`` with one element thumbnail per caption width.

    From the top: a header (scene label left, shot number and timing right), the prompt
    on a soft panel, a row of thumbnails with ``@name`` captions (``caption_widths`` are
    the captions' widths at :func:`tile_caption_font`; a thumbnail's slot widens to fit
    its caption, within limits), and a timeline bar marking the shot among all shots.
    Thumbnails that do not fit the row are left out. Everything lies inside ``area``
    (default: the whole frame); type keeps the size the frame gives it.
    """
    area = area or Box(0, 0, *size)
    u = min(size) / 1080
    margin = round(64 * u)
    left, width = area.x + margin, area.w - 2 * margin
    title_font, meta_font = round(46 * u), round(32 * u)
    header = Box(left, area.y + margin, width, round(title_font * 1.25 + meta_font * 1.5))
    bar = max(2, round(10 * u))
    timeline = Box(left, area.bottom - margin - round(10 * u), width, bar)
    caption_font = tile_caption_font(size)
    row_bottom = timeline.y - round(36 * u)
    tiles = _tile_row(size, row_bottom, (left, left + width), caption_widths)
    panel_bottom = (tiles[0].tile.y if tiles else timeline.y) - round(40 * u)
    panel_top = header.bottom + round(36 * u)
    panel = Box(left, panel_top, width, max(1, panel_bottom - panel_top))
    pad = round(40 * u)
    prompt = Box(panel.x + pad, panel.y + pad, panel.w - 2 * pad, max(1, panel.h - 2 * pad))
    return CardLayout(
        size=size,
        margin=margin,
        header=header,
        title_font=title_font,
        meta_font=meta_font,
        prompt_panel=panel,
        prompt=prompt,
        prompt_font_max=round(64 * u),
        prompt_font_min=round(30 * u),
        tiles=tiles,
        tile_caption_font=caption_font,
        timeline=timeline,
    )


def _tile_row(
    size: tuple[int, int], bottom: int, span: tuple[int, int], caption_widths: Sequence[float]
) -> tuple[TileSlot, ...]:
    """Square thumbnails in one row from ``span``'s left end, captions ending at ``bottom``."""
    side, gap = tile_side(size), round(36 * _unit(size))
    top = bottom - round(tile_caption_font(size) * 1.5) - side
    slots: list[TileSlot] = []
    x, right = span
    for width in caption_widths:
        slot = min(max(side, math.ceil(width)), round(side * 2.2), right - span[0])
        if x + slot > right:
            break
        slots.append(TileSlot(Box(x, top, side, side), slot))
        x += slot + gap
    return tuple(slots)


def timeline_boxes(frame_counts: Sequence[int], bar: Box, gap: int) -> list[Box]:
    """Split ``bar`` into one segment per shot, widths proportional to frame counts."""
    total = max(1, sum(frame_counts))
    usable = bar.w - gap * (len(frame_counts) - 1)
    boxes, start = [], 0
    for i, count in enumerate(frame_counts):
        x0 = bar.x + round(usable * start / total) + gap * i
        start += count
        x1 = bar.x + round(usable * start / total) + gap * i
        boxes.append(Box(x0, bar.y, max(1, x1 - x0), bar.h))
    return boxes
