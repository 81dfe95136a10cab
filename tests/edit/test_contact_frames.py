"""Contact-sheet thumbnails show the frame they claim, by the cheapest decode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from storyboard.edit.contact import KEYFRAME_ONLY, thumbnail_args, thumbnail_plan
from storyboard.edit.probe import probe_clip
from storyboard.edit.timeline import Timeline
from storyboard.media.ffmpeg import run_ffmpeg

from .edit_media import frame_counter


@pytest.mark.parametrize(
    ("clip", "wanted", "shown"),
    [
        ("a0", 0, 0),  # 1 s GOPs: a keyframe, exactly
        ("a0", 27, 27),  # 3 frames past keyframe 24: decoded exactly
        ("a0", 71, 48),  # far past keyframe 48: the keyframe itself
        ("x0", 71, 0),  # x264 defaults, one IDR: the IDR
    ],
)
def test_each_thumbnail_shows_its_frame(
    media: dict[str, Path], tmp_path: Path, clip: str, wanted: int, shown: int
) -> None:
    info = probe_clip(media[clip])
    thumb = thumbnail_plan(info.keyframes, wanted)
    assert thumb.shown == shown
    out = tmp_path / "t.bmp"
    timeline = Timeline(fps=24, width=320, height=180, conform="pad", scenes=())
    args = thumbnail_args([(info, thumb, out)], (320, 180), timeline)
    assert (KEYFRAME_ONLY in args) == (thumb.lead == 0)  # a keyframe: one packet decoded
    run_ffmpeg(["-v", "error", *args])
    with Image.open(out) as image:
        assert frame_counter(np.asarray(image.convert("RGB"))) == shown
