"""The edit section of a storyboard: order, trims, transitions, titles, music, loudness.

Plain data (pydantic models) until rendered; the storyboard spec embeds :class:`Edit`
under ``edit:`` and :class:`Output` under ``output:``.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from PIL import ImageColor
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

__all__ = [
    "EXPORT_FORMATS",
    "Conform",
    "Edit",
    "ExportFormat",
    "Loudness",
    "Music",
    "Output",
    "Overlay",
    "Seconds",
    "SlideDirection",
    "SpecModel",
    "Subtitles",
    "Title",
    "TitleStyle",
    "Transition",
    "TransitionType",
    "Trim",
    "X264Preset",
    "frame_size_problem",
]

TransitionType = Literal["cut", "crossfade", "fade", "slide"]
SlideDirection = Literal["left", "right", "up", "down"]
Conform = Literal["pad", "crop"]
TitleStyle = Literal["center", "lower_third", "end_card"]
ExportFormat = Literal["fcp7xml", "fcpxml", "edl", "aaf", "otio"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("fcp7xml", "fcpxml", "edl", "aaf", "otio")
FontFile = Annotated[str, Field(min_length=1, max_length=4096)]
X264Preset = Literal[
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"
]
MAX_TITLE_CHARS = 500
"""Longest title text: a title is read in seconds, and its image must fit a frame."""
MAX_FRAME_SIDE = 7680
"""Largest output width or height (8K); Kling delivers at most 1080p."""


def _number(*, ge: float | None = None, gt: float | None = None, le: float | None = None) -> Any:
    """Strict, finite number constraints: true/false, text, inf and NaN are refused."""
    return Field(strict=True, allow_inf_nan=False, ge=ge, gt=gt, le=le)


MAX_SECONDS = 24 * 3600
"""Longest time anywhere in an edit (a day): far beyond any edit, far from float overflow."""
Seconds = Annotated[float, _number(ge=0, le=MAX_SECONDS)]
Whole = Annotated[int, Field(strict=True)]


def frame_size_problem(size: tuple[int, int]) -> str | None:
    """Why ``size`` can't be an H.264 yuv420p frame size, or None when it can."""
    width, height = size
    if min(width, height) < 16 or max(width, height) > MAX_FRAME_SIDE:
        return f"size {list(size)}: width and height must be 16-{MAX_FRAME_SIDE} pixels"
    if width % 2 or height % 2:
        return f"size {list(size)}: width and height must be even (yuv420p)"
    return None


def _known_colour(value: str) -> str:
    """``value`` if Pillow knows the colour (a CSS name or #rrggbb)."""
    try:
        ImageColor.getrgb(value)
    except ValueError:
        raise ValueError(f"unknown colour {value!r}: use a CSS colour name or #rrggbb") from None
    return value


Colour = Annotated[str, AfterValidator(_known_colour)]


class SpecModel(BaseModel):
    """Base of the storyboard file's models (spec, edit, sources): unknown keys ignored,
    fields given by name or by alias, instances immutable."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Transition(SpecModel):
    """How one scene hands over to the next."""

    between: tuple[str, str] = Field(
        description="The two adjacent scene ids, outgoing then incoming, e.g. [wake-up, chase]."
    )
    type: TransitionType = Field(
        "crossfade",
        description="cut (hard cut), crossfade (dissolve), fade (fade through black), or "
        "slide (the incoming scene slides in over the outgoing one; rendered by moviepy).",
    )
    duration: Annotated[float, _number(gt=0, le=5)] = Field(
        0.5, description="Length of the transition in seconds (ignored for a cut)."
    )
    direction: SlideDirection = Field(
        "left",
        description="slide only: the way the incoming scene moves (left: it enters from "
        "the right edge).",
    )


class Trim(SpecModel):
    """Which part of a scene's clip goes into the edit."""

    start: Seconds = Field(0.0, alias="in", description="Seconds cut from the clip's head.")
    end: Seconds | None = Field(
        None, alias="out", description="Clip time (s) where the scene ends; omitted = clip end."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Trim:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"trim out ({self.end}) must be after trim in ({self.start})")
        return self


