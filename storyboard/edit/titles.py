"""Render titles and lower-thirds to RGBA images with Pillow.

Pillow's bundled font (``ImageFont.load_default(size=...)``) unless the title names a
font file. Titles are large and centred with a soft shadow; lower-thirds are smaller,
bottom-left, on a translucent band. Layout is pure (:func:`title_position`); the image
is composited by ffmpeg's ``overlay`` (see :mod:`storyboard.edit.compose`).
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageColor, ImageDraw, ImageFilter, ImageFont

from .compose import TitleImage
from .errors import AssemblyError
from .model import Title
from .timeline import Timeline

__all__ = ["default_text_height", "render_title", "render_titles", "title_position"]

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def default_text_height(title: Title) -> float:
    """Text height as a fraction of the frame height."""
    if title.size is not None:
        return title.size
    return 0.08 if title.style == "title" else 0.045


def title_position(style: str, box: tuple[int, int], frame: tuple[int, int]) -> tuple[int, int]:
    """Top-left corner of a ``box``-sized title image on a ``frame``-sized picture."""
    (w, h), (fw, fh) = box, frame
    if style == "lower_third":
        return (round(fw * 0.05), max(0, round(fh * 0.88) - h))
    return ((fw - w) // 2, (fh - h) // 2)


def _font(title: Title, px: int, base_dir: Path) -> Font:
    if title.font is None:
        return ImageFont.load_default(size=px)
    path = Path(title.font)
    path = path if path.is_absolute() else base_dir / path
    try:
        return ImageFont.truetype(str(path), px)
    except OSError as exc:
        raise AssemblyError("titles", f"cannot load font {path}: {exc}") from exc


def _colour(title: Title) -> tuple[int, int, int]:
    try:
        rgb = ImageColor.getrgb(title.color)
    except ValueError as exc:
        raise AssemblyError("titles", f"unknown colour {title.color!r}") from exc
    return (rgb[0], rgb[1], rgb[2])


def render_title(title: Title, frame: tuple[int, int], base_dir: Path) -> Image.Image:
    """The title's text as a tight RGBA image (with shadow or band, by style)."""
    px = max(8, round(default_text_height(title) * frame[1]))
    font = _font(title, px, base_dir)
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    box = probe.multiline_textbbox((0, 0), title.text, font=font, align="center")
    left, top = math.floor(box[0]), math.floor(box[1])
    right, bottom = math.ceil(box[2]), math.ceil(box[3])
    pad = max(4, px // 3)
    size = (right - left + 2 * pad, bottom - top + 2 * pad)
    origin = (pad - left, pad - top)
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    if title.style == "lower_third":
        ImageDraw.Draw(image).rectangle((0, 0, *size), fill=(0, 0, 0, 150))
    else:
        shadow = Image.new("RGBA", size, (0, 0, 0, 0))
        ImageDraw.Draw(shadow).multiline_text(
            (origin[0] + 2, origin[1] + 2),
            title.text,
            font=font,
            fill=(0, 0, 0, 180),
            align="center",
        )
        image = Image.alpha_composite(image, shadow.filter(ImageFilter.GaussianBlur(px / 20)))
    align = "left" if title.style == "lower_third" else "center"
    ImageDraw.Draw(image).multiline_text(
        origin, title.text, font=font, fill=(*_colour(title), 255), align=align
    )
    return image


def render_titles(timeline: Timeline, base_dir: Path, work: Path) -> dict[int, TitleImage]:
    """Render every title of the timeline to ``work/title-<n>.png``."""
    frame = (timeline.width, timeline.height)
    images: dict[int, TitleImage] = {}
    for span in timeline.titles:
        image = render_title(span.title, frame, base_dir)
        if image.width > frame[0] or image.height > frame[1]:
            image = image.crop((0, 0, min(image.width, frame[0]), min(image.height, frame[1])))
        path = work / f"title-{span.index}.png"
        image.save(path)
        x, y = title_position(span.title.style, image.size, frame)
        images[span.index] = TitleImage(path, x, y)
    return images
