"""Titles and burned-in subtitles: designed plates, laid out inside the title-safe area.

Three title styles, sized relative to the frame height (the width, for a vertical
frame): ``center`` (large, centred), ``end_card`` (larger, a little above the middle)
and ``lower_third`` (a name band, bottom left, second line smaller). Each sits on a
translucent plate with padding, so it reads over any picture; subtitles are bottom
centre. Everything stays inside the title-safe area (the inner 90 %, SMPTE ST 2046-1),
shrinking text that would not fit, and :func:`place_overlays` moves an element that
would cover another one on screen at the same time (a lower-third rises above a
subtitle). Fonts come from :mod:`.fonts`. Layout is pure; the images are composited by
ffmpeg's ``overlay`` (:mod:`.compose`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageColor, ImageDraw

from storyboard.media.ffmpeg import FFmpegError, run_ffmpeg_capture

from .clips import ClipInfo
from .compose import TitleImage, conform_filter, keyframe_seek
from .errors import AssemblyError
from .fonts import Font, choose_font
from .layout import Box, DetailMap, Overlay, detail_map, place_overlays, safe_area
from .model import Subtitles, Title
from .subtitles import Cue, cut_span, wrap_line
from .timeline import Timeline, TitleSpan

__all__ = [
    "Overlays",
    "burn_in",
    "default_text_height",
    "picture_at",
    "render_overlays",
    "render_subtitle",
    "render_title",
    "subtitles_from",
    "text_unit",
]

TEXT_HEIGHT = {"center": 0.085, "end_card": 0.1, "lower_third": 0.05}
"""Default text height per style, as a fraction of the frame height."""

PLATE = (12, 14, 20, 215)
"""The plate behind titles and subtitles: near-black, about 85 % opaque."""


def default_text_height(title: Title) -> float:
    """Text height as a fraction of the frame height."""
    return title.size if title.size is not None else TEXT_HEIGHT[title.style]


# --- drawing ------------------------------------------------------------------------------


def _colour(value: str, where: str) -> tuple[int, int, int]:
    try:
        rgb = ImageColor.getrgb(value)
    except ValueError as exc:
        raise AssemblyError("titles", f"{where}: unknown colour {value!r}") from exc
    return (rgb[0], rgb[1], rgb[2])


@dataclass(frozen=True)
class _Line:
    text: str
    font: Font
    alpha: int = 255

    @property
    def height(self) -> int:
        ascent, descent = self.font.getmetrics()
        return int(ascent + descent)

    @property
    def width(self) -> int:
        return math.ceil(self.font.getlength(self.text))


def _block(lines: Sequence[_Line]) -> tuple[int, int, int]:
    gap = round(lines[0].height * 0.12)
    width = max(line.width for line in lines)
    height = sum(line.height for line in lines) + gap * (len(lines) - 1)
    return width, height, gap


def _draw_block(
    lines: Sequence[_Line],
    rgb: tuple[int, int, int],
    *,
    pad: tuple[int, int],
    align: str,
    accent: int = 0,
    plate: bool = True,
    stroke: int = 0,
) -> Image.Image:
    """The lines on a rounded plate (or with an outline), padded; ``accent``: a left bar."""
    width, height, gap = _block(lines)
    size = (width + 2 * pad[0] + accent, height + 2 * pad[1])
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if plate:
        radius = min(size[1] // 2, max(2, lines[0].height // 5))
        draw.rounded_rectangle((0, 0, size[0] - 1, size[1] - 1), radius, fill=PLATE)
    if accent:
        draw.rectangle((0, 0, accent - 1, size[1] - 1), fill=(*rgb, 255))
    y = pad[1]
    for line in lines:
        x = accent + pad[0] + (0 if align == "left" else (width - line.width) // 2)
        draw.text(
            (x, y),
            line.text,
            font=line.font,
            fill=(*rgb, line.alpha),
            stroke_width=stroke,
            stroke_fill=(0, 0, 0, 255),
        )
        y += line.height + gap
    return image


def text_unit(frame: tuple[int, int]) -> int:
    """What text sizes are fractions of: the frame height, or the width of a vertical frame."""
    return min(frame)


def _fitted(draw: Callable[[int], Image.Image], px: int, safe: Box) -> Image.Image:
    """``draw(px)``, set smaller until it is no wider than the title-safe area."""
    image = draw(px)
    for _ in range(6):
        if image.width <= safe.w or px <= 8:
            break
        px = max(8, math.floor(px * safe.w / image.width * 0.97))
        image = draw(px)
    return _within(image, safe)


def render_title(
    title: Title, frame: tuple[int, int], base_dir: Path, warnings: list[str] | None = None
) -> Image.Image:
    """The title on its plate as an RGBA image no larger than the title-safe area."""
    choice = choose_font(title.text, title.font, base_dir)
    if choice.missing and warnings is not None:
        warnings.append(_missing_warning("title", title.text, choice.missing, title.font))
    texts = [t for t in title.text.splitlines() if t.strip()] or [title.text.strip()]
    lower = title.style == "lower_third"
    scale = [1.0] + [0.72 if lower else 1.0] * (len(texts) - 1)
    rgb = _colour(title.color, "title")

    def draw(px: int) -> Image.Image:
        lines = [
            _Line(t, choice.load(max(8, round(px * s))), 255 if s == 1.0 else 225)
            for t, s in zip(texts, scale, strict=True)
        ]
        pad = (round(px * (0.45 if lower else 0.8)), round(px * (0.3 if lower else 0.45)))
        return _draw_block(
            lines,
            rgb,
            pad=pad,
            align="left" if lower else "center",
            accent=max(2, px // 8) if lower else 0,
        )

    px = max(8, round(default_text_height(title) * text_unit(frame)))
    return _fitted(draw, px, safe_area(frame))


def render_subtitle(
    text: str,
    style: Subtitles,
    frame: tuple[int, int],
    base_dir: Path,
    warnings: list[str] | None = None,
) -> Image.Image:
    """One subtitle cue, wrapped, on a plate or outlined, within the title-safe area."""
    choice = choose_font(text, style.font, base_dir)
    if choice.missing and warnings is not None:
        warnings.append(_missing_warning("subtitle", text, choice.missing, style.font))
    texts = wrap_line(text) or [text.strip()]
    plate = style.style == "plate"
    rgb = _colour(style.color, "edit.subtitles.color")

    def draw(px: int) -> Image.Image:
        lines = [_Line(t, choice.load(px)) for t in texts]
        pad = (round(px * 0.45), round(px * 0.22)) if plate else (2, 2)
        stroke = 0 if plate else max(1, px // 12)
        return _draw_block(lines, rgb, pad=pad, align="center", plate=plate, stroke=stroke)

    px = max(8, round(style.size * text_unit(frame)))
    return _fitted(draw, px, safe_area(frame))


def _within(image: Image.Image, safe: Box) -> Image.Image:
    if image.width <= safe.w and image.height <= safe.h:
        return image
    return image.crop((0, 0, min(image.width, safe.w), min(image.height, safe.h)))


def _missing_warning(kind: str, text: str, missing: str, font: str | None) -> str:
    short = text if len(text) <= 40 else text[:37] + "..."
    where = f"font {font}" if font else "no installed font"
    return (
        f"{kind} {short!r}: {where} has glyphs for {missing[:20]!r}; they are drawn as "
        "boxes. Install a font for the script (e.g. apt-get install fonts-noto-cjk) or set "
        "`font:` to a .ttf/.otf/.ttc file that has them."
    )


# --- the edit's overlays ---------------------------------------------------------------------


@dataclass
class Overlays:
    """Rendered titles and burned-in subtitles: images by span index, boxes, warnings."""

    images: dict[int, TitleImage] = field(default_factory=dict)
    boxes: dict[int, Box] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def burn_in(timeline: Timeline, cues: Sequence[Cue], subtitles: Subtitles) -> Timeline:
    """The timeline with the cues added as title spans (hard in and out) when burning in.

    Their indexes follow the titles'; :func:`render_overlays` draws them as subtitles.
    """
    if not subtitles.burn_in or not cues:
        return timeline
    first = subtitles_from(timeline)
    spans = tuple(
        TitleSpan(first + n, Title(text=cue.text, fade=0), cue.start, cue.end, 0)
        for n, cue in enumerate(cues)
    )
    return replace(timeline, titles=timeline.titles + spans)


def subtitles_from(timeline: Timeline) -> int:
    """The first span index :func:`burn_in` gives a subtitle (one past the titles')."""
    return max((t.index for t in timeline.titles), default=-1) + 1


def render_overlays(
    timeline: Timeline,
    first_subtitle: int,
    subtitles: Subtitles,
    base_dir: Path,
    work: Path,
    infos: Sequence[ClipInfo] | None = None,
) -> Overlays:
    """Render every span (index >= ``first_subtitle``: a subtitle) to a PNG and place it.

    With ``infos`` (the clips), each title goes where the picture under it is quietest.
    """
    frame = (timeline.width, timeline.height)
    result = Overlays()
    images: dict[int, Image.Image] = {}
    items: list[Overlay] = []
    details: dict[int, DetailMap] = {}
    for span in timeline.titles:
        if span.index >= first_subtitle:
            style = "subtitle"
            image = render_subtitle(span.title.text, subtitles, frame, base_dir, result.warnings)
        else:
            style = span.title.style
            image = render_title(span.title, frame, base_dir, result.warnings)
            picture = picture_at(timeline, infos, (span.start + span.end) // 2) if infos else None
            if picture is not None:
                details[span.index] = detail_map(picture)
        images[span.index] = image
        items.append(Overlay(span.index, style, image.size, span.start, span.end))
    result.boxes, crowded = place_overlays(items, frame, details)
    for key in crowded:
        result.warnings.append(f"title {key}: no free place in the title-safe area; it overlaps")
    for key, image in images.items():
        path = work / f"overlay-{key}.png"
        image.save(path)
        result.images[key] = TitleImage(path, result.boxes[key].x, result.boxes[key].y)
    result.warnings = list(dict.fromkeys(result.warnings))
    return result


SAMPLE_WIDTH = 192
"""Width of the frames sampled to judge how busy the picture under a title is."""


def picture_at(
    timeline: Timeline, infos: Sequence[ClipInfo], frame: int
) -> NDArray[np.uint8] | None:
    """Output frame ``frame`` as the edit shows it (before transitions and titles), small.

    None when no scene is on screen there or the frame cannot be decoded.
    """
    scene = next((s for s in timeline.scenes if cut_span(s)[0] <= frame < cut_span(s)[1]), None)
    if scene is None:
        return None
    info = infos[scene.clip]
    source = math.floor(scene.src_time(frame - scene.start, timeline.fps) * scene.src_fps + 1e-6)
    seek, lead = keyframe_seek(info, min(source, info.frames - 1))
    w, h = SAMPLE_WIDTH, max(2, 2 * round(SAMPLE_WIDTH * timeline.height / timeline.width / 2))
    conform = conform_filter(info.size, (timeline.width, timeline.height), timeline.conform)
    vf = f"trim=start_frame={lead},{conform},scale={w}:{h}"
    args = ["-v", "error", *seek, "-map", "0:v:0", "-vf", vf, "-frames:v", "1"]
    try:
        data, _ = run_ffmpeg_capture([*args, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
    except FFmpegError:
        return None
    if len(data) < w * h * 3:
        return None
    return np.frombuffer(data[: w * h * 3], np.uint8).reshape(h, w, 3)
