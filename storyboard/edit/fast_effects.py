"""Cheaper frame functions for moviepy effects whose pictures have a fast exact form.

moviepy's colour effects work on float64 copies of every frame: ``BlackAndWhite`` costs
about 0.23 s per 1080p frame (three float planes, then ``np.dstack``), far more than
decoding the frame. The forms here give the same pictures at a fraction of the cost, and
are still moviepy effects (``apply(clip)`` with an ``image_transform``):

- :class:`ChannelMix` (``BlackAndWhite``): the weighted sum of R, G and B by Pillow's
  matrix conversion, truncated like moviepy's ``astype("uint8")``; within one level of
  moviepy's result (float32 against float64 sums);
- :class:`ValueTable` (``GammaCorrection``, ``LumContrast``, ``MultiplyColor``): effects
  that map each channel value on its own become a lookup table, computed by the effect
  itself on a 256-value ramp, so the result is moviepy's, value for value.

:func:`fast_form` picks the form for an effect instance, or returns it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from moviepy import Effect, ImageClip
from PIL import Image

__all__ = ["PER_VALUE_EFFECTS", "ChannelMix", "ValueTable", "fast_form"]

Frame = npt.NDArray[np.uint8]

PER_VALUE_EFFECTS = frozenset({"GammaCorrection", "LumContrast", "MultiplyColor"})
"""moviepy effects whose output value depends only on the same channel's input value."""

_CRT_PHOSPHOR = (0.2125, 0.7154, 0.0721)
"""``BlackAndWhite(RGB="CRT_phosphor")``'s weights (moviepy.video.fx.BlackAndWhite)."""


def _rgb(frame: Frame) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(frame[..., :3], dtype=np.uint8))


@dataclass
class ChannelMix(Effect):  # type: ignore[misc]  # moviepy is untyped
    """Grey = ``weights`` · (R, G, B), truncated to 0..255, on all three channels."""

    weights: tuple[float, float, float]

    def apply(self, clip: Any) -> Any:
        matrix = (*self.weights, -0.5)  # Pillow adds 0.5 and truncates: net truncation

        def grey(frame: Frame) -> Frame:
            return np.asarray(_rgb(frame).convert("L", matrix).convert("RGB"))

        return clip.image_transform(grey)


@dataclass
class ValueTable(Effect):  # type: ignore[misc]
    """A per-value effect applied as the lookup table it produces on a ramp."""

    effect: Any

    def table(self) -> list[int]:
        """768 entries: the effect's output for R = 0..255, then G, then B."""
        ramp = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2)
        done = self.effect.copy().apply(ImageClip(ramp, duration=1)).get_frame(0)
        return [int(v) for channel in range(3) for v in np.asarray(done)[0, :, channel]]

    def apply(self, clip: Any) -> Any:
        lut = self.table()
        return clip.image_transform(lambda frame: np.asarray(_rgb(frame).point(lut)))


def _black_and_white(effect: Any) -> Any:
    rgb, keep = effect.RGB, effect.preserve_luminosity
    if rgb is not None and rgb != "CRT_phosphor":
        return effect  # moviepy's own, and its own error
    weights = np.array(_CRT_PHOSPHOR if rgb else (1.0, 1.0, 1.0))
    weights = weights / (weights.sum() if keep else 1.0)
    return ChannelMix((float(weights[0]), float(weights[1]), float(weights[2])))


def fast_form(name: str, effect: Any) -> Any:
    """The cheaper equivalent of moviepy effect ``name`` (``effect``), or ``effect``."""
    if name == "BlackAndWhite":
        return _black_and_white(effect)
    if name in PER_VALUE_EFFECTS:
        return ValueTable(effect)
    return effect