class Title(SpecModel):
    """Text over the picture on a plate: a centred title, a lower-third or an end card."""

    text: str = Field(
        min_length=1,
        max_length=MAX_TITLE_CHARS,
        description=f"The text to show (at most {MAX_TITLE_CHARS} characters); newlines start "
        "new lines.",
    )
    start: Seconds = Field(
        0.0, description="When it appears, in seconds from the edit start (or from `scene`)."
    )
    duration: Annotated[float, _number(gt=0, le=MAX_SECONDS)] = Field(
        3.0, description="How long it stays (s)."
    )
    scene: str | None = Field(
        None, description="Optional scene id: `start` is then counted from that scene's start."
    )
    style: TitleStyle = Field(
        "center",
        description="center: large, centred on a plate; lower_third: name band, bottom left; "
        "end_card: large, upper middle, for the closing card (`title` = center).",
    )
    font: FontFile | None = Field(
        None,
        description="A .ttf/.otf/.ttc file for the text; default: a system font that has "
        "every glyph (fontconfig), else Pillow's bundled font.",
    )
    size: Annotated[float, _number(gt=0, le=0.5)] | None = Field(
        None,
        description="Text height as a fraction of the frame's short side (default by style).",
    )
    color: Colour = Field("#ffffff", description="Text colour (CSS name or #rrggbb).")
    fade: Seconds = Field(0.3, description="Fade in/out time of the text (s).")

    @field_validator("style", mode="before")
    @classmethod
    def _old_style_name(cls, value: object) -> object:
        return "center" if value == "title" else value

    @field_validator("text")
    @classmethod
    def _visible(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a title needs some visible text")
        return value


class Subtitles(SpecModel):
    """Subtitles from the shots' `dialogue`: .srt/.vtt sidecars, optionally burned in."""

    burn_in: StrictBool = Field(False, description="Also draw the lines into the picture.")
    style: Literal["plate", "outline"] = Field(
        "plate", description="plate: text on a translucent dark plate; outline: outlined text."
    )
    size: Annotated[float, _number(ge=0.02, le=0.12)] = Field(
        0.045, description="Text height as a fraction of the frame's short side."
    )
    font: FontFile | None = Field(
        None, description="A .ttf/.otf/.ttc file; default: a system font with every glyph."
    )
    color: Colour = Field("#ffffff", description="Text colour (CSS name or #rrggbb).")


Fraction01 = Annotated[float, Field(ge=0, le=1)]


class Overlay(SpecModel):
    """An image (logo, watermark) or another scene (picture-in-picture) over the edit.

    Rendered by moviepy, only in the frames it covers; the rest of the edit keeps the
    stream-copy and smart-render paths.
    """

    image: str | None = Field(None, description="Image file (PNG with alpha, JPG, ...).")
    scene: str | None = Field(
        None, description="A scene id shown as picture-in-picture (its sound is not used)."
    )
    position: tuple[Fraction01, Fraction01] = Field(
        (0.5, 0.5),
        description="Centre of the overlay as fractions of the frame [x, y]; [0, 0] is the "
        "top left corner.",
    )
    width: Annotated[float, Field(gt=0, le=1)] = Field(
        0.25, description="Width as a fraction of the frame width (height keeps the aspect)."
    )
    opacity: Fraction01 = Field(1.0, description="1 opaque, 0 invisible.")
    start: Seconds = Field(0.0, description="When it appears, in seconds from the edit start.")
    end: Seconds | None = Field(None, description="When it goes; omitted = the edit's end.")
    fade_in: Seconds = Field(0.0, description="Fade-in time (s).")
    fade_out: Seconds = Field(0.0, description="Fade-out time (s).")

    @model_validator(mode="after")
    def _one_source(self) -> Overlay:
        if (self.image is None) == (self.scene is None):
            raise ValueError("an overlay needs either `image` or `scene`, not both or neither")
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"overlay end ({self.end}) must be after start ({self.start})")
        return self


class Music(SpecModel):
    """A music bed under the whole edit."""

    path: str = Field(description="Audio file (mp3, wav, m4a, ...), relative to the storyboard.")
    volume: Annotated[float, _number(ge=0, le=2)] = Field(
        0.5, description="Linear gain of the music (1.0 = unchanged)."
    )
    fade_in: Seconds = Field(1.0, description="Fade-in time at the start of the edit (s).")
    fade_out: Seconds = Field(2.0, description="Fade-out time before the end of the edit (s).")
    duck: StrictBool = Field(
        True, description="Lower the music under the generated sound (sidechain ducking)."
    )
    duck_level: Annotated[float, _number(ge=0, le=1)] = Field(
        0.35, description="Music gain while ducked, relative to `volume`."
    )


