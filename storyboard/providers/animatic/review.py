"""Review-mode animatics: a take that shows *its* scene, and moves.

When the renderer knows the take (storyboard tells the offline emulator), a shot that
opens on a first-frame image holds that image exactly for a moment (continuity starts
there), then moves into a panel over it with the scene, take, shot and the shot's own
prompt in large type. Every moving still gets a slow camera move: its kind from the
prompt's camera words (push in, pull out, pan, tilt), its framing seeded by the take
number, so takes of one scene differ visibly and the same take renders the same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image, ImageDraw

from storyboard.media.geometry import REVIEW_BAND

from .cards import _TEXT, Font, _font, _safe, _width
from .layout import Box, letterbox
from .text import ellipsize, fit_text

__all__ = [
    "CameraMove",
    "camera_filter",
    "camera_move",
    "draw_panel",
    "draw_plain",
    "moving_card_area",
    "zoomed_size",
]

ZOOM = 1.08
"""How much larger than the frame the still a move glides over is (the panel's margins
are wider than what this crops)."""

_ACCENT = (255, 199, 112)
_MOVES = ("push-in", "pan-right", "pull-out", "pan-left", "tilt-down", "tilt-up")
_ANCHORS = ((0.15, 0.55), (0.25, 0.3), (0.75, 0.35), (0.3, 0.7), (0.7, 0.65), (0.5, 0.2))
"""Where a take's move looks (take 1 first), never the centre: a push in glides from
the centre towards it, so a centred anchor would not move at all."""
_HINTS = (
    ("push-in", ("push in", "push-in", "zoom in", "dolly in", "close in")),
    ("pull-out", ("pull out", "pull back", "zoom out", "dolly out", "pull-back")),
    ("pan-left", ("pan left", "truck left", "track left")),
    ("pan-right", ("pan right", "truck right", "track right", "tracking")),
    ("tilt-up", ("tilt up", "crane up", "pedestal up")),
    ("tilt-down", ("tilt down", "crane down", "pedestal down")),
)


@dataclass(frozen=True)
class CameraMove:
    """The view glides from ``a0`` to ``a1`` (fractions of the free margin: 0 = left/top,
    1 = right/bottom); ``z0``/``z1`` say whether it reads as going in or out."""

    kind: str
    z0: float
    z1: float
    a0: tuple[float, float]
    a1: tuple[float, float]


def camera_move(prompt: str, take: int) -> CameraMove:
    """The move of a take: the prompt's camera words choose the kind, else the take does;
    the take chooses where it looks."""
    text = prompt.lower()
    hinted = next((kind for kind, words in _HINTS if any(w in text for w in words)), None)
    kind = hinted or _MOVES[(take - 1) % len(_MOVES)]
    anchor = _ANCHORS[(take - 1) % len(_ANCHORS)]
    if kind == "push-in":
        return CameraMove(kind, 1.0, ZOOM, (0.5, 0.5), anchor)
    if kind == "pull-out":
        return CameraMove(kind, ZOOM, 1.0, anchor, (0.5, 0.5))
    if kind in {"pan-left", "pan-right"}:
        start, end = (0.0, 1.0) if kind == "pan-right" else (1.0, 0.0)
        return CameraMove(kind, ZOOM, ZOOM, (start, anchor[1]), (end, anchor[1]))
    start, end = (1.0, 0.0) if kind == "tilt-up" else (0.0, 1.0)
    return CameraMove(kind, ZOOM, ZOOM, (anchor[0], start), (anchor[0], end))


def zoomed_size(size: tuple[int, int]) -> tuple[int, int]:
    """The size a moving still is scaled to before a ``size`` window glides over it."""
    w, h = size
    return 2 * round(w * ZOOM / 2), 2 * round(h * ZOOM / 2)


def moving_card_area(size: tuple[int, int]) -> Box:
    """Where a moving card's text and tiles may go (pure).

    Inside every window any move crops (a move shows ``1/ZOOM`` of the card, anywhere
    along its width and height), and far enough down that, wherever the window is, the
    text stays below the band the edit's review burn-ins use (:data:`REVIEW_BAND`).
    """
    w, h = size
    big_w, big_h = zoomed_size(size)
    side = math.ceil((big_w - w) * w / big_w)
    foot = math.ceil((big_h - h) * h / big_h)
    top = math.ceil((REVIEW_BAND * h + big_h - h) * h / big_h)
    return Box(side, top, w - 2 * side, h - top - foot)


def camera_filter(move: CameraMove, size: tuple[int, int], frames: int, to_yuv: str) -> str:
    """ffmpeg filters turning one still into ``frames`` frames of ``move`` at ``size``.

    The still is scaled once to :data:`ZOOM` times ``size`` and converted by ``to_yuv``,
    then a ``size`` window glides over it: a per-frame crop, nearly as cheap as holding the
    still (zoompan, or a per-frame scale, made the whole render five times slower). A push
    in glides from the centre towards the anchor, a pull out back to the centre.
    """
    w, h = size
    big_w, big_h = zoomed_size(size)
    span = max(1, frames - 1)

    def ramp(a: float, b: float) -> str:
        return f"({a:.4f}+({b - a:.4f})*n/{span})"

    return (
        f"scale={big_w}:{big_h}:flags=bicubic,{to_yuv},loop=loop={frames - 1}:size=1:start=0,"
        f"crop={w}:{h}:x='(iw-{w})*{ramp(move.a0[0], move.a1[0])}'"
        f":y='(ih-{h})*{ramp(move.a0[1], move.a1[1])}'"
    )


def draw_plain(size: tuple[int, int], picture: Image.Image) -> Image.Image:
    """``picture`` fitted into ``size``, letterboxed on black, with nothing drawn over it."""
    image = Image.new("RGB", size, (0, 0, 0))
    fit = letterbox(picture.size, size)
    resized = picture.resize((fit.w, fit.h), Image.Resampling.LANCZOS, reducing_gap=2.0)
    image.paste(resized, (fit.x, fit.y))
    return image


def draw_panel(
    size: tuple[int, int], picture: Image.Image | None, label: str, meta: str, prompt: str
) -> Image.Image:
    """The picture (or black) with a large panel: ``label`` (scene · take), ``meta`` (shot
    and timing) and the prompt, readable at a glance."""
    image = draw_plain(size, picture) if picture is not None else Image.new("RGB", size)
    w, h = size
    unit = min(w, h) / 1080
    margin = round(max(w, h) * 0.09)
    box = (margin, round(h * 0.42), w - margin, h - margin)
    draw = ImageDraw.Draw(image, "RGBA")
    draw.rounded_rectangle(box, radius=round(26 * unit), fill=(8, 10, 18, 242))
    pad = round(34 * unit)
    inner_w = box[2] - box[0] - 2 * pad
    title, small = _font(round(64 * unit)), _font(round(36 * unit))
    y = box[1] + pad
    _line(draw, (box[0] + pad, y), label, title, inner_w, _TEXT)
    meta_font_h = round(64 * unit * 1.3)
    _line(draw, (box[0] + pad, y + meta_font_h), meta, small, inner_w, _ACCENT)
    top = y + meta_font_h + round(36 * unit * 1.6)
    area = (inner_w, box[3] - pad - top)
    sizes = range(round(58 * unit), max(8, round(28 * unit)) - 1, -2)
    text = _safe(prompt.strip()) or "(no prompt)"
    fitted = fit_text(text, lambda n: lambda s: _width(_font(n), s), area, sizes)
    font = _font(fitted.size)
    for line in fitted.lines:
        draw.text((box[0] + pad, top), line, font=font, fill=_TEXT)
        top += fitted.line_height
    return image


def _line(
    draw: ImageDraw.ImageDraw,
    at: tuple[int, int],
    text: str,
    font: Font,
    width: int,
    fill: tuple[int, int, int],
) -> None:
    shown = ellipsize(_safe(text), lambda s: _width(font, s), width)
    draw.text(at, shown, font=font, fill=fill)
