"""Take a storyboard's edit as a moviepy clip, add your own effect, write it with moviepy.

    storyboard render examples/compositing.yaml      # offline it is free: an animatic
    python examples/python/own_effect.py examples/compositing.yaml out/vignette.mp4

``to_moviepy`` generates nothing: it lays out the clips already generated (trims, cuts,
crossfades, fades, titles, overlays, effects) with the same timeline as ``storyboard
render``, and carries the finished sound track (music, loudness) as its audio.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from moviepy import Effect

from storyboard.edit import to_moviepy


@dataclass
class Vignette(Effect):
    """Darken the corners: a moviepy 2.x effect is a class with ``apply(clip)``."""

    strength: float = 0.6

    def apply(self, clip):  # type: ignore[no-untyped-def]
        w, h = clip.size
        y, x = np.ogrid[-1 : 1 : h * 1j, -1 : 1 : w * 1j]
        gain = (1 - self.strength * np.clip(x**2 + y**2 - 0.3, 0, 1))[..., None]
        return clip.image_transform(lambda frame: (frame * gain).astype("uint8"))


def main(storyboard: str, out: str) -> None:
    edit = to_moviepy(storyboard)
    try:
        edit.with_effects([Vignette()]).write_videofile(
            out,
            fps=edit.fps,
            codec="libx264",
            audio_codec="aac",  # moviepy's default for .mp4 is MP3
            audio_fps=48_000,  # its default resamples to 44.1 kHz
            temp_audiofile_path=str(Path(out).parent),  # not the current folder
            logger=None,
        )
    finally:
        edit.close()


if __name__ == "__main__":
    main(*sys.argv[1:3])
