"""Every constant and limit of Kling 3.0 on kie.ai, in one place.

The modes, aspect ratios, durations and resolutions are declared once here; the request
models, the storyboard format, the asset checks and the animatic all read them from
this module. :class:`KlingLimits` is the overridable table the rules check against.

Limits marked *seed* come from the provider's createTask contract; *live service* ones
from recorded kie.ai traffic (shared/kie-real-traffic.md); the others are reported by
other hosts of the same model and are checked as warnings by default
(``strict_host_limits=True`` makes them errors).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

__all__ = [
    "ASPECT_RATIOS",
    "DEFAULT_LIMITS",
    "LIVE_MODES",
    "MODEL",
    "MODES",
    "SEED_MODES",
    "SHORT_SIDES",
    "SHOT_SECONDS",
    "TOTAL_SECONDS",
    "AspectRatio",
    "KlingLimits",
    "Mode",
    "ModelName",
    "aspect_shape",
    "choices_text",
]

ModelName = Literal["kling-3.0/video"]
"""The model name; the seed's schema enum (its prose examples say ``kling-3.0``)."""
MODEL: ModelName = "kling-3.0/video"  # mypy holds it to ModelName

SeedMode = Literal["std", "pro"]
"""The modes of the seed's enum: std renders 720p, pro 1080p."""
LiveMode = Literal["4K"]
"""Modes the live service accepts outside the seed's enum (2160p)."""
Mode = Literal[SeedMode, LiveMode]
AspectRatio = Literal["16:9", "9:16", "1:1"]

SEED_MODES: tuple[str, ...] = get_args(SeedMode)
LIVE_MODES: tuple[str, ...] = get_args(LiveMode)
MODES: tuple[str, ...] = get_args(Mode)
ASPECT_RATIOS: tuple[str, ...] = get_args(AspectRatio)
TOTAL_SECONDS = (3, 15)
"""Range of ``input.duration`` (seed: "3".."15" seconds)."""
SHOT_SECONDS = (1, 12)
"""Range of one multi-shot prompt's duration (seed)."""
SHORT_SIDES: dict[str, int] = {"std": 720, "pro": 1080, "4K": 2160}
"""Short side in pixels of a clip of each mode."""


def choices_text(choices: tuple[str, ...]) -> str:
    """``"16:9, 9:16 or 1:1"``: choices as prose (field descriptions, messages)."""
    return f"{', '.join(choices[:-1])} or {choices[-1]}" if len(choices) > 1 else choices[0]


def aspect_shape(ratio: str) -> tuple[int, int]:
    """``"16:9"`` -> ``(16, 9)``."""
    width, _, height = ratio.partition(":")
    return int(width), int(height)


@dataclass(frozen=True)
class KlingLimits:
    """Limits of one Kling 3.0 generation."""

    total_duration: tuple[int, int] = TOTAL_SECONDS  # seed
    shot_duration: tuple[int, int] = SHOT_SECONDS  # seed
    shot_prompt_chars: int = 500  # seed: each multi_prompt prompt
    element_images: tuple[int, int] = (2, 4)  # seed
    element_videos: tuple[int, int] = (1, 1)  # seed
    element_image_min_px: int = 300  # seed: at least 300x300
    element_image_max_bytes: int = 10 * 1024 * 1024  # seed: 10 MB
    element_video_max_bytes: int = 50 * 1024 * 1024  # seed: 50 MB
    frame_image_formats: frozenset[str] = frozenset({"jpg", "jpeg", "png"})  # seed
    element_image_formats: frozenset[str] = frozenset({"jpg", "jpeg", "png"})  # seed
    element_video_formats: frozenset[str] = frozenset({"mp4", "mov"})  # seed
    aspect_ratios: tuple[str, ...] = ASPECT_RATIOS  # seed
    modes: tuple[str, ...] = SEED_MODES  # seed
    live_modes: tuple[str, ...] = LIVE_MODES  # live service: accepted, outside the seed's enum
    element_description_chars: int = 100  # live service: a 422 beyond (kie-real-traffic.md)
    max_shots: int = 6  # other hosts (5 or 6); an error: a 7-shot request is refused there
    single_prompt_chars: int = 2500  # other hosts; an error: a longer prompt is refused there
    # Other hosts of the same model (warnings unless strict_host_limits):
    max_elements: int = 3
    strict_host_limits: bool = False
    resolutions: dict[str, int] = field(default_factory=lambda: dict(SHORT_SIDES))


DEFAULT_LIMITS = KlingLimits()
