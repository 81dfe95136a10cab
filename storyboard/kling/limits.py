"""Every numeric and format limit of Kling 3.0 on kie.ai, in one overridable table.

Limits marked *seed* come from the provider's createTask contract; *live service* ones
from recorded kie.ai traffic (shared/kie-real-traffic.md); the others are reported by
other hosts of the same model and are checked as warnings by default
(``strict_host_limits=True`` makes them errors).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DEFAULT_LIMITS", "KlingLimits"]


@dataclass(frozen=True)
class KlingLimits:
    """Limits of one Kling 3.0 generation."""

    total_duration: tuple[int, int] = (3, 15)  # seed: "3".."15" seconds
    shot_duration: tuple[int, int] = (1, 12)  # seed: per multi-shot prompt
    shot_prompt_chars: int = 500  # seed: each multi_prompt prompt
    element_images: tuple[int, int] = (2, 4)  # seed
    element_videos: tuple[int, int] = (1, 1)  # seed
    element_image_min_px: int = 300  # seed: at least 300x300
    element_image_max_bytes: int = 10 * 1024 * 1024  # seed: 10 MB
    element_video_max_bytes: int = 50 * 1024 * 1024  # seed: 50 MB
    frame_image_formats: frozenset[str] = frozenset({"jpg", "jpeg", "png"})  # seed
    element_image_formats: frozenset[str] = frozenset({"jpg", "jpeg", "png"})  # seed
    element_video_formats: frozenset[str] = frozenset({"mp4", "mov"})  # seed
    aspect_ratios: tuple[str, ...] = ("16:9", "9:16", "1:1")  # seed
    modes: tuple[str, ...] = ("std", "pro")  # seed
    live_modes: tuple[str, ...] = ("4K",)  # live service: accepted, outside the seed's enum
    element_description_chars: int = 100  # live service: a 422 beyond (kie-real-traffic.md)
    max_shots: int = 6  # other hosts (5 or 6); an error: a 7-shot request is refused there
    single_prompt_chars: int = 2500  # other hosts; an error: a longer prompt is refused there
    # Other hosts of the same model (warnings unless strict_host_limits):
    max_elements: int = 3
    strict_host_limits: bool = False
    resolutions: dict[str, int] = field(
        default_factory=lambda: {"std": 720, "pro": 1080, "4K": 2160}
    )


DEFAULT_LIMITS = KlingLimits()
