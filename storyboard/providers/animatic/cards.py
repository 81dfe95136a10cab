"""Drawing the animatic's stills with Pillow: shot cards and first/last-frame pictures.

Geometry comes from :mod:`.layout` and text fitting from :mod:`.text`; this module only
paints. Text uses Pillow's bundled font (``ImageFont.load_default(size=...)``), so no
system font is needed and the same body always draws the same pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from .layout import (
    Box,
    CardLayout,
    card_layout,
    cover_crop,
    letterbox,
    tile_caption_font,
    timeline_boxes,
)
from .text import ellipsize, fit_text, font_safe, mention_name
from .timing import ShotTiming, format_timing

__all__ = ["CardContent", "Palette", "Tile", "draw_card", "draw_picture", "palette_for"]

RGB = tuple[int, int, int]
RGBA = tuple[int, int, int, int]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

_TEXT: RGB = (246, 244, 238)
_DIM: RGBA = (246, 244, 238, 170)


@dataclass(frozen=True)
class Palette:
    """Colours of one card: a vertical gradient and an accent for highlights."""

    top: RGB
    bottom: RGB
    accent: RGB


PALETTES = (
    Palette((22, 34, 62), (22, 86, 98), (255, 199, 112)),
    Palette((56, 30, 70), (34, 46, 98), (140, 222, 200)),
    Palette((20, 56, 50), (38, 56, 84), (255, 172, 140)),
    Palette((78, 42, 38), (58, 30, 62), (150, 210, 255)),
    Palette((38, 46, 80), (66, 88, 108), (255, 222, 130)),
    Palette((54, 60, 34), (24, 68, 72), (255, 182, 204)),
)
"""Calm, dark gradients with light text; consecutive shots get different ones."""


def palette_for(shot_index: int) -> Palette:
    """The palette of shot ``shot_index`` (cycles through :data:`PALETTES`)."""
    return PALETTES[shot_index % len(PALETTES)]


@dataclass(frozen=True)
class Tile:
    """An element thumbnail: its image (None draws a placeholder) and ``@name``."""

    name: str
    image: Image.Image | None = None
    is_video: bool = False


@dataclass(frozen=True)
class CardContent:
    """What a shot's card says."""

    prompt: str
    shot: ShotTiming
    shot_frames: Sequence[int]
    label: str | None = None
    subtitle: str = "animatic preview"
    tiles: Sequence[Tile] = ()
    element_names: frozenset[str] = field(default_factory=frozenset)


# -- fonts -------------------------------------------------------------------------------


@cache
def _font(size: int) -> Font:
    return ImageFont.load_default(size=max(6, size))


@cache
def _missing_glyph() -> bytes:
    return bytes(_font(24).getmask("\ue000"))


class _FontCharset:
    """``ch in charset``: whether the bundled font has a glyph for ``ch`` (memoised)."""

    def __init__(self) -> None:
        self._known: dict[str, bool] = {}

    def __contains__(self, ch: object) -> bool:
        if not isinstance(ch, str):
            return False
        if ch not in self._known:
            self._known[ch] = ch == " " or bytes(_font(24).getmask(ch)) != _missing_glyph()
        return self._known[ch]


_CHARSET = _FontCharset()


def _safe(text: str) -> str:
    return font_safe(text, _CHARSET)


def _width(font: Font, text: str) -> float:
    return float(font.getlength(text))


# -- cards -------------------------------------------------------------------------------


def draw_card(size: tuple[int, int], content: CardContent, area: Box | None = None) -> Image.Image:
    """The card of one shot: gradient, header, wrapped prompt, element tiles, timeline.

    The gradient fills the frame; everything else lies inside ``area`` (default: all of it).
    """
    caption = _font(tile_caption_font(size))
    widths = [_width(caption, _tile_caption(t)) for t in content.tiles]
    layout = card_layout(size, widths, area)
    palette = palette_for(content.shot.index)
    image = _background(size, palette)
    draw = ImageDraw.Draw(image, "RGBA")
    _draw_header(draw, layout, content, palette)
    _draw_prompt(draw, layout, content, palette)
    _draw_tiles(image, draw, layout, content)
    _draw_timeline(draw, layout, content, palette)
    return image