class Loudness(SpecModel):
    """Loudness normalisation of the final mix (EBU R128 / ffmpeg loudnorm)."""

    enabled: StrictBool = Field(True, description="Normalise the final mix.")
    target: Annotated[float, _number(ge=-70, le=-5)] = Field(
        -14.0, description="Integrated loudness target in LUFS (-14 suits web delivery)."
    )
    true_peak: Annotated[float, _number(ge=-9, le=0)] = Field(
        -1.0, description="True-peak ceiling in dBTP."
    )


class Edit(SpecModel):
    """How the generated clips are assembled into the final video."""

    order: list[str] | None = Field(
        None,
        min_length=1,
        description="Explicit scene order for the edit (at least one scene); default: "
        "storyboard order.",
    )
    trims: dict[str, Trim] = Field(
        default_factory=dict, description="Per-scene trims, keyed by scene id: {in: s, out: s}."
    )
    transitions: list[Transition] = Field(
        default_factory=list, description="Transitions between adjacent scenes; default cut."
    )
    titles: list[Title] = Field(default_factory=list, description="Titles and lower-thirds.")
    overlays: list[Overlay] = Field(
        default_factory=list, description="Logos, watermarks and picture-in-picture."
    )
    music: Music | None = Field(None, description="Optional music bed.")
    sound: StrictBool = Field(True, description="Keep the generated sound of the clips.")
    loudness: Loudness = Field(default_factory=Loudness, description="Final mix loudness.")
    subtitles: Subtitles = Field(
        default_factory=Subtitles, description="Subtitle sidecars and burn-in from `dialogue`."
    )
    exports: list[ExportFormat] = Field(
        default_factory=list,
        max_length=len(EXPORT_FORMATS),
        description="Editor hand-offs written with every render: fcp7xml (Premiere, Resolve), "
        "fcpxml (Final Cut Pro), edl (CMX 3600), aaf (Avid), otio. Needs storyboard[nle].",
    )

    review_burn_in: bool | None = Field(
        None,
        description="Burn scene id, shot, take and timecode into the edit (for review); "
        "default: on for offline renders, off on kie.ai.",
    )

    @field_validator("exports")
    @classmethod
    def _unique_exports(cls, value: list[ExportFormat]) -> list[ExportFormat]:
        repeated = sorted({f for f in value if value.count(f) > 1})
        if repeated:
            raise ValueError(f"export format(s) listed twice: {', '.join(repeated)}")
        return value


class Output(SpecModel):
    """Where the edit is written, and how it is encoded."""

    path: str = Field(
        "out/{title}.mp4",
        description="Output file, relative to the storyboard; {title} is the slugified title.",
    )
    size: tuple[Whole, Whole] | None = Field(
        None,
        description=f"Output [width, height], even, 16-{MAX_FRAME_SIDE} px; default: the "
        "first clip's size.",
    )
    conform: Conform = Field(
        "pad", description="Clips of another aspect ratio: pad (letterbox) or crop (fill)."
    )
    fps: Annotated[int, Field(strict=True, ge=1, le=120)] = Field(
        24, description="Output frame rate."
    )
    codec: Literal["h264"] = Field("h264", description="Video codec (H.264, yuv420p).")
    crf: Annotated[int, Field(strict=True, ge=0, le=51)] = Field(
        20, description="x264 quality when re-encoding (lower = better, larger)."
    )
    preset: X264Preset = Field(
        "veryfast", description="x264 preset when re-encoding (ultrafast ... veryslow)."
    )
    audio_bitrate: str = Field(
        "192k", description="AAC bitrate of the final mix, 32k-512k (e.g. 128k, 192k)."
    )
    fast_path: StrictBool = Field(
        True, description="Stream-copy what needs no re-encode (cuts-only, smart render)."
    )

    @field_validator("path")
    @classmethod
    def _mp4(cls, value: str) -> str:
        if PurePosixPath(value).suffix.lower() not in {".mp4", ".mov", ".m4v"}:
            raise ValueError("output path must end in .mp4, .mov or .m4v")
        return value

    @field_validator("size")
    @classmethod
    def _frame_size(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and (problem := frame_size_problem(value)):
            raise ValueError(problem)
        return value

    @field_validator("audio_bitrate", mode="before")
    @classmethod
    def _bitrate(cls, value: Any) -> Any:
        match = re.fullmatch(r"(\d{2,3})k", value) if isinstance(value, str) else None
        if match is None or not 32 <= int(match[1]) <= 512:
            raise ValueError(f"audio bitrate {value!r}: write kilobits per second, 32k-512k")
        return value