def _background(size: tuple[int, int], palette: Palette) -> Image.Image:
    """A vertical gradient between the palette's colours, darkened towards the corners."""
    ramp = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
    top, bottom = Image.new("RGB", size, palette.top), Image.new("RGB", size, palette.bottom)
    image = Image.composite(bottom, top, ramp)
    vignette = Image.radial_gradient("L").resize(size, Image.Resampling.BILINEAR)
    shade = vignette.point(lambda v: min(255, v) ** 2 * 100 // 255**2)
    return Image.composite(Image.new("RGB", size, (6, 8, 14)), image, shade)


def _draw_header(
    draw: ImageDraw.ImageDraw, layout: CardLayout, content: CardContent, palette: Palette
) -> None:
    box, title, meta = layout.header, _font(layout.title_font), _font(layout.meta_font)
    shot = f"shot {content.shot.index + 1}/{content.shot.count}"
    timing = _safe(format_timing(content.shot.start, content.shot.end))
    right_w = max(_width(title, shot), _width(meta, timing))
    label_w = box.w - right_w - layout.margin
    label = ellipsize(_safe(content.label or "untitled scene"), lambda s: _width(title, s), label_w)
    stroke = max(1, round(layout.unit))
    draw.text((box.x, box.y), label, font=title, fill=_TEXT, stroke_width=stroke, stroke_fill=_TEXT)
    meta_y = box.y + round(layout.title_font * 1.35)
    subtitle = ellipsize(_safe(content.subtitle), lambda s: _width(meta, s), label_w)
    draw.text((box.x, meta_y), subtitle, font=meta, fill=_DIM)
    draw.text(
        (box.right, box.y),
        shot,
        font=title,
        fill=palette.accent,
        anchor="ra",
        stroke_width=stroke,
        stroke_fill=palette.accent,
    )
    draw.text((box.right, meta_y), timing, font=meta, fill=_DIM, anchor="ra")


def _draw_prompt(
    draw: ImageDraw.ImageDraw, layout: CardLayout, content: CardContent, palette: Palette
) -> None:
    panel, box = layout.prompt_panel, layout.prompt
    draw.rounded_rectangle(panel.corners(), radius=round(28 * layout.unit), fill=(0, 0, 0, 72))
    text = _safe(content.prompt.strip())
    if not text:
        at = (box.x + box.w // 2, box.y + box.h // 2)
        draw.text(at, "(no prompt)", font=_font(layout.prompt_font_max), fill=_DIM, anchor="mm")
        return
    sizes = range(layout.prompt_font_max, layout.prompt_font_min - 1, -2)
    fitted = fit_text(text, lambda n: lambda s: _width(_font(n), s), (box.w, box.h), sizes)
    font = _font(fitted.size)
    y = box.y + (box.h - fitted.line_height * len(fitted.lines)) // 2
    for line in fitted.lines:
        _draw_line(draw, (box.x, y), line, font, content.element_names, palette.accent)
        y += fitted.line_height


def _draw_line(
    draw: ImageDraw.ImageDraw,
    at: tuple[int, int],
    line: str,
    font: Font,
    names: frozenset[str],
    accent: RGB,
) -> None:
    """One prompt line; ``@element`` mentions of known elements in the accent colour."""
    words = line.split(" ")
    if not any(mention_name(word, names) for word in words):
        draw.text(at, line, font=font, fill=_TEXT)
        return
    x, y = at
    for i, word in enumerate(words):
        prefix = " ".join(words[:i]) + (" " if i else "")
        colour = accent if mention_name(word, names) else _TEXT
        draw.text((x + round(_width(font, prefix)), y), word, font=font, fill=colour)


def _tile_caption(tile: Tile) -> str:
    return _safe(f"@{tile.name}")


def _draw_tiles(
    image: Image.Image, draw: ImageDraw.ImageDraw, layout: CardLayout, content: CardContent
) -> None:
    """Element thumbnails with captions; a ``+k`` tile when some do not fit the row."""
    caption = _font(layout.tile_caption_font)
    radius = round(18 * layout.unit)
    hidden = len(content.tiles) - len(layout.tiles)
    for i, (slot, tile) in enumerate(zip(layout.tiles, content.tiles, strict=False)):
        box = slot.tile
        if hidden > 0 and i == len(layout.tiles) - 1:
            _placeholder(draw, box, radius, f"+{hidden + 1} more", caption)
            continue
        _draw_tile(image, draw, box, radius, tile, caption)
        name = ellipsize(_tile_caption(tile), lambda s: _width(caption, s), slot.caption_width)
        draw.text((box.x, box.bottom + round(10 * layout.unit)), name, font=caption, fill=_TEXT)


def _draw_tile(
    image: Image.Image,
    draw: ImageDraw.ImageDraw,
    box: Box,
    radius: int,
    tile: Tile,
    caption: Font,
) -> None:
    if tile.image is not None:
        crop = cover_crop(tile.image.size, (box.w, box.h)).corners()
        thumb = tile.image.resize((box.w, box.h), Image.Resampling.BICUBIC, box=crop)
        mask = Image.new("L", (box.w, box.h), 0)
        ImageDraw.Draw(mask).rounded_rectangle((0, 0, box.w - 1, box.h - 1), radius, fill=255)
        image.paste(thumb, (box.x, box.y), mask)
        draw.rounded_rectangle(box.corners(), radius, outline=(255, 255, 255, 110), width=2)
    elif tile.is_video:
        _placeholder(draw, box, radius, "video", caption)
        _play_icon(draw, box)
    else:
        _placeholder(draw, box, radius, "no image", caption)


def _placeholder(draw: ImageDraw.ImageDraw, box: Box, radius: int, text: str, font: Font) -> None:
    draw.rounded_rectangle(
        box.corners(), radius, fill=(255, 255, 255, 34), outline=(255, 255, 255, 110), width=2
    )
    draw.text(
        (box.x + box.w // 2, box.bottom - box.h // 6), text, font=font, fill=_DIM, anchor="md"
    )


def _play_icon(draw: ImageDraw.ImageDraw, box: Box) -> None:
    cx, cy, r = box.x + box.w // 2, box.y + box.h * 2 // 5, box.w // 6
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(0, 0, 0, 90))
    t = r // 2
    draw.polygon([(cx - t * 2 // 3, cy - t), (cx - t * 2 // 3, cy + t), (cx + t, cy)], fill=_TEXT)


def _draw_timeline(
    draw: ImageDraw.ImageDraw, layout: CardLayout, content: CardContent, palette: Palette
) -> None:
    gap = max(2, round(8 * layout.unit))
    segments = timeline_boxes(content.shot_frames, layout.timeline, gap)
    for i, segment in enumerate(segments):
        fill = (*palette.accent, 255) if i == content.shot.index else (255, 255, 255, 60)
        draw.rounded_rectangle(segment.corners(), radius=segment.h // 2, fill=fill)


# -- first / last frame pictures ------------------------------------------------------------


def draw_picture(size: tuple[int, int], picture: Image.Image, caption: str) -> Image.Image:
    """``picture`` fitted into ``size`` (letterboxed on black) with a one-line caption strip."""
    image = Image.new("RGB", size, (0, 0, 0))
    fit = letterbox(picture.size, size)
    image.paste(
        picture.resize((fit.w, fit.h), Image.Resampling.LANCZOS, reducing_gap=2.0), (fit.x, fit.y)
    )
    _draw_caption_strip(image, caption)
    return image


def _draw_caption_strip(image: Image.Image, caption: str) -> None:
    w, h = image.size
    unit = min(w, h) / 1080
    font = _font(round(30 * unit))
    strip_h, pad = round(60 * unit), round(32 * unit)
    draw = ImageDraw.Draw(image, "RGBA")
    draw.rectangle((0, h - strip_h, w, h), fill=(0, 0, 0, 150))
    text = ellipsize(_safe(caption), lambda s: _width(font, s), w - 2 * pad)
    draw.text((pad, h - strip_h // 2), text, font=font, fill=_TEXT, anchor="lm")
